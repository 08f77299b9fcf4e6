"""People's names, found from context, capitalisation and the ONS first names list; no statistical model.

Evidence, strongest first (scores in brackets):
- a slot that announces a name: a title ("Mrs Okafor", "Dr Patel", "Nanny Pat") [0.9], a
  relationship or role ("my son Jayden", "her dad Tomasz", "the social worker Mark",
  "cafcass officer Sandeep") [0.9], an introduction ("I'm Sharon", "my name is", "is called") [0.9];
- a name-shaped phrase around a word: "Jayden's school", "Jack's dad" [0.85], "Summer is 9",
  "Tyler was born", "Rose, my daughter", "Priya is my solicitor", "Leanne the social worker",
  "our Billy" [0.85];
- a capitalised word that is not an English word (by the lemma table, stop words and WordNet),
  not a place (council directory, countries), not a legal term, day or month [0.7, or 0.6 at the
  start of a sentence, where every word is capitalised];
- a capitalised ordinary word that is also a given name ("have Jack full time") alone in the middle
  of a sentence [0.6];
- then names spread: to the other names of a list ("Kayden and Mason", "Aaliyah, Zain and Maryam"),
  to a surname after a first name, and to every other mention of a name found once.
Lower-case names are only taken in a slot that announces a name ("my son jayden", "hi im kerry"),
when the word is not an English word, or is a word-name followed by what a name is followed by
("my niece rose has been").

The first names list (bot/redact/lexicon.py) tells two kinds of name apart:
- plain first names ("Laura", "Kwame", "Mason-Lee"), many of them in the dictionary too: taken like
  an unknown capitalised word, and in lower case wherever a name is said to stand;
- first names that are everyday words ("rose", "jack", "grace", "april", "summer"): only where the
  sentence puts a name - "my daughter rose", "called grace", "me and jack", "jack said", "rose's
  dad", "Mrs Summer", "nan to hope" - in any case, and capitalised alone mid-sentence; never
  elsewhere ("the rose garden", "April 2025", "by God's grace", "I hope so").
"""
from __future__ import annotations

import re
import threading
from typing import Dict, List, Optional, Sequence

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Token

from bot.redact.lexicon import (
    DAYS,
    DETERMINERS,
    DOMAIN_NOUNS,
    INSTITUTION_HEADS,
    KIN,
    LEGAL_AND_ORGANISATIONS,
    MONTHS,
    POSSESSED,
    POSSESSIVES,
    ROLES,
    TEXT_SPEAK,
    TITLE_CASE_ONLY,
    TITLES,
    WORD_NAMES,
    get_lexicon,
)
from bot.redact.nlp import get_nlp
from bot.redact.spans import ADDRESS, NAME, POSTCODE, Span

SLOT = 0.9
PHRASE = 0.85
UNKNOWN_WORD = 0.7
UNKNOWN_WORD_SENTENCE_START = 0.6
WORD_NAME_ALONE = 0.6
THRESHOLD = 0.5
FLOOR = 0.4  # weaker guesses are not kept at all

_NAMEISH = re.compile(r"^[^\W\d_]+(?:['-][^\W\d_]+)*$")
_SENTENCE_END = {".", "!", "?", "…", ":", ";", "..", "...", "!!", "!!!", "??", "?!", "|", "•", "*", "\""}
# What follows a name in a sentence ("rose has been", "jayden is 5", "kerry, ...").
_AFTER_NAME = frozenset(
    """is was has had 's s keeps kept and who aged age wants wanted said says lives lived goes went needs
    loves cant can't can wont won't will does doesnt doesn't did didnt didn't isnt isn't wasnt wasn't
    hasnt hasn't got gets came comes , . ! ? ) ( - : ; is' has'""".split()
)
_ADVERBS_BEFORE_AGE = frozenset("nearly only just now almost about currently turning aged age".split())
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen"
    " eighteen".split()
)
_UNITS = frozenset(
    """hours hour hrs minutes mins minute miles mile pounds quid pm am % weeks days months times percent
    k m km""".split()
)
_KIN_ADJECTIVES = frozenset(
    """little eldest oldest youngest younger older big baby new old late ex step middle twin other lovely
    beautiful gorgeous poor darling precious current previous first second third 2 3 4 5 two three four
    five own""".split()
)
_LIST_JOINERS = frozenset({",", "and", "&", "+", "n", "an"})
_SAINT = frozenset({"st", "st.", "saint"})
_PLACE_PREPOSITIONS = frozenset({"in", "near", "around", "outside", "nr"})
_SURNAME_TITLES = frozenset({"mr", "mrs", "ms", "mx", "dr", "hhj", "prof", "rev"})
# Verbs after which the word before is a person: "Laura said", "jack told me", "Grace rang".
_SPEECH_VERBS = frozenset(
    """said says told tells asked asks rang rung phoned called calls texted texts messaged emailed replied
    reckons thinks thought wants wanted promised agreed refused""".split()
)
_PLACE_BEFORE = frozenset({"from", "in", "near", "around", "outside", "at", "nr"})
# Verbs before "to" after which the word is a person: "spoke to sandra", "talking to Jack".
_TALK_TO = frozenset("spoke spoken speak speaks speaking talk talks talked talking chatted chatting".split())
# Words after which a plain first name (one that is no everyday word) is a person:
# "contact with lacey", "worried about freddie", "looking after harvey", "we've got connor".
_PERSON_PREP = frozenset("with about after for got collect collecting pick picking visit visiting see seeing saw".split())
_KIN_ADJ = frozenset("little big older younger baby half step twin".split())
# Verbs before "at" after which the word is a person: "he shouted at amelia", "screaming at Jack".
_SHOUT_AT = frozenset("shouted shouting shouts shout screamed screaming screams yelled yelling swore swearing "
                      "lashed hit hitting kicked smacked".split())
