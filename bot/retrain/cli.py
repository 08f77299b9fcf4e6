"""python -m bot.retrain: the staff retraining workflow from a terminal.

    review                          what the bot misunderstood (grouped, redacted), with ids
    label ID INTENT                 that message means INTENT: add it to the training data
    label ID --not-useful           nothing to learn from it
    label ID --new-intent NAME      none of our intents fits: suggest a new one to the developers
    train                           train a new candidate model (and evaluate it), with progress
    status                          the latest training and which model is live
    train --measure-noise           train twice on the same data: how much do two trainings differ?
    evaluate [CANDIDATE]            compare a candidate with the live model on the held-out sets
    promote [CANDIDATE]             put a candidate live, unless the evidence says it is worse
    rollback                        put the previous model back
    export --from DATE --to DATE    redacted transcripts for those days (JSON lines or CSV)
    export ... --misses FILE        and the personal details staff found left in, for the developers
    purge                           delete transcripts older than the retention period (90 days)
    purge --conversation ID         delete one conversation

Changes need --actor NAME (recorded in the audit log, var/retrain/audit.jsonl).
Exit status: 0 done, 1 refused or failed (the message says why), 2 wrong usage.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, List, Optional, TextIO

from bot.retrain import config as config_mod

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Refused(Exception):
    """Stop with exit status 1 and this message."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30")


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days")
    if value < 1:
        raise argparse.ArgumentTypeError("keep at least one day")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.retrain", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Improve the assistant: review what it misunderstood, label it, retrain, check the new\n"
                    "model on the held-out sets and put it live unless the evidence says it is worse.\n\n"
                    + __doc__.split("\n\n", 1)[1].split("Exit status")[0].rstrip(),
        epilog="Settings: config/retrain.yml. Help on one command: python -m bot.retrain COMMAND --help")
    parser.add_argument("--config", type=Path, help="settings file (default: config/retrain.yml)")
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--actor", metavar="NAME", help="your name, recorded in the audit log (required)")
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument("--offline", action="store_true",
                        help="the assistant is not running: only change which model it starts with next time")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    review = commands.add_parser("review", help="show the messages to review, with their ids",
                                 description="Family messages the bot was unsure about, got wrong or was "
                                             "marked unhelpful for, plus a few random ones to check. Near-"
                                             "identical messages are shown once with a count. Personal "
                                             "details are replaced by placeholders.")
    review.add_argument("--limit", type=int, default=50, help="show at most this many (default 50)")
    review.add_argument("--json", action="store_true", help="print JSON instead of text")

    label = commands.add_parser("label", parents=[who], help="say what a message from the review means",
                                description="Label a message from `review` by its id. Give the intent it "
                                            "should have (see docs/intents.md), or --not-useful, or "
                                            "--new-intent NAME if none fits.")
    label.add_argument("id", help="the message id shown by review")
    label.add_argument("intent", nargs="?", help="the intent the message should have, e.g. section_20")
    label.add_argument("--not-useful", action="store_true", help="nothing to learn from this message")
    label.add_argument("--new-intent", metavar="NAME", help="suggest a new intent to the developers")
    label.add_argument("--note", help="a short note for the audit log or the developers")

    train = commands.add_parser("train", parents=[who], help="train a new candidate model and evaluate it",
                                description="Train a candidate model from the training data (it does not go "
                                            "live), showing progress, then compare it with the live model.")
    train.add_argument("--no-evaluate", action="store_true", help="train only; evaluate later")
    train.add_argument("--measure-noise", action="store_true",
                       help="instead: train the NLU twice on the same data (no candidate is made; about twice "
                            "as long) and show how much the two differ on the held-out sets")

    commands.add_parser("status", help="the latest training and which model is live")

    evaluate = commands.add_parser("evaluate", help="compare a candidate with the live model",
                                   description="Run the candidate and the live model on the held-out sets (dev, "
                                               "blind, wild), the crisis set and the messages labelled since "
                                               "the live model; show what changed and say whether the "
                                               "evidence lets the candidate go live.")
    evaluate.add_argument("candidate", nargs="?", help="candidate file or name (default: the newest)")

    promote = commands.add_parser("promote", parents=[who, server], help="put a candidate live",
                                  description="Put an evaluated candidate live without dropping conversations, "
                                              "unless it is worse than the live model with 95% confidence or "
                                              "the safety net catches fewer crisis messages.")
    promote.add_argument("candidate", nargs="?", help="candidate file or name (default: the newest)")

    commands.add_parser("rollback", parents=[who, server], help="put the previous model back")

    export = commands.add_parser("export", parents=[who], help="redacted transcripts for a date range",
                                 description="Write every family, bot and adviser message between two dates "
                                             "(days in England, both included), with personal details replaced.")
    export.add_argument("--from", dest="first", type=_date, required=True, metavar="DATE", help="first day, 2026-11-01")
    export.add_argument("--to", dest="last", type=_date, required=True, metavar="DATE", help="last day, 2026-11-30")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="jsonl (default) or csv")
    export.add_argument("--out", type=Path, help="file to write (default: the screen)")
    export.add_argument("--misses", type=Path, metavar="FILE",
                        help="also write the personal details staff reported left in by the redactor on those "
                             "days, as failing cases for the developers (Markdown; default with --out: "
                             "OUT.redaction-misses.md when there are any)")

    purge = commands.add_parser("purge", parents=[who], help="delete old transcripts, or one conversation",
                                description="Delete transcripts older than the retention period "
                                            "(config/retrain.yml, 90 days), or one conversation with "
                                            "--conversation. Labelled training examples are kept.")
    group = purge.add_mutually_exclusive_group()
    group.add_argument("--days", type=_days, help="delete what is older than this many days instead")
    group.add_argument("--conversation", metavar="ID", help="delete this one conversation")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def _candidate(cfg: config_mod.RetrainConfig, given: Optional[str]) -> Path:
    if given:
        path = Path(given)
        for option in (path, cfg.candidates_dir / given, cfg.candidates_dir / f"{given}.tar.gz"):
            if option.is_file():
                return option.resolve()
        raise Refused(f"no candidate called {given!r} in {cfg.candidates_dir}")
    found = sorted(cfg.candidates_dir.glob("candidate-*.tar.gz"))
    if not found:
        raise Refused("there is no candidate yet: run `python -m bot.retrain train --actor NAME` first")
    return found[-1].resolve()


