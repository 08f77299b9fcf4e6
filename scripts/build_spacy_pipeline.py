"""Build the spaCy pipeline Rasa's SpacyNLP loads: a blank English pipeline with lookup lemmas.

Nothing is downloaded: the lemma tables come from the installed spacy-lookups-data package.
Usage: python scripts/build_spacy_pipeline.py OUTPUT_DIR
"""
import sys
from pathlib import Path

import spacy


def build(output_dir: Path) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.meta["name"] = "en_lookup"
    nlp.meta["description"] = "Blank English tokenizer with lookup lemmas (built locally)."
    output_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output_dir)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build(Path(sys.argv[1]))
    print(f"spaCy pipeline written to {sys.argv[1]}")