# "went to Paris", "moved back to Florence", "I'm from Sydney": after these, a word with only its
# capital to go on is a place (a town that is also a first name), not a person.
_TRAVEL = frozenset(
    """went go goes going gone moved move moves moving flew fly flies flying travel travelled traveled
    travelling traveling drove drive driving emigrated relocated relocating returned return returning
    holiday holidays trip trips ferry flight flights train bus back""".split()
)
_ORIGIN = frozenset({"'m", "m", "im", "are", "is", "we're", "were", "come", "comes", "came", "originally", "be", "am"})
# Words that are never a town, though they come right before a postcode: "postcode L4 0TH".
_NOT_TOWN = frozenset("postcode post code is was my our the of in at area".split())

_lock = threading.Lock()
_matchers: Optional[tuple] = None


def _get_matchers():
    global _matchers
    if _matchers is None:
        with _lock:
            if _matchers is None:
                _matchers = _build_matchers()
    return _matchers


def _build_matchers():
    nlp = get_nlp()
    lexicon = get_lexicon()
    places = PhraseMatcher(nlp.vocab, attr="LOWER")
    places.add("PLACE", list(nlp.tokenizer.pipe(sorted(lexicon.places))))

    triggers = Matcher(nlp.vocab)
    people = sorted(KIN | ROLES)
    # "my son", "her dad", "the social worker", "my little girl", "cafcass officer", "sw"
    triggers.add(
        "RELATION",
        [
            [{"LOWER": {"IN": sorted(POSSESSIVES | DETERMINERS | {"our"})}, "OP": "?"},
             {"LOWER": {"IN": sorted(_KIN_ADJECTIVES)}, "OP": "*"},
             {"LOWER": {"IN": people}}],
        ],
    )
    triggers.add("TITLE", [[{"LOWER": {"IN": sorted(TITLES)}}, {"ORTH": ".", "OP": "?"}]])
    triggers.add(
        "INTRO",
        [
            [{"LOWER": {"IN": ["name", "names", "name's"]}}, {"LOWER": {"IN": ["is", "'s", "s", ":", "-", "was"]}, "OP": "?"}],
            [{"LOWER": "i"}, {"LOWER": {"IN": ["'m", "m", "am"]}}],
            [{"LOWER": "this"}, {"LOWER": "is"}],
            [{"LOWER": {"IN": ["called", "named", "calls", "known"]}}, {"LOWER": "as", "OP": "?"}],
            [{"LOWER": {"IN": ["thanks", "thank", "regards", "cheers", "love", "hi", "hello", "dear", "hiya"]}},
             {"LOWER": "you", "OP": "?"}, {"ORTH": ",", "OP": "?"}],
            # "hi its Dawn again", "hello, it's Pat here"
            [{"LOWER": {"IN": ["hi", "hello", "hiya", "hey"]}}, {"ORTH": ",", "OP": "?"},
             {"LOWER": {"IN": ["its", "it"]}}, {"LOWER": {"IN": ["'s", "s", "is"]}, "OP": "?"}],
        ],
    )
    return places, triggers


