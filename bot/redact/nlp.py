"""The spaCy pipeline redaction runs on: loaded once, lazily, and never downloaded.

It is the project's own lookup pipeline (var/spacy/en_lookup, built by scripts/build_spacy_pipeline.py)
when that exists, else a blank English pipeline with the lemma table from the installed
spacy-lookups-data package. No statistical model is used: the tokenizer, the lemma lookup table (a
dictionary of English word forms) and the Matcher/PhraseMatcher are all redaction needs.

The tokenizer is this module's own copy, changed in one way: a hyphen between letters no longer
splits a word, so "Kerry-Ann" and "Okonkwo-Smith" stay one token each.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Optional

import spacy
from spacy.language import Language
from spacy.lookups import Table
from spacy.lang.char_classes import ALPHA, HYPHENS
from spacy.util import compile_infix_regex

PIPELINE_DIR = Path(__file__).resolve().parents[2] / "var" / "spacy" / "en_lookup"

_lock = threading.Lock()
_nlp: Optional[Language] = None


def pipeline_dir() -> Path:
    return Path(os.environ.get("REDACT_SPACY_PIPELINE", str(PIPELINE_DIR)))


def get_nlp() -> Language:
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                _nlp = _load(pipeline_dir())
    return _nlp


def lemma_table() -> Table:
    """The lemma lookup table (word form -> lemma) of the pipeline."""
    nlp = get_nlp()
    if "lemmatizer" in nlp.pipe_names:
        lookups = nlp.get_pipe("lemmatizer").lookups
        if lookups.has_table("lemma_lookup"):
            return lookups.get_table("lemma_lookup")
    if nlp.vocab.lookups.has_table("lemma_lookup"):
        return nlp.vocab.lookups.get_table("lemma_lookup")
    return spacy.lookups.load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")


def _load(path: Path) -> Language:
    if (path / "config.cfg").exists():
        nlp = spacy.load(path)
    else:
        nlp = spacy.blank("en")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()  # reads the table from spacy-lookups-data; nothing is downloaded
    _keep_hyphenated_words(nlp)
    return nlp


def _keep_hyphenated_words(nlp: Language) -> None:
    # spaCy's punctuation rules split a hyphen between letters; drop exactly that rule.
    letter_hyphen = r"(?<=[{a}0-9])(?:{h})(?=[{a}])".format(a=ALPHA, h=HYPHENS)
    infixes = [pattern for pattern in nlp.Defaults.infixes if pattern != letter_hyphen]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