def _server(cfg: config_mod.RetrainConfig, offline: bool):
    from bot.retrain.model_server import ModelFleet

    return None if offline else ModelFleet(cfg.all_rasa_servers, config_mod.rasa_token(cfg))


def _print_item(item, out: TextIO) -> None:
    from bot.retrain.inbox import REASONS

    count = f" x{item.count}" if item.count > 1 else ""
    out.write(f"[{item.id}]{count}  {item.text}\n")
    out.write(f"    why: {'; '.join(REASONS[r] for r in item.reasons)}\n")
    hints = ", ".join(f"{name} {conf:.2f}" for name, conf in item.suggestions) or "none"
    out.write(f"    model said: {item.intent} ({item.confidence:.2f});  top 3: {hints}\n")
    for variant in item.variants:
        out.write(f"    also: {variant}\n")
    if item.in_test_set:
        out.write("    (this message is in a held-out set, so it cannot be added to the training data)\n")


def _plain(text: object, limit: int = 160) -> str:
    """One line of a message for the terminal: control characters become spaces, long ones are cut."""
    import unicodedata

    line = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in str(text))
    line = " ".join(line.split())
    return line if len(line) <= limit else line[:limit - 1] + "\u2026"


def _signed(value: float) -> str:
    from bot.retrain.gate import _signed as signed

    return signed(value)


def _share(value: float) -> str:
    from bot.retrain.gate import share_text

    return share_text(value)


CHANGED_SHOWN = 60


def _print_changed(changed, out: TextIO, limit: int = CHANGED_SHOWN) -> None:
    if not changed:
        out.write("No held-out, crisis-set or labelled message gets a different answer.\n")
        return
    counts = {kind: sum(c["change"] == kind for c in changed) for kind in ("worse", "better", "still wrong")}
    out.write(f"{len(changed)} messages get a different answer ({counts['worse']} now wrong, {counts['better']} now "
              f"right, {counts['still wrong']} wrong before and after):\n")
    for entry in changed[:limit]:
        mark = {"worse": "WORSE ", "better": "better", "still wrong": "wrong "}[entry["change"]]
        out.write(f"  {mark} [{entry['set']}] \u201c{_plain(entry['text'])}\u201d\n"
                  f"         right: {entry['right']};  {entry['before']} \u2192 {entry['after']}"
                  f" ({'right' if entry['was_right'] else 'wrong'} \u2192 {'right' if entry['now_right'] else 'wrong'})\n")
    if len(changed) > limit:
        out.write(f"  ... and {len(changed) - limit} more (all in the report file)\n")