class _Message:
    """Per-token facts about one message, and the name scores being built up."""

    def __init__(self, doc: Doc, blocked_chars: Sequence[Span]):
        self.doc = doc
        self.lexicon = get_lexicon()
        self.n = len(doc)
        # Token objects, texts, lower-case forms and shapes, made once: every rule reads them often.
        self.tokens: List[Token] = list(doc)
        self.texts: List[str] = [t.text for t in self.tokens]
        self.lowers: List[str] = [t.lower_ for t in self.tokens]
        self.shapes: List[str] = [_text_shape(text) for text in self.texts]
        self.scores: List[float] = [0.0] * self.n
        self.strong: List[bool] = [False] * self.n
        places, _ = _get_matchers()
        self.place: List[bool] = [False] * self.n
        for _, start, end in places(doc):
            for i in range(start, end):
                self.place[i] = True
        self.outside: List[bool] = [False] * self.n
        if blocked_chars:
            for span in blocked_chars:
                for token in doc.char_span(span.start, span.end, alignment_mode="expand") or ():
                    self.outside[token.i] = True
        self._town_slots(blocked_chars)
        # 2: a plain first name, 1: an everyday word often given as a name, 0: neither (lexicon.py)
        strength = self.lexicon.name_strength
        names = self.lexicon.first_names
        self.name_kind: List[int] = [
            strength(lower) if (lower in names or "-" in lower) and len(lower) > 1 else 0 for lower in self.lowers
        ]
        letters = [i for i, text in enumerate(self.texts) if len(text) > 1 and text.isalpha() and not self.outside[i]]
        titled = [i for i in letters if self.shapes[i] == "title"]
        # "My Son Jayden Was Taken": capitals say nothing when every word has one.
        self.title_cased = len(letters) >= 5 and len(titled) / len(letters) > 0.6

    def _town_slots(self, blocked: Sequence[Span]) -> None:
        # The word after "<address>," and the words before a postcode are a town.
        for span in blocked:
            if span.kind not in (ADDRESS, POSTCODE):
                continue
            tokens = self.doc.char_span(span.start, span.end, alignment_mode="expand")
            if tokens is None:
                continue
            if span.kind == ADDRESS:
                after = list(self.doc[tokens.end:tokens.end + 3])
                if after and after[0].text == ",":
                    after = after[1:]
                for token in after[:2]:
                    if _shape(token) in ("title", "upper", "lower") and token.text != ",":
                        self.place[token.i] = True
                    else:
                        break
            if span.kind == POSTCODE:
                before = list(self.doc[max(0, tokens.start - 2):tokens.start])
                for token in reversed(before):
                    if token.is_alpha and token.lower_ not in _NOT_TOWN:
                        self.place[token.i] = True
                    else:
                        break

    # --- facts about tokens ---
    def token(self, i: int) -> Optional[Token]:
        return self.tokens[i] if 0 <= i < self.n else None

    def lower(self, i: int) -> str:
        return self.lowers[i] if 0 <= i < self.n else ""

    def shape(self, i: int) -> str:
        return self.shapes[i] if 0 <= i < self.n else "other"

    def sentence_start(self, i: int) -> bool:
        texts = self.texts
        j = i - 1
        while j >= 0 and (texts[j].isspace() or texts[j] in ("(", "\"", "'", "-", "–", "—")):
            if "\n" in texts[j]:
                return True
            j -= 1
        return j < 0 or texts[j] in _SENTENCE_END or texts[j].endswith((".", "!", "?"))

    def nameish(self, i: int) -> bool:
        if not 0 <= i < self.n or self.outside[i]:
            return False
        text = self.texts[i]
        return len(text) >= 2 and bool(_NAMEISH.match(text))

    def never_a_name(self, i: int) -> bool:
        lower = self.lower(i)
        return (
            lower in DAYS
            or lower in LEGAL_AND_ORGANISATIONS
            or lower in TITLES
            or lower in KIN
            or lower in ROLES
            or lower in TEXT_SPEAK
            or lower.rstrip(".") in _SAINT
        )

    def after_saint(self, i: int) -> bool:
        return i > 0 and self.lowers[i - 1].rstrip(".") in _SAINT and self.shapes[i - 1] == "title"

    def institution_follows(self, i: int) -> bool:
        return i + 1 < self.n and self.lowers[i + 1] in INSTITUTION_HEADS and self.shapes[i + 1] in ("title", "lower")

    def word(self, i: int) -> bool:
        return self.lexicon.is_word(self.texts[i])

    def set(self, i: int, score: float, strong: bool = False) -> None:
        if score > self.scores[i]:
            self.scores[i] = score
        if strong:
            self.strong[i] = True


def _shape(token: Token) -> str:
    return _text_shape(token.text)


def _text_shape(text: str) -> str:
    if not text[:1].isalpha():
        return "other"
    if text.isupper():
        return "upper" if len(text) > 1 else "title"
    if text[0].isupper():
        return "title"
    if text.islower():
        return "lower"
    return "other"


