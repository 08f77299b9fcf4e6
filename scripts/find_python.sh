#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 supports Python 3.8-3.10 only).
# Order: $PYTHON310 if set, python3.10 on PATH, then pyenv's 3.10. Exits 1 with a clear message if none.
set -euo pipefail
is_310() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }
if [ -n "${PYTHON310:-}" ]; then
  if is_310 "$PYTHON310"; then echo "$PYTHON310"; exit 0; fi
  echo "error: PYTHON310=$PYTHON310 is not a Python 3.10 interpreter." >&2; exit 1
fi
if command -v python3.10 >/dev/null 2>&1 && is_310 "$(command -v python3.10)"; then command -v python3.10; exit 0; fi
if command -v pyenv >/dev/null 2>&1; then
  prefix=$(pyenv prefix 3.10 2>/dev/null | head -n 1 || true)
  if [ -n "$prefix" ] && is_310 "$prefix/bin/python3.10"; then echo "$prefix/bin/python3.10"; exit 0; fi
fi
for candidate in "$HOME"/.pyenv/versions/3.10*/bin/python3.10; do
  if is_310 "$candidate"; then echo "$candidate"; exit 0; fi
done
cat >&2 <<'MSG'
error: Python 3.10 was not found, and Rasa 3.6 runs only on Python 3.8-3.10.
Install it (for example `pyenv install 3.10`) or point PYTHON310 at a python3.10 binary, then run make again.
MSG
exit 1
