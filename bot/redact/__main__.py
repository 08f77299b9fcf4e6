"""python -m bot.redact: one message per line on standard input, the redacted line on standard output.

Line for line: the output has exactly as many lines as the input, an empty line stays empty, a
last line without a newline stays without one, and CRLF endings stay CRLF. Input is read as UTF-8
(a byte that is not UTF-8 becomes U+FFFD); output is UTF-8. Characters that some readers take for
a line break inside a line (vertical tab, form feed, NEL, U+2028, U+2029, a lone CR) become spaces,
so every reader counts the same lines. A line that cannot be analysed comes out as
[UNREDACTABLE_MESSAGE], never as it was; the filter itself does not stop on odd input.
"""
from __future__ import annotations

import re
import sys

# The filter only tokenizes: keep thinc from importing TensorFlow, which Rasa's venv has (seconds of
# start-up and log noise on stderr). Only this entry point does this, never the library.
sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]

_INNER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def redact_line(raw: bytes) -> bytes:
    """One input line (without its newline) to one output line (without its newline)."""
    from bot.redact import UNREDACTABLE, redact

    crlf = raw.endswith(b"\r")
    if crlf:
        raw = raw[:-1]
    try:
        text = raw.decode("utf-8", errors="replace")
        redacted = _INNER_BREAKS.sub(" ", redact(text))
        line = redacted.encode("utf-8", errors="replace")
    except Exception:  # never let one line stop the export, never let it through unredacted
        line = UNREDACTABLE.encode()
    return line + (b"\r" if crlf else b"")


def main() -> int:
    from bot.redact import warm_up

    warm_up()
    source = sys.stdin.buffer
    sink = sys.stdout.buffer
    try:
        for raw in source:  # splits on b"\n" only
            newline = raw.endswith(b"\n")
            sink.write(redact_line(raw[:-1] if newline else raw) + (b"\n" if newline else b""))
            sink.flush()
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly.
        try:
            sys.stdout = None  # type: ignore[assignment]
        finally:
            return 0
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