def find_names(text: str, found: Sequence[Span] = ()) -> List[Span]:
    if not any(c.isalpha() for c in text):
        return []
    doc = get_nlp().make_doc(text)
    message = _Message(doc, [s for s in found if s.kind != NAME])
    _from_triggers(message)
    _from_phrases(message)
    if not message.title_cased:
        _from_capitals(message)
    _spread(message)
    return _to_spans(message)


# --- slots that announce a name ---
def _from_triggers(m: _Message) -> None:
    _, triggers = _get_matchers()
    for match_id, start, end in triggers(m.doc):
        label = m.doc.vocab.strings[match_id]
        if label == "TITLE":
            title = m.tokens[start]
            if title.lower_ in TITLE_CASE_ONLY and _shape(title) != "title":
                continue
            _slot(m, end, relation=True, after_title=True, sure=True)
        elif label == "RELATION":
            last = m.tokens[end - 1]
            # "Child Arrangements Order", "Foster Carer Allowance": a capitalised role word starts a
            # phrase, not a name, unless a clearly unknown word follows.
            phrase = _shape(last) == "title" and not m.sentence_start(end - 1) and m.lower(start) not in POSSESSIVES
            position = end
            if m.lower(position) == "," and m.token(position + 2) is not None and m.lower(position + 2) in (",", "is", "was", "has"):
                position += 1  # "my daughter, Rose, is 16"
            ahead = m.token(position + 1)
            named_after = False
            if m.lower(position) in ("to", "of") and ahead is not None and (
                _shape(ahead) == "title" or m.name_kind[position + 1]
            ):
                position += 1  # "nan to Niamh", "mum of Tyler", "nan to hope"
                named_after = bool(m.name_kind[position])
                if m.place[position]:
                    continue  # "take my grandson to Cornwall"
            linked = False
            if m.lower(position) in ("'s", "s") and m.lower(position + 1) in ("called", "named"):
                position += 2  # "my son's called Jayden" ("my son's school" is not a name slot)
            elif m.lower(position) in ("is", "was"):
                linked = True
                position += 1
                if m.lower(position) in ("called", "named"):
                    position += 1
                    linked = False
            elif m.lower(position) in ("called", "named"):
                position += 1
            elif m.lower(position) == "(":
                position += 1  # "the sw (Anna) said"
            bare = m.lower(start) not in POSSESSIVES | DETERMINERS | {"our"}
            stated = named_after or m.lower(position - 1) in ("called", "named")
            _slot(m, position, relation=not phrase and not linked, after_title=False, relation_bare=bare,
                  sure=not bare, stated=stated)
        else:  # INTRO
            sure = m.lower(start) in ("name", "names", "name's", "called", "named", "known")
            _slot(m, end, relation=False, after_title=False, sure=sure, stated=sure)


def _slot(m: _Message, i: int, relation: bool, after_title: bool, relation_bare: bool = False,
          sure: bool = False, stated: bool = False) -> None:
    """Take the word at i (and a surname after it) for a name if it can be one in this slot.

    relation: after "my son" or a title, an ordinary capitalised word is a name ("my son Will");
    otherwise (after "I'm", "is called", a capitalised role) only an unknown word or a word-name is.
    stated: the text says a name comes here ("my name is", "called", "named", "nan to"), so an
    everyday word that is a first name is one, in any case ("my name is ivy").
    """
    token = m.token(i)
    if token is None or not m.nameish(i) or m.never_a_name(i):
        if after_title and token is not None and len(token.text) == 1 and token.text.isupper():
            # "Mr J Smith": skip the initial.
            nxt = i + 1 if m.lower(i + 1) != "." else i + 2
            if m.token(nxt) is not None and m.shape(nxt) == "title":
                _slot(m, nxt, relation, after_title, stated=stated)
        return
    lower = token.lower_
    shape = _shape(token)
    if m.place[i] and not relation:
        return  # "this is Leeds council", "called Kirklees"; but "my son Preston", "Mrs Bury" are people
    word = m.word(i) or m.lexicon.is_non_noun(token.text)
    accepted = False
    kind = m.name_kind[i]
    followed_like_a_name = m.lower(i + 1) in _AFTER_NAME or i + 1 >= m.n
    if shape == "title":
        if lower in WORD_NAMES:
            accepted = True
        elif lower in STOP_WORDS or lower in MONTHS and not relation:
            accepted = False
        elif not word or kind == 2 or kind == 1 and stated:
            accepted = True  # an unknown word, a plain first name ("I'm Laura"), "called Summer"
        elif relation and not m.institution_follows(i) and lower not in DOMAIN_NOUNS:
            accepted = True
        elif _unknown_title_word(m, i + 1) and token.whitespace_:
            accepted = True  # "called Li Wei": an ordinary word before an unknown surname
    elif shape in ("lower", "upper"):
        if lower in WORD_NAMES or kind == 1:
            # "my niece rose has been", "my name is ivy", but not "my son will be"
            accepted = followed_like_a_name or stated
        elif kind == 2 and (len(lower) > 2 or sure):
            accepted = True  # "my son harry", "her mum sharon"
        elif _unknown_lower_word(m, i, typo_check=not sure) and not m.place[i] and lower not in MONTHS:
            # A lower-case unknown word after a bare "child"/"carer" is more likely a misspelling.
            accepted = not (relation_bare and shape == "lower")
    if not accepted and after_title and m.lower(i - 1).rstrip(".") in _SURNAME_TITLES and m.tokens[i - 1].lower_ != "miss":
        # After Mr/Mrs/Dr comes a surname, whatever else the word means ("mr khan", "Mrs Bell").
        accepted = lower not in STOP_WORDS and lower not in MONTHS and not m.place[i] or shape == "title"
    if not accepted:
        return
    m.set(i, SLOT, strong=True)
    _surname(m, i, SLOT)