def _print_evidence(decision, out: TextIO) -> None:
    rules = decision.get("rules") or {}
    level = f"{2 * float(rules.get('confidence', 0.95)) - 1:.0%}"
    out.write(f"\nMacro-F1, candidate against live (paired bootstrap, {int(rules.get('resamples', 0)):,} resamples, "
              f"seed {rules.get('seed')}):\n")
    out.write(f"{'':<28}{'n':>6}{'live':>8}{'cand':>8}{'diff':>9}   {level + ' interval':<22}{'worse in':>9}\n")
    rows = [("all held-out", decision["overall"])] if decision.get("overall") else []
    rows += [(f"{s['name']} ({Path(s['source']).name})", s) for s in decision.get("sets") or []]
    for label, row in rows:
        interval = f"{_signed(row['low'])} to {_signed(row['high'])}"
        out.write(f"{label[:27]:<28}{row['messages']:>6}{row['live']:>8.3f}{row['candidate']:>8.3f}"
                  f"{_signed(row['difference']):>9}   {interval:<22}{_share(row['worse_share']):>9}"
                  f"{'  WORSE' if row.get('worse') else ''}\n")
    intents = decision.get("intents") or []
    if intents:
        out.write(f"\nIntents whose answers changed (F1 on all held-out messages):\n")
        out.write(f"{'intent':<28}{'n':>6}{'live':>8}{'cand':>8}{'diff':>9}   {level + ' interval':<22}{'worse in':>9}\n")
        for row in intents:
            interval = f"{_signed(row['low'])} to {_signed(row['high'])}"
            out.write(f"{row['intent'][:27]:<28}{row['messages']:>6}{row['live']:>8.2f}{row['candidate']:>8.2f}"
                      f"{_signed(row['difference']):>9}   {interval:<22}{_share(row['worse_share']):>9}"
                      f"{'  WORSE' if row.get('worse') else ''}\n")
    crisis = decision.get("crisis") or {}
    if crisis.get("checked"):
        out.write(f"\nSafety net on {crisis['source']}: catches {crisis['candidate_caught']} of "
                  f"{crisis['crisis_messages']} crisis messages (live {crisis['live_caught']}); false alarms "
                  f"{crisis['candidate_false_alarms']} of {crisis['other_messages']} (live "
                  f"{crisis['live_false_alarms']})\n")


def _print_report(report, out: TextIO) -> None:
    decision = report.get("gate")
    if not decision:  # a report from before issue 20
        out.write(f"This evaluation ({report.get('evaluated_at')}) predates the promotion gate: evaluate it again.\n")
        return
    sets = ", ".join(f"{s['name']} {s['file']} ({s['messages']})" for s in report.get("held_out") or [])
    out.write(f"Compared on {report['messages']:,} held-out messages: {sets}")
    crisis = decision.get("crisis") or {}
    if crisis.get("checked"):
        out.write(f"; and the crisis set {crisis['source']} ({crisis['crisis_messages']} crisis, "
                  f"{crisis['other_messages']} not)")
    out.write(".\n\n")
    labels = decision.get("labels") or {}
    out.write(f"Your labels: {_plain(labels.get('text', ''), 2000)}\n\n")
    _print_changed(decision.get("changed") or [], out)
    _print_evidence(decision, out)
    out.write(f"\nReport: {report['files']['report']}\nPictures: {report['files']['confusion']}\n"
              f"          {report['files']['comparison']}\n\n")
    out.write(_plain(report["promotion"].get("verdict") or decision.get("verdict") or "", 100_000) + "\n")
    if report["promotion"]["ok"]:
        out.write("The candidate can be promoted (python -m bot.retrain promote --actor NAME).\n")
    else:
        out.write("The candidate cannot be promoted:\n")
        for reason in report["promotion"]["reasons"]:
            out.write(f"  - {_plain(reason, 100_000)}\n")


