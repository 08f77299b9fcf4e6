"""How well bot.redact finds personal data in the redaction case files.

Usage: python scripts/eval_redaction.py [--dev-only] [--skip-blind] [CASES_FILE ...]

With no file named, every case file it knows is read: tests/data/redaction_cases.yml (sections `dev`
and `holdout`), tests/data/redaction_fresh.yml (`fresh`) and, if it exists,
tests/data/redaction_blind.yml (`blind`, written by someone who sees neither the recognizers nor
the other cases). Any other YAML file can be named: each top-level key that holds a list of cases
(`id`, `text`, `expected`) is a section.
--dev-only: while tuning the recognizers, read only the `dev` section (no other figures at all).
--skip-blind: leave the blind file unread (for whoever tunes the recognizers).

For each section, at the entity level, per label and overall:
- recall: a personal-data span of the expected output counts as caught when every non-space
  character of it is covered by placeholders (of any type) in the actual output;
- precision: a redacted span counts as right when it overlaps personal data of any type; "typed"
  counts only an overlap with personal data of its own type;
- other words kept: of the words that are not personal data, how many come out unredacted;
- exact: how many messages come out exactly as expected.
Then every miss and every wrong redaction (not for a blind section: only its figures are shown, so
that its messages are never read through this script), and the time per message over all cases.
"""
from __future__ import annotations

import re
import statistics
import sys
import time
from dataclasses import dataclass, field
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
# Written by another person, blind to the recognizers; only its figures are ever printed.
BLIND_FILE = ROOT / "tests" / "data" / "redaction_blind.yml"
BLIND_SECTIONS = frozenset({"blind"})
TARGET_MS = 0.5  # mean time per message
_PLACEHOLDER = re.compile(r"\[(" + "|".join(KINDS) + r")\]")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Case:
    id: str
    section: str
    text: str
    expected: str
    gold: Tuple[Span, ...]  # the personal data in `text`, from where `expected` has placeholders


def load_cases(path: Path = CASES_FILE) -> List[Case]:
    """Every case in the file: each top-level key holding a list of {id, text, expected} is a section."""
    data = yaml.safe_load(path.read_text(encoding="utf8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected sections (a mapping of name -> list of cases)")
    cases = []
    for section, entries in data.items():
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, dict) or not {"id", "text", "expected"} <= set(entry):
                raise ValueError(f"{path}: section {section!r} has an entry without id, text and expected")
            text, expected = str(entry["text"]), str(entry["expected"])
            cases.append(Case(str(entry["id"]), str(section), text, expected, tuple(gold_spans(text, expected))))
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
    typed: int = 0

    def recall(self) -> float:
        return self.caught / self.gold if self.gold else float("nan")

    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else float("nan")

    def typed_precision(self) -> float:
        return self.typed / self.predicted if self.predicted else float("nan")


@dataclass
class Result:
    tallies: Dict[str, Tally]
    exact: int
    total: int
    misses: List[str]
    wrong: List[str]
    other_words: int = 0
    other_words_kept: int = 0
    lost_words: List[str] = field(default_factory=list)

    def words_kept(self) -> float:
        return self.other_words_kept / self.other_words if self.other_words else float("nan")


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
    result = Result(tallies, 0, len(cases), [], [])
    for case in cases:
        predicted = find_personal_data(case.text)
        output = redact(case.text)
        result.exact += output == case.expected
        for span in case.gold:
            for key in (span.kind, "ALL"):
                tallies[key].gold += 1
            if covered(span, predicted, case.text):
                for key in (span.kind, "ALL"):
                    tallies[key].caught += 1
            else:
                result.misses.append(f"{case.id} {span.kind:<13} {case.text[span.start:span.end]!r:<28} -> {output}")
        for span in predicted:
            overlapping = [g for g in case.gold if span.start < g.end and g.start < span.end]
            same_type = any(g.kind == span.kind for g in overlapping)
            for key in (span.kind, "ALL"):
                tallies[key].predicted += 1
                tallies[key].right += bool(overlapping)
                tallies[key].typed += same_type
            if not overlapping:
                result.wrong.append(f"{case.id} {span.kind:<13} {case.text[span.start:span.end]!r:<28} -> {output}")
        for word in _WORD.finditer(case.text):
            if any(word.start() < g.end and g.start < word.end() for g in case.gold):
                continue
            result.other_words += 1
            if any(word.start() < p.end and p.start < word.end() for p in predicted):
                result.lost_words.append(word.group(0))
            else:
                result.other_words_kept += 1
    return result