def _unknown_lower_word(m: _Message, i: int, typo_check: bool = True) -> bool:
    """A lower-case word that is in no dictionary, is not a contraction piece ("wo" of "wont"),
    not a stretched word ("youuu") and not one letter away from a long dictionary word
    ("arrangment", "lamping")."""
    token = m.tokens[i]
    text = token.lower_
    if m.word(i) or m.lexicon.is_non_noun(text):
        return False
    if token.norm_ != text:
        return False
    squeezed = re.sub(r"(.)\1{2,}", r"\1", text)
    if squeezed != text and (m.lexicon.is_word(squeezed) or m.lexicon.is_word(re.sub(r"(.)\1{2,}", r"\1\1", text))):
        return False
    if typo_check and len(text) >= 6 and m.lexicon.near_word(text):
        return False
    return True


def _unknown_title_word(m: _Message, i: int) -> bool:
    token = m.token(i)
    return (
        token is not None
        and _shape(token) == "title"
        and m.nameish(i)
        and not m.never_a_name(i)
        and not m.place[i]
        and not m.word(i)
        and not m.lexicon.is_non_noun(token.text)
    )


def _surname(m: _Message, i: int, score: float) -> None:
    """Surnames and second names straight after a first name: "Oluwaseun Adeyemi", "Li Wei"."""
    first_shape = m.shape(i)
    j = i + 1
    while j < m.n and j - i <= 3 and m.tokens[j - 1].whitespace_ and m.nameish(j) and not m.never_a_name(j):
        token = m.tokens[j]
        shape = _shape(token)
        if m.place[j] or token.lower_ in MONTHS or token.lower_ in STOP_WORDS:
            break
        if shape == "title" and first_shape == "title":
            if token.lower_ in DOMAIN_NOUNS or m.institution_follows(j):
                break
        elif shape == first_shape and not m.word(j) and not m.lexicon.is_non_noun(token.text):
            if shape == "lower" and not m.name_kind[j] and len(token.lower_) >= 4 and m.lexicon.near_word(token.lower_) \
                    and m.lower(j + 1) not in _AFTER_NAME and j + 1 < m.n:
                break  # "my nan peggy brung me": a misspelt word, not a surname
        else:
            break
        m.set(j, score)
        j += 1