def _print_noise(result, out: TextIO) -> None:
    decision = result["gate"]
    extra = result.get("one_more")
    data = (f"the second with one more example (\u201c{_plain(extra['text'])}\u201d as {extra['intent']})" if extra
            else "on the same data")
    out.write(f"Trained twice, {data}: {result['runs'][0]} and {result['runs'][1]}.\n")
    out.write(f"{result['changed_held_out']} of {result['held_out_messages']:,} held-out messages and "
              f"{result['changed_crisis']} of {result['crisis_messages']} crisis-set messages get a different "
              "answer from the second training.\n")
    _print_changed(decision.get("changed") or [], out, limit=20)
    _print_evidence(decision, out)
    out.write("\nIf the second training were a candidate, the promotion gate would "
              + ("allow it.\n" if decision["ok"] else "refuse it: " + "; ".join(decision["reasons"]) + "\n"))
    out.write(f"Saved: {result['file']}\n")


class _ProgressBar:
    def __init__(self, out: TextIO):
        self.out, self.last = out, None

    def __call__(self, status) -> None:
        shown = (status.state, int(status.percent), status.component, status.time_left)
        if shown == self.last:
            return
        self.last = shown
        filled = int(status.percent / 5)
        what = status.component or status.message
        left = f", {status.time_left}" if status.time_left else ""
        self.out.write(f"\r[{'#' * filled}{'.' * (20 - filled)}] {status.percent:5.1f}%  {status.state}: "
                       f"{(what + left)[:64]:<64}")
        self.out.flush()


