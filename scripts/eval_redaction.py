"""How well bot.redact finds personal data in tests/data/redaction_cases.yml.

Usage: python scripts/eval_redaction.py [--dev-only] [CASES_FILE]
(--dev-only: while tuning the recognizers, do not even look at the holdout figures.)

For the `dev` and `holdout` sections separately, at the entity level:
- recall per type: a personal-data span of the expected output counts as caught when every
  non-space character of it is covered by placeholders (of any type) in the actual output;
- precision per type: a redacted span counts as right when it overlaps personal data of any type;
- exact: how many messages come out exactly as expected.
Then the time per message, and every miss and every wrong redaction.
"""
from __future__ import annotations

import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# This script only tokenizes: keep thinc from importing TensorFlow (seconds of start-up and log noise).
sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]

from bot.redact import find_personal_data, redact  # noqa: E402
from bot.redact.spans import KINDS, Span  # noqa: E402

CASES_FILE = ROOT / "tests" / "data" / "redaction_cases.yml"
# Written by someone who never saw the recognizers or the other cases: the honest figure.
FRESH_FILE = ROOT / "tests" / "data" / "redaction_fresh.yml"
SECTIONS = ("dev", "holdout", "fresh")
_PLACEHOLDER = re.compile(r"\[(" + "|".join(KINDS) + r")\]")


@dataclass(frozen=True)
class Case:
    id: str
    section: str
    text: str
    expected: str
    gold: Tuple[Span, ...]  # the personal data in `text`, from where `expected` has placeholders


def load_cases(path: Path = CASES_FILE) -> List[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf8"))
    cases = []
    for section in SECTIONS:
        for entry in data.get(section) or []:
            text, expected = entry["text"], entry["expected"]
            cases.append(Case(str(entry["id"]), section, text, expected, tuple(gold_spans(text, expected))))
    return cases


def gold_spans(text: str, expected: str) -> List[Span]:
    """Where the placeholders of `expected` sit in `text`."""
    kinds = []
    pattern = []
    last = 0
    for match in _PLACEHOLDER.finditer(expected):
        pattern.append(re.escape(expected[last:match.start()]))
        pattern.append("(.+?)")
        kinds.append(match.group(1))
        last = match.end()
    pattern.append(re.escape(expected[last:]))
    found = re.fullmatch("".join(pattern), text, re.DOTALL)
    if found is None:
        raise ValueError(f"expected output does not line up with the text: {expected!r} / {text!r}")
    return [Span(found.start(g + 1), found.end(g + 1), kind, 1.0) for g, kind in enumerate(kinds)]


@dataclass
class Tally:
    gold: int = 0
    caught: int = 0
    predicted: int = 0
    right: int = 0

    def recall(self) -> float:
        return self.caught / self.gold if self.gold else float("nan")

    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else float("nan")


@dataclass
class Result:
    tallies: Dict[str, Tally]
    exact: int
    total: int
    misses: List[str]
    wrong: List[str]


def covered(span: Span, predicted: Sequence[Span], text: str) -> bool:
    for index in range(span.start, span.end):
        if text[index].isspace():
            continue
        if not any(p.start <= index < p.end for p in predicted):
            return False
    return True


def evaluate(cases: Sequence[Case]) -> Result:
    tallies = {kind: Tally() for kind in KINDS}
    tallies["ALL"] = Tally()
    exact = 0
    misses: List[str] = []
    wrong: List[str] = []
    for case in cases:
        predicted = find_personal_data(case.text)
        output = redact(case.text)
        exact += output == case.expected
        for span in case.gold:
            for key in (span.kind, "ALL"):
                tallies[key].gold += 1
            if covered(span, predicted, case.text):
                for key in (span.kind, "ALL"):
                    tallies[key].caught += 1
            else:
                misses.append(f"{case.id} {span.kind:<13} {case.text[span.start:span.end]!r:<28} -> {output}")
        for span in predicted:
            for key in (span.kind, "ALL"):
                tallies[key].predicted += 1
            if any(span.start < g.end and g.start < span.end for g in case.gold):
                for key in (span.kind, "ALL"):
                    tallies[key].right += 1
            else:
                wrong.append(f"{case.id} {span.kind:<13} {case.text[span.start:span.end]!r:<28} -> {output}")
    return Result(tallies, exact, len(cases), misses, wrong)


def _fmt(value: float) -> str:
    return "   -  " if value != value else f"{value:6.1%}"


def report(section: str, result: Result) -> None:
    print(f"\n== {section}: {result.total} messages, {result.exact} redacted exactly as expected "
          f"({result.exact / result.total:.0%})")
    print(f"{'type':<14}{'gold':>5}{'caught':>7}{'recall':>8}   {'redacted':>8}{'right':>6}{'precision':>10}")
    for kind, tally in result.tallies.items():
        if not tally.gold and not tally.predicted:
            continue
        print(f"{kind:<14}{tally.gold:>5}{tally.caught:>7}{_fmt(tally.recall()):>8}   "
              f"{tally.predicted:>8}{tally.right:>6}{_fmt(tally.precision()):>10}")
    print(f"misses ({len(result.misses)}):")
    for line in result.misses:
        print("  " + line)
    print(f"wrong redactions ({len(result.wrong)}):")
    for line in result.wrong:
        print("  " + line)


def timing(cases: Sequence[Case], rounds: int = 5) -> Tuple[float, float, float]:
    redact("warm up: my son Jayden, 07700 900123")
    times = []
    for _ in range(rounds):
        for case in cases:
            start = time.perf_counter()
            redact(case.text)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.mean(times), times[int(len(times) * 0.95)], times[-1]


def main(argv: Sequence[str]) -> int:
    args = [a for a in argv[1:] if a != "--dev-only"]
    sections = ("dev",) if "--dev-only" in argv else SECTIONS
    path = Path(args[0]) if args else CASES_FILE
    started = time.perf_counter()
    cases = load_cases(path)
    if not args and "--dev-only" not in argv and FRESH_FILE.exists():
        cases += load_cases(FRESH_FILE)
    redact("load")
    print(f"pipeline and word lists loaded in {time.perf_counter() - started:.1f} s")
    for section in sections:
        chosen = [c for c in cases if c.section == section]
        if chosen:
            report(section, evaluate(chosen))
    mean, p95, worst = timing(cases)
    print(f"\ntime per message over {len(cases)} messages x 5: mean {mean:.2f} ms, 95th percentile {p95:.2f} ms, "
          f"slowest {worst:.2f} ms (target < 5 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
