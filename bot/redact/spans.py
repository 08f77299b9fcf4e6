"""Spans of personal data, how overlapping findings are settled, and the placeholders."""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Iterable, List

NAME = "NAME"
PHONE = "PHONE"
EMAIL = "EMAIL"
POSTCODE = "POSTCODE"
NI_NUMBER = "NI_NUMBER"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
ADDRESS = "ADDRESS"
REFERENCE = "REFERENCE"
SCHOOL = "SCHOOL"

KINDS = (NAME, PHONE, EMAIL, POSTCODE, NI_NUMBER, DATE_OF_BIRTH, ADDRESS, REFERENCE, SCHOOL)

# When two findings overlap, the more specific, pattern-checked kind wins over a name guess. A
# reference loses to a phone number, a postcode or an NI number it overlaps (they are checked
# formats) and ties with a date of birth or an address (then the higher score wins).
_PRIORITY = {
    EMAIL: 6, NI_NUMBER: 5, PHONE: 4, POSTCODE: 4, ADDRESS: 3, DATE_OF_BIRTH: 3, REFERENCE: 3, SCHOOL: 2, NAME: 1,
}


@dataclass(frozen=True, order=True)
class Span:
    """Characters text[start:end] are personal data of `kind`; `score` is the confidence, 0 to 1."""

    start: int
    end: int
    kind: str
    score: float

    def placeholder(self) -> str:
        return placeholder(self.kind)

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end


def placeholder(kind: str) -> str:
    return f"[{kind}]"


def resolve(spans: Iterable[Span]) -> List[Span]:
    """Non-overlapping spans in text order: the best of each overlapping group is kept.

    Best means higher kind priority, then higher score, then longer. Spans of the same kind that
    overlap are merged (a name found twice, or pieces of one address).
    """
    ranked = sorted(
        (s for s in spans if s.end > s.start),
        key=lambda s: (-_PRIORITY.get(s.kind, 0), -s.score, -(s.end - s.start), s.start),
    )
    starts: List[int] = []  # kept spans, sorted by start; they never overlap each other
    kept: List[Span] = []
    for span in ranked:
        # The kept spans that overlap `span` are a run around where it would be inserted.
        first = bisect_left(starts, span.start)
        while first > 0 and kept[first - 1].end > span.start:
            first -= 1
        last = first
        while last < len(kept) and kept[last].start < span.end:
            last += 1
        clash = kept[first:last]
        if clash and not all(k.kind == span.kind for k in clash):
            continue
        if clash:
            # Same kind: one placeholder for one thing, covering both.
            span = Span(
                min(span.start, clash[0].start),
                max(span.end, clash[-1].end),
                span.kind,
                max([span.score] + [k.score for k in clash]),
            )
        del kept[first:last]
        del starts[first:last]
        kept.insert(first, span)
        starts.insert(first, span.start)
    return kept


def apply(text: str, spans: Iterable[Span]) -> str:
    """The text with every span replaced by its placeholder (spans must not overlap)."""
    out = []
    last = 0
    for span in sorted(spans):
        out.append(text[last:span.start])
        out.append(span.placeholder())
        last = span.end
    out.append(text[last:])
    return "".join(out)