# --- phrases around a word ---
def _from_phrases(m: _Message) -> None:
    for i in range(m.n):
        if not m.nameish(i) or m.never_a_name(i) or m.place[i] or m.after_saint(i):
            continue
        token = m.tokens[i]
        shape = _shape(token)
        lower = token.lower_
        kind = m.name_kind[i]
        if (lower in MONTHS or lower in STOP_WORDS) and lower not in WORD_NAMES:
            continue
        if shape == "title":
            plausible = lower in WORD_NAMES or kind or not m.word(i) and not m.lexicon.is_non_noun(token.text)
            unknown_lower = False
        elif shape in ("lower", "upper") and len(token.text) >= 3 and _phrase_may_follow(m, i):
            plausible = False
            # A lower-case word in no dictionary, or a first name from the list ("jack's dad").
            unknown_lower = bool(kind) or _unknown_lower_word(m, i)
        else:
            continue
        if not (plausible or unknown_lower):
            continue
        prev = m.lower(i - 1)
        if prev in DETERMINERS and not (prev == "that" and kind == 2):
            continue  # "the Rose garden"; but "that Kwame has bruises"
        nxt = m.lower(i + 1)
        unknown_title = shape == "title" and not m.word(i) and not m.lexicon.is_non_noun(token.text)
        score = 0.0
        # "Jayden's school", "Jack's dad"
        if nxt in ("'s", "'") and m.lower(i + 2) in POSSESSED:
            score = PHRASE
        # "Summer is 9", "Billy's nearly 14", "Rose turned 4"
        elif nxt in ("is", "was", "'s", "s", "turned", "turns", "turning", "are"):
            k = i + 2
            if m.lower(k) in _ADVERBS_BEFORE_AGE:
                k += 1
            age = m.token(k)
            if nxt != "are" and age is not None and (
                age.like_num and age.text.isdigit() and int(age.text) <= 25 or age.lower_ in _NUMBER_WORDS
            ):
                if m.lower(k + 1) not in _UNITS:
                    score = PHRASE
            # "Chukwuemeka is my sons name", "Priya Sharma is my solicitor", "Zainab are my sisters kids"
            elif m.lower(i + 2) in POSSESSIVES and (
                m.lower(i + 3) in (KIN | ROLES) or m.lower(i + 3) in ("sisters", "brothers", "sister's", "brother's")
            ):
                score = PHRASE
            elif nxt == "was" and m.lower(i + 2) == "born":
                score = PHRASE
        # "Rose, my daughter", "Leanne the social worker", "Mark the sw"
        elif nxt == "," and m.lower(i + 2) in POSSESSIVES and _relation_at(m, i + 3):
            score = PHRASE
        elif nxt == "the" and _relation_at(m, i + 2) and shape == "title" and not (
            lower in ("will", "may", "can") and m.sentence_start(i)
        ):
            score = PHRASE  # but "Will the judge decide ...?"
        # The cues below take a first name from the list or a capitalised unknown word, never an
        # acronym ("ADHD and I") or a misspelling ("mums solicter agreed").
        # "Laura said", "jack told me", "Grace rang the school"
        elif nxt in _SPEECH_VERBS and (kind or unknown_title):
            score = PHRASE
        # "Jack and I", "grace and me"
        elif nxt in ("and", "&") and m.lower(i + 2) in ("i", "me", "myself") and (kind or unknown_title):
            score = PHRASE
        # "tia and her brother", "Jack and his mum": a first name from the list, then a relative
        elif nxt in ("and", "&") and m.lower(i + 2) in POSSESSIVES and kind and (
            m.lower(i + 3) in KIN or m.lower(i + 3) in _KIN_ADJ and m.lower(i + 4) in KIN
        ):
            score = PHRASE
        # "Ruby 03/05/2015", "Alfie (DOB 11/11/2018)", "Ava, born 2019"
        elif (kind or unknown_title) and lower not in MONTHS and _date_follows(m, i + 1):
            score = PHRASE
        # "me and jack", "myself & Laura"
        if m.lower(i - 1) in ("and", "&", "n") and m.lower(i - 2) in ("me", "myself") and (kind or unknown_title):
            score = max(score, PHRASE)
        # "spoke to sandra", "talking to Jack": a first name from the list after talking to
        if (prev == "to" and m.lower(i - 2) in _TALK_TO or prev == "at" and m.lower(i - 2) in _SHOUT_AT) and (
            kind or unknown_title
        ):
            score = max(score, PHRASE)
        # "contact with lacey", "worried about freddie": a plain first name after a person's preposition
        if prev in _PERSON_PREP and kind == 2:
            score = max(score, PHRASE)
        # "our Billy", "our Jack"
        if prev == "our" and (shape == "title" or unknown_lower) and nxt not in ("'s",) and m.lower(i + 1) not in INSTITUTION_HEADS:
            score = max(score, PHRASE)
        if score and unknown_lower and not kind:
            score = min(score, UNKNOWN_WORD)
        if score:
            m.set(i, score, strong=True)
            if shape == "title":
                _surname_backwards(m, i, score)


_DATE_TOKEN = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$")
_BIRTH_WORDS = frozenset({"dob", "d.o.b", "d.o.b.", "born", "b.", "birthday", "bday"})


def _date_follows(m: _Message, j: int) -> bool:
    """A date of birth or a birth word right after the name: "Ruby 03/05/2015", "Ava (dob ...)"."""
    if m.lower(j) in ("(", ",", "-", ":"):
        j += 1
    return bool(_DATE_TOKEN.match(m.lower(j))) or m.lower(j) in _BIRTH_WORDS