def _fmt(value: float) -> str:
    return "   -  " if value != value else f"{value:6.1%}"


def report(section: str, result: Result, details: bool = True, source: str = "") -> None:
    where = f" ({source})" if source else ""
    print(f"\n== {section}{where}: {result.total} messages, {result.exact} redacted exactly as expected "
          f"({result.exact / result.total:.0%})")
    print(f"{'type':<14}{'gold':>5}{'caught':>7}{'recall':>8}   {'redacted':>8}{'right':>6}{'precision':>10}"
          f"{'typed':>8}")
    for kind, tally in result.tallies.items():
        if not tally.gold and not tally.predicted:
            continue
        print(f"{kind:<14}{tally.gold:>5}{tally.caught:>7}{_fmt(tally.recall()):>8}   "
              f"{tally.predicted:>8}{tally.right:>6}{_fmt(tally.precision()):>10}{_fmt(tally.typed_precision()):>8}")
    print(f"other words kept: {result.other_words_kept} of {result.other_words} ({_fmt(result.words_kept()).strip()})")
    if not details:
        print("(blind section: misses and wrong redactions are not shown)")
        return
    print(f"misses ({len(result.misses)}):")
    for line in result.misses:
        print("  " + line)
    print(f"wrong redactions ({len(result.wrong)}):")
    for line in result.wrong:
        print("  " + line)


def timing(cases: Sequence[Case], rounds: int = 5) -> Tuple[float, float, float, float]:
    """Wall-clock mean, 95th percentile and slowest, and the mean processor time, in ms per message.
    On a busy machine the wall clock counts time the process waited for a core; processor time
    does not."""
    for case in cases:  # warm up: every lazily built table and cache
        redact(case.text)
    times = []
    cpu = 0.0
    for _ in range(rounds):
        for case in cases:
            start, start_cpu = time.perf_counter(), time.process_time()
            redact(case.text)
            times.append((time.perf_counter() - start) * 1000)
            cpu += time.process_time() - start_cpu
    times.sort()
    return statistics.mean(times), times[int(len(times) * 0.95)], times[-1], cpu * 1000 / len(times)


def main(argv: Sequence[str]) -> int:
    flags = {a for a in argv[1:] if a.startswith("--")}
    unknown = flags - {"--dev-only", "--skip-blind"}
    if unknown:
        print(__doc__)
        return 2
    named = [Path(a) for a in argv[1:] if not a.startswith("--")]
    started = time.perf_counter()
    if named:
        paths = named
    elif "--dev-only" in flags:
        paths = [CASES_FILE]
    else:
        paths = [p for p in (CASES_FILE, FRESH_FILE) if p.exists()]
        if BLIND_FILE.exists() and "--skip-blind" not in flags:
            paths.append(BLIND_FILE)
    sections: Dict[Tuple[str, str], List[Case]] = {}
    for path in paths:
        for case in load_cases(path):
            if "--dev-only" in flags and case.section != "dev":
                continue
            if "--skip-blind" in flags and case.section in BLIND_SECTIONS:
                continue
            sections.setdefault((case.section, _short(path)), []).append(case)
    redact("load")
    print(f"pipeline and word lists loaded in {time.perf_counter() - started:.1f} s")
    everything: List[Case] = []
    for (section, source), cases in sections.items():
        report(section, evaluate(cases), details=section not in BLIND_SECTIONS, source=source)
        everything.extend(cases)
    if everything:
        mean, p95, worst, cpu = timing(everything)
        verdict = "within" if mean <= TARGET_MS else "OVER"
        print(f"\ntime per message over {len(everything)} messages x 5: mean {mean:.3f} ms, 95th percentile "
              f"{p95:.3f} ms, slowest {worst:.2f} ms ({verdict} the target of {TARGET_MS} ms mean); "
              f"processor time {cpu:.3f} ms mean")
    return 0


def _short(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
