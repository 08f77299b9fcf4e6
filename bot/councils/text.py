"""Text normalisation shared by the council matcher and the gazetteer (pure, no I/O).

Both index names with `normalise()` and look messages up with it, so "Stow-on-the-Wold",
"stow on the wold" and "Stow on the Wold!" meet on one key, and "St. Ives" / "Saint Ives" on "st ives".
"""
from __future__ import annotations

import re


def normalise(text: str) -> str:
    text = (text or "").lower().replace("&", " and ").replace("\u2019", "'")
    text = re.sub(r"\bst\.?\s", "st ", text)
    text = re.sub(r"\bsaint\b", "st", text)
    text = re.sub(r"[^a-z0-9' -]+", " ", text)
    text = text.replace("-", " ").replace("'", "")
    return re.sub(r"\s+", " ", text).strip()
