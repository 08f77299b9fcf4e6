"""How much two NLU trainings differ when nothing or almost nothing changed (issue 20): the noise the
promotion gate has to tell from a real change.

Usage: python scripts/eval_retrain_noise.py [--only same|one-more]

Two measurements with bot.retrain.training.measure_noise (each two `rasa train nlu` runs of config.yml
from scratch, Rasa's cache off, then both models parsed on every held-out set and the crisis set):
  same      identical data twice (fixed seeds in config.yml): what still varies is TensorFlow's and the
            machine's own nondeterminism;
  one-more  the second training has one more example, the issue's "st ives" -> inform_council.
For each: how many held-out and crisis-set answers change, macro-F1 of both models on each set with the
difference and its 90% bootstrap interval, the intents whose F1 changed, and whether the promotion gate
would refuse the second model (it should not). About four trainings: 20 to 45 minutes on 2 cores.
Writes results/retrain_noise.json. Run by `make eval`, never by the tests.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ONE_MORE = ("st ives", "inform_council")  # the one-example retrain


def summary_lines(name: str, result: dict) -> list:
    """The measurement in a few lines (pure: from measure_noise's result)."""
    gate = result["gate"]
    lines = [f"{name}: {result['changed_held_out']} of {result['held_out_messages']:,} held-out answers and "
             f"{result['changed_crisis']} of {result['crisis_messages']} crisis-set answers differ"]
    for row in result["sets"]:
        lines.append(f"  {row['name']:<6} macro-F1 {row['first']:.3f} -> {row['second']:.3f}  "
                     f"diff {row['difference']:+.4f}  90% interval {row['low']:+.4f} to {row['high']:+.4f}  "
                     f"({row['changed']} answers differ)")
    for row in gate.get("intents") or []:
        lines.append(f"  intent {row['intent']:<28} F1 {row['live']:.2f} -> {row['candidate']:.2f} "
                     f"({row['difference']:+.3f})")
    lines.append("  the promotion gate would " + ("allow the second model" if gate["ok"] else
                                                 "REFUSE the second model: " + "; ".join(gate["reasons"])))
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("same", "one-more"))
    args = parser.parse_args(argv)

    from bot.retrain import training
    from bot.retrain.config import load_config

    cfg = load_config()
    runs = {"same": None, "one-more": ONE_MORE}
    results = {}
    for name, one_more in runs.items():
        if args.only and args.only != name:
            continue
        print(f"==> {name}: two trainings", flush=True)
        results[name] = training.measure_noise(cfg, "make-eval", one_more=one_more)
        print("\n".join(summary_lines(name, results[name])), flush=True)
    out = ROOT / "results" / "retrain_noise.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    print(f"Saved: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