def run(args: argparse.Namespace, clock: Clock, out: TextIO, err: TextIO) -> int:
    cfg = config_mod.load_config(args.config, args.project)
    from bot.retrain import audit, deploy, evaluation, export, inbox, labels, retention, training

    if hasattr(args, "actor"):
        args.actor = audit.check_actor(args.actor)
    if args.command == "review":
        items = inbox.load_inbox(cfg, clock())
        if args.json:
            out.write(json.dumps([i.to_dict() for i in items[:args.limit]], indent=1, ensure_ascii=False) + "\n")
            return 0
        out.write(f"{len(items)} to review (last {cfg.inbox.days} days){', showing ' + str(args.limit) if len(items) > args.limit else ''}\n\n")
        for item in items[:args.limit]:
            _print_item(item, out)
            out.write("\n")
        if items:
            out.write("Label one: python -m bot.retrain label ID INTENT --actor NAME "
                      "(or --not-useful, or --new-intent NAME)\n")
        return 0
    if args.command == "label":
        if sum([bool(args.intent), args.not_useful, bool(args.new_intent)]) != 1:
            raise Refused("give exactly one of: an INTENT, --not-useful, or --new-intent NAME")
        done = labels.decide(cfg, args.id, args.actor, clock(), intent=args.intent, not_useful=args.not_useful,
                             new_intent=args.new_intent, note=args.note)
        if done["action"] == "label":
            out.write(f"Added to {done['intent']} in {Path(done['file']).name} (line {done['line']}): "
                      f"{done['example']}\nIt is used from the next training (python -m bot.retrain train).\n")
        elif done["action"] == "not_useful":
            out.write("Marked not useful; it will not be shown again.\n")
        else:
            out.write(f"Suggested new intent {done['intent']} for the developers.\n")
        return 0
    if args.command == "train" and args.measure_noise:
        result = training.measure_noise(cfg, args.actor, clock=clock, on_progress=_ProgressBar(err))
        err.write("\n")
        _print_noise(result, out)
        return 0
    if args.command == "train":
        status = training.train_candidate(cfg, args.actor, clock=clock, evaluate=not args.no_evaluate,
                                          on_progress=_ProgressBar(err), server=_server(cfg, False))
        err.write("\n")
        if status.state != "done":
            raise Refused(f"training failed: {status.message}\n" + "\n".join(status.log_tail[-8:]))
        out.write(f"Trained {status.candidate_path}\n")
        if status.report:
            _print_report(json.loads(Path(status.report).read_text()), out)
        return 0
    if args.command == "status":
        state = training.read_status(cfg)
        out.write(f"Training: {state['state']}")
        if state.get("candidate"):
            out.write(f" ({state['candidate']}, {state['percent']}%, started {state['started']} by {state['actor']})")
        out.write(f"\n  {state.get('message') or ''}\n")
        live = deploy.read_live(cfg)
        out.write(f"Live model: {live.get('live') or deploy.live_model(cfg)}\n")
        if live.get("previous"):
            out.write(f"Previous (rollback): {live['previous']}\n")
        return 0
    if args.command == "evaluate":
        report = evaluation.evaluate_candidate(cfg, _candidate(cfg, args.candidate), now=clock(),
                                               live=deploy.current_live(cfg, _server(cfg, False)))
        _print_report(report, out)
        return 0
    if args.command == "promote":
        candidate = _candidate(cfg, args.candidate)
        state = deploy.promote(cfg, candidate, args.actor, clock(), server=_server(cfg, args.offline))
        out.write(f"Live now: {state['live']}\nPrevious (for rollback): {state['previous']}\n")
        if args.offline:
            out.write("The running assistant was not told; it uses this model from its next start.\n")
        return 0
    if args.command == "rollback":
        state = deploy.rollback(cfg, args.actor, clock(), server=_server(cfg, args.offline))
        out.write(f"Live now: {state['live']} (rolled back from {state['previous']})\n")
        return 0
    if args.command == "export":
        if args.out:
            fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # transcripts: owner only
            with open(fd, "w", newline="") as handle:
                rows = export.export_transcripts(cfg, args.first, args.last, handle, fmt=args.format,
                                                 actor=args.actor, now=clock())
            err.write(f"Wrote {rows} messages to {args.out}\n")
        else:
            export.export_transcripts(cfg, args.first, args.last, out, fmt=args.format, actor=args.actor,
                                      now=clock())
        misses = export.redaction_misses(cfg, args.first, args.last)
        target = args.misses or (args.out.with_name(args.out.name + ".redaction-misses.md")
                                 if args.out and misses else None)
        if target:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(fd, "w") as handle:
                export.write_misses(misses, handle)
            err.write(f"Wrote {len(misses)} redaction misses for the developers to {target}\n")
        elif misses:
            err.write(f"Staff reported {len(misses)} personal details left in by the redactor on these days: "
                      "add --misses FILE to write them for the developers\n")
        return 0
    if args.command == "purge":
        what = (f"conversation {args.conversation}" if args.conversation
                else f"all transcripts older than {args.days or cfg.retention_days} days")
        if not args.yes:
            if not sys.stdin.isatty():
                raise Refused(f"this deletes {what} for good; add --yes to confirm")
            if input(f"Delete {what} for good? Type yes: ").strip().lower() != "yes":
                raise Refused("nothing deleted")
        if args.conversation:
            deleted = retention.delete_conversation(cfg, args.conversation, now=clock(), actor=args.actor)
        else:
            deleted = retention.delete_older_than(cfg, now=clock(), actor=args.actor, days=args.days)
        out.write("Deleted: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in deleted.to_dict().items()) + "\n")
        return 0
    raise Refused("say what to do: review, label, train, status, evaluate, promote, rollback, export or purge "
                  "(python -m bot.retrain --help)")


def main(argv: Optional[List[str]] = None, *, clock: Clock = utc_now, out: TextIO = sys.stdout,
         err: TextIO = sys.stderr) -> int:
    from bot.retrain.audit import AuditError
    from bot.retrain.deploy import PromotionRefused
    from bot.retrain.labels import LabelRefused
    from bot.retrain.model_server import ModelServerError
    from bot.retrain.privacy import RedactionUnavailable
    from bot.retrain.training import TrainingBusy

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or wrong usage (2): argparse has said why on stderr
        return int(stop.code or 0)
    if args.command is None:
        parser.print_help(err)
        return 2
    if hasattr(args, "actor") and not args.actor:
        err.write(f"{parser.prog} {args.command}: error: say who you are with --actor NAME "
                  "(every change is recorded in the audit log)\n")
        return 2
    try:
        return run(args, clock, out, err)
    except (Refused, LabelRefused, PromotionRefused, TrainingBusy, AuditError, ModelServerError,
            RedactionUnavailable, config_mod.ConfigError, FileNotFoundError, ValueError) as error:
        err.write(f"{parser.prog} {args.command}: {error}\n")
        return 1
