"""Named schools, academies, nurseries, pre-schools and colleges: "St Mary's Primary", "Oakfield
Academy", "Little Acorns Nursery", "Hillside Primary School", "Our Lady of Lourdes Catholic Primary".

A school's own name must come before the head words: "the school", "primary school", "his new
nursery", "a special school", "sixth form college" name no school and stay. Name words are
capitalised ("Oakfield", "St", "Mary's", "King Edward VI"), with "of", "the", "and", "&", "de",
"upon" allowed inside; a lower-case name word counts only when it is in no dictionary
("oakfield primary school") or follows "st"/"saint" ("st marys primary").
The bare heads "Primary", "High", "Infants" and "Juniors" need a capitalised name before them
("Oakwood Primary", "Oakfield High"); "High Court" is never a school.
"""
from __future__ import annotations

import re
from typing import List

from spacy.lang.en.stop_words import STOP_WORDS

from bot.redact.lexicon import DAYS, KIN, MONTHS, ROLES, get_lexicon
from bot.redact.spans import SCHOOL, Span

# Words of the kind of school between its name and the head ("Catholic Primary School").
_KIND = (
    r"(?:c\.?\s?of\s?e\.?|cofe|ce|c\.?e\.?|rc|r\.c\.|catholic|roman\s+catholic|church\s+of\s+england|church|methodist"
    r"|community|free|special|primary|infants?|junior|juniors|secondary|grammar|high|middle|upper|lower|first"
    r"|sixth\s+form|day|independent|preparatory|prep|montessori|nursery|academy|technical|studio|university"
    r"|girls'?|boys'?|endowed|foundation|voluntary|controlled|aided|federated)"
)
_FULL_HEAD = r"(?:school|schools|academy|college|nursery|pre-?\s?school|playgroup|kindergarten)"
_BARE_HEAD = r"(?:primary|high|infants|juniors)"
_HEAD = re.compile(
    rf"\b(?:{_KIND}\s+)*(?:(?P<full>{_FULL_HEAD})|(?P<bare>{_BARE_HEAD}))\b(?!-)",
    re.IGNORECASE,
)
_PLACE_AFTER = re.compile(r"[ \t]+([A-Z][a-z]+(?:[ -][A-Z][a-z]+)?)\b")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z'.-]*|&)\s*$")
_INNER = frozenset({"of", "the", "and", "&", "de", "upon", "on", "in", "le", "la"})
_SAINT = frozenset({"st", "st.", "saint", "sts", "ss"})
_ROMAN = re.compile(r"^(?:I{1,3}|IV|VI{0,3}|IX|X)$")
# Words that say what sort of school, not which one ("forest school", "sunday school").
_GENERIC = frozenset(
    """the a an my his her their our your its this that these those new old local nearby current previous
    last next same other another different main nearest good best bad nice big little small secondary
    primary special high junior infant infants nursery pre private state boarding grammar catholic church
    faith village mainstream sen send ebd pru forest sunday driving dance music language art drama summer
    holiday after breakfast night evening day comprehensive free independent residential specialist
    alternative local area county council city town public religious christian muslim jewish islamic
    hindu sikh welsh english scottish irish international home sixth form further higher education fe
    medical training police nursing college university any some every each which what whose one two
    three first second third middle upper lower autism autistic disability disabled behaviour pupil
    referral unit hospital young children kids boys girls baby toddler preschool pre-school needs learning
    support resource base provision ehcp asd adhd mld sld semh pmld ld virtual""".split()
) | KIN | ROLES | DAYS | MONTHS


def find_schools(text: str) -> List[Span]:
    lower_text = text.lower()
    if not any(w in lower_text for w in ("school", "academy", "college", "nursery", "primary", "high", "infants",
                                          "juniors", "playgroup", "kindergarten")):
        return []
    spans = []
    for head in _HEAD.finditer(text):
        start = _name_start(text, head.start(), bare=head.group("bare") is not None)
        if start is None:
            continue
        if head.group("bare") and re.match(r"\s+court\b", text[head.end():], re.IGNORECASE):
            continue  # "the High Court"
        end = head.end()
        # "The Priory School": a capital "The" right before the name is part of it.
        if text[max(0, start - 4):start] == "The ":
            start -= 4
        # "Harris Academy Peckham", "Ark Academy Wembley": a capitalised place name after the head.
        after = _PLACE_AFTER.match(text, end)
        if after and head.group("full") and after.group(1).lower() in get_lexicon().places:
            end = after.end()
        spans.append(Span(start, end, SCHOOL, 0.9 if head.group("full") else 0.8))
    return spans


def _name_start(text: str, position: int, bare: bool):
    """Start of the school's own name just before `position`, or None if there is none."""
    words = []  # (offset, word), nearest the head first
    cursor = position
    while len(words) < 7:
        match = _WORD_BEFORE.search(text, 0, cursor)
        if not match or text[match.end(1):cursor].strip(" \t"):
            break
        words.append((match.start(1), match.group(1)))
        cursor = match.start(1)
    start = None
    named = False
    for index, (offset, word) in enumerate(words):
        lower = word.lower().rstrip(".")
        outer = words[index + 1][1].lower().rstrip(".") if index + 1 < len(words) else ""
        inner = words[index - 1][1].lower() if index > 0 else ""
        bare_word = re.sub(r"'s?$", "", lower)
        if lower in _INNER:
            if not named:
                break
            continue  # kept only if a name word comes before it (trimmed below otherwise)
        if lower in _SAINT:
            if index == 0:
                break  # "St School"
            start, named = offset, True
            continue
        if bare_word != lower and index == 0 and outer not in _SAINT:
            break  # "Jayden's school": whose school, not which
        if word[:1].isupper():
            if lower == "our" and inner == "lady":
                start = offset
                continue
            if lower in STOP_WORDS or bare_word in KIN or bare_word in ROLES:
                break
            if _ROMAN.match(word) or bare_word not in _GENERIC:
                named = True
            start = offset
            continue
        # A lower-case word: after "st", or a word in no dictionary before a full head.
        if outer in _SAINT or (
            not bare and len(bare_word) > 2 and bare_word not in _GENERIC and bare_word not in STOP_WORDS
            and not get_lexicon().is_word(bare_word)
        ):
            start, named = offset, True
            continue
        break
    if start is None or not named:
        return None
    # A name does not start with a joining word ("of Lourdes Primary"): move to the first real one.
    while True:
        match = re.match(r"([A-Za-z&][A-Za-z'.-]*)\s+", text[start:position])
        if match and match.group(1).lower() in _INNER:
            start += match.end()
        else:
            break
    if bare and not (text[start:start + 1].isupper() or text[start:start + 2].lower() == "st"):
        return None
    return start
