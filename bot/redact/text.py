"""A cleaned copy of a message for matching, with a map back to the original characters.

Zero-width and direction marks (Unicode format characters) are dropped, so "Jay\u200bden" or a
number broken up with invisible characters is still found; control characters and unusual spaces
become plain spaces; compatibility forms (full-width digits, styled letters) become their plain
character; curly apostrophes become straight ones. Every character of the cleaned copy remembers
where it came from, so a span found in the copy redacts the right characters of the original,
invisible ones inside it included.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import List

_PLAIN = re.compile(r"[\x20-\x7e\n]*")
_APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "`": "'"}


@dataclass(frozen=True)
class Cleaned:
    text: str
    origin: List[int]  # origin[i] is the index in the original of text[i]; one extra entry: len(original)

    def to_original(self, start: int, end: int) -> tuple:
        """Original (start, end) for the cleaned text[start:end] (end > start)."""
        return self.origin[start], self.origin[end - 1] + 1


def clean(original: str) -> Cleaned:
    if _PLAIN.fullmatch(original):
        return Cleaned(original.replace("`", "'"), list(range(len(original) + 1)))
    chars: List[str] = []
    origin: List[int] = []
    for index, char in enumerate(original):
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        if char == "\n":
            pass
        elif category in ("Cc", "Zs", "Zl", "Zp", "Cs", "Co", "Cn"):
            char = " "
        elif char in _APOSTROPHES:
            char = "'"
        elif ord(char) > 0x7F:
            folded = unicodedata.normalize("NFKC", char)
            if len(folded) == 1:
                char = folded
        chars.append(char)
        origin.append(index)
    origin.append(len(original))
    return Cleaned("".join(chars), origin)