def _phrase_may_follow(m: _Message, i: int) -> bool:
    """A cheap first look: could any phrase rule below fire for the word at i?"""
    nxt = m.lower(i + 1)
    prev = m.lower(i - 1)
    return (
        nxt in ("'s", "'", "is", "was", "s", ",", "the", "are", "turned", "turns", "turning", "(", "-", ":")
        or nxt[:1].isdigit() and _date_follows(m, i + 1)
        or nxt in _BIRTH_WORDS
        or nxt in _SPEECH_VERBS
        or nxt in ("and", "&") and m.lower(i + 2) in ("i", "me", "myself")
        or nxt in ("and", "&") and m.lower(i + 2) in POSSESSIVES and m.lower(i + 3) in KIN
        or prev == "to" and m.lower(i - 2) in _TALK_TO
        or prev == "at" and m.lower(i - 2) in _SHOUT_AT
        or prev in _PERSON_PREP and m.name_kind[i] == 2
        or nxt in ("and", "&") and m.lower(i + 2) in POSSESSIVES and m.lower(i + 3) in _KIN_ADJ
        or prev == "our"
        or prev in ("and", "&", "n") and m.lower(i - 2) in ("me", "myself")
    )


def _relation_at(m: _Message, i: int) -> bool:
    # "my daughter", "the social worker", "my sons name" - a relationship word within two tokens
    return m.lower(i) in (KIN | ROLES) or (m.lower(i) in ("social", "foster", "support", "key", "team") and m.lower(i + 1) in (KIN | ROLES))


def _surname_backwards(m: _Message, i: int, score: float) -> None:
    # "Jaspreet Kaur's number": the word before a surname found by a phrase is the first name.
    j = i - 1
    while j >= 0 and i - j <= 2 and m.tokens[j].whitespace_ and m.nameish(j) and m.shape(j) == "title":
        if m.never_a_name(j) or m.place[j] or m.lower(j) in STOP_WORDS or m.word(j) and m.lower(j) not in WORD_NAMES \
                and not m.name_kind[j]:
            break
        m.set(j, score)
        j -= 1


# --- capitals ---
def _from_capitals(m: _Message) -> None:
    for i in range(m.n):
        if m.scores[i] or not m.nameish(i) or m.shape(i) != "title":
            continue
        token = m.tokens[i]
        lower = token.lower_
        kind = m.name_kind[i]
        prev = m.lower(i - 1)
        if (
            m.never_a_name(i)
            or m.place[i]
            or lower in MONTHS
            or lower in STOP_WORDS
            or lower in DOMAIN_NOUNS
            or m.after_saint(i)
            or m.institution_follows(i)
            or prev in DETERMINERS and not (prev == "that" and kind == 2)
        ):
            continue
        start = m.sentence_start(i)
        in_place_phrase = _in_place_phrase(m, i) or _place_follows(m, i, start) or _travel_place(m, i)
        if not m.word(i) and not m.lexicon.is_non_noun(token.text) or kind == 2:
            # An unknown word, or a plain first name ("Laura", "Harry")
            score = UNKNOWN_WORD_SENTENCE_START if start else UNKNOWN_WORD
            if in_place_phrase:
                score = 0.45  # "we live in Ashby": an unknown town, more likely than a person
            m.set(i, score)
            if score >= THRESHOLD:
                _first_name_before(m, i, score)
        elif (lower in WORD_NAMES or kind == 1) and not start and _alone(m, i) and prev not in POSSESSIVES:
            m.set(i, WORD_NAME_ALONE if not in_place_phrase else 0.45)


def _travel_place(m: _Message, i: int) -> bool:
    prev, before = m.lower(i - 1), m.lower(i - 2)
    return prev == "to" and before in _TRAVEL or prev == "from" and before in _ORIGIN


def _place_follows(m: _Message, i: int, start: bool) -> bool:
    """ "Stanley in County Durham, any groups?", "from Sandy in Bedfordshire": a capitalised word
    with nothing but its capital to go on, then "in"/"near" and a known place, is a place too."""
    if not (start or m.lower(i - 1) in _PLACE_BEFORE):
        return False
    if m.lower(i + 1) not in ("in", "near", "nr", "outside"):
        return False
    j = i + 2
    if m.lower(j) in ("county", "north", "south", "east", "west", "the"):
        j += 1
    return j < m.n and m.place[j]


_PLACE_JOINERS = frozenset("de la le du upon on under in by next the-sea sea super".split())


def _in_place_phrase(m: _Message, i: int) -> bool:
    """After "in"/"near", up to four words of a place name ("in Ashby de la Zouch")."""
    j = i - 1
    for _ in range(5):
        if j < 0:
            return False
        lower = m.lower(j)
        if lower in _PLACE_PREPOSITIONS:
            return True
        token = m.tokens[j]
        if not (lower in _PLACE_JOINERS or _shape(token) == "title" and m.nameish(j)) or m.sentence_start(j + 1) and j + 1 != i:
            return False
        j -= 1
    return False


def _first_name_before(m: _Message, i: int, score: float) -> None:
    """"Jordan Henderson": a given name that is also a word or a country, before an unknown surname."""
    j = i - 1
    token = m.token(j)
    if token is None or not token.whitespace_ or not m.nameish(j) or _shape(token) != "title" or m.scores[j]:
        return
    lower = token.lower_
    if m.never_a_name(j) or lower in STOP_WORDS or lower in MONTHS or lower in DOMAIN_NOUNS:
        return
    if m.lower(j - 1) in _PLACE_PREPOSITIONS | {"from", "to", "at"} | DETERMINERS:
        return
    if lower in WORD_NAMES or m.name_kind[j] or m.place[j] and " " not in lower:
        m.set(j, score)


def _alone(m: _Message, i: int) -> bool:
    """Not part of a run of capitalised words ("Special Guardianship Order")."""
    for j in (i - 1, i + 1):
        token = m.token(j)
        if token is not None and _shape(token) == "title" and not m.sentence_start(j) and token.text != "I":
            return False
    return True


# --- spreading to lists, surnames and repeated mentions ---
def _spread(m: _Message) -> None:
    for _ in range(3):
        changed = False
        for i in range(m.n):
            if m.scores[i] < THRESHOLD:
                continue
            for step in (1, -1):
                j = _list_neighbour(m, i, step)
                if j is None or m.scores[j] >= THRESHOLD:
                    continue
                if _could_be_listed_name(m, j, m.tokens[i]):
                    m.set(j, min(m.scores[i], UNKNOWN_WORD))
                    if step == 1:
                        _surname(m, j, min(m.scores[i], UNKNOWN_WORD))
                    changed = True
        if not changed:
            break
    _repeat_mentions(m)


def _list_neighbour(m: _Message, i: int, step: int) -> Optional[int]:
    # Move past the rest of this name, then one joiner ("," "and" ", and"), to the next word.
    j = i + step
    while 0 <= j < m.n and m.scores[j] >= THRESHOLD:
        j += step
    joiners = 0
    while 0 <= j < m.n and m.lower(j) in _LIST_JOINERS and joiners < 2:
        joiners += 1
        j += step
    if joiners == 0 or not (0 <= j < m.n):
        return None
    return j


def _could_be_listed_name(m: _Message, j: int, seed: Token) -> bool:
    if not m.nameish(j) or m.never_a_name(j) or m.place[j] or m.after_saint(j):
        return False
    token = m.tokens[j]
    lower = token.lower_
    if lower in STOP_WORDS and lower not in WORD_NAMES or lower in DAYS or lower in MONTHS or lower in DOMAIN_NOUNS:
        return False
    shape = _shape(token)
    kind = m.name_kind[j]
    if shape == "title":
        if m.institution_follows(j) or m.lexicon.is_non_noun(token.text) and lower not in WORD_NAMES and not kind:
            return False
        # An ordinary capitalised word joins a list of names only if it is also a given name.
        return not m.word(j) or lower in WORD_NAMES or bool(kind)
    if shape == "lower" and _shape(seed) == "lower":
        return kind == 2 or not m.word(j) and not m.lexicon.is_non_noun(token.text)
    return False


def _repeat_mentions(m: _Message) -> None:
    names: Dict[str, bool] = {}
    for i in range(m.n):
        if m.scores[i] >= THRESHOLD:
            token = m.tokens[i]
            names[token.lower_] = m.word(i) and m.name_kind[i] != 2
    if not names:
        return
    for i in range(m.n):
        if m.scores[i] >= THRESHOLD or not m.nameish(i):
            continue
        token = m.tokens[i]
        if token.lower_ not in names or m.place[i] or m.never_a_name(i):
            continue
        is_word = names[token.lower_]
        if is_word and (_shape(token) != "title" or m.sentence_start(i)):
            continue
        m.set(i, UNKNOWN_WORD_SENTENCE_START)


def _to_spans(m: _Message) -> List[Span]:
    """One span per run of name words joined by spaces ("Jaspreet Kaur"); runs of likely names
    (at or above THRESHOLD) and of weak guesses (FLOOR to THRESHOLD) are kept apart, so raising or
    lowering the threshold in the API moves only the guesses."""
    spans: List[Span] = []
    i = 0
    while i < m.n:
        if m.scores[i] < FLOOR:
            i += 1
            continue
        strong = m.scores[i] >= THRESHOLD
        j = i
        score = m.scores[i]
        while (
            j + 1 < m.n
            and (m.scores[j + 1] >= THRESHOLD) == strong
            and m.scores[j + 1] >= FLOOR
            and m.tokens[j].whitespace_
            and "\n" not in m.tokens[j].whitespace_
        ):
            j += 1
            score = max(score, m.scores[j])
        start = m.tokens[i].idx
        end = m.tokens[j].idx + len(m.tokens[j].text)
        spans.append(Span(start, end, NAME, round(score, 2)))
        i = j + 1
    return spans
