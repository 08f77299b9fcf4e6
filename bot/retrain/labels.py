"""Labelling: what staff decide about an inbox item, written to data/nlu/ and the audit log.

- `label_item`: the right intent. The (redacted) message is appended to that intent's `examples: |`
  block in the data/nlu/ file that already holds the most examples of that intent. The file is edited
  surgically (one line inserted, everything else byte for byte the same, comments included), then
  re-read to check that exactly that example was added.
- `mark_not_useful`: nothing to learn from it (e.g. nonsense, a test message); only audited.
- `suggest_new_intent`: none of our intents fits; recorded for developers in the audit log, never
  written to training data.

Refused, with a message that says why (LabelRefused): an intent not in domain.yml, a message already in
the training data (compared normalised, any intent), and a message in tests/nlu_test.yml (the test set
must stay unseen, or the evaluation would flatter the model).
"""
from __future__ import annotations

import contextlib
import difflib
import fcntl
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

import yaml

from bot.retrain.audit import AuditLog, check_actor
from bot.retrain.config import RetrainConfig
from bot.retrain.inbox import InboxItem
from bot.retrain.privacy import normalise

_INTENT_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
PUBLIC_PREFIX = "public_"  # data/nlu/public_*.yml: paraphrases of public pages, each traced to its page
_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")  # bot.redact's typed placeholders: [NAME], [PHONE], ...


class LabelRefused(ValueError):
    """A label that would harm the training data; the message says why, in plain English."""


def _examples(block_text: Optional[str]) -> List[str]:
    """The examples of one `examples: |` block, as tests/test_training_data.py and eval_nlu read them."""
    return [line[2:].strip() for line in (block_text or "").strip().splitlines() if line.strip()]


@dataclass
class TrainingData:
    """What data/nlu/ holds: for each file, each intent's examples."""
    files: Dict[Path, Dict[str, List[str]]]

    @classmethod
    def load(cls, nlu_dir: Path) -> "TrainingData":
        files: Dict[Path, Dict[str, List[str]]] = {}
        for path in sorted(Path(nlu_dir).glob("*.yml")):
            intents: Dict[str, List[str]] = {}
            for block in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
                if isinstance(block, dict) and "intent" in block:
                    intents.setdefault(block["intent"], []).extend(_examples(block.get("examples")))
            files[path] = intents
        return cls(files)

    def file_for(self, intent: str) -> Optional[Path]:
        """The file holding the most examples of `intent` (its topic file rather than a file of contrasts).
        Never a data/nlu/public_*.yml file: those hold only examples traced to a public page
        (data/nlu_sources.tsv), and a staff label has no page."""
        holders = [(len(intents[intent]), path) for path, intents in self.files.items()
                   if intent in intents and not path.name.startswith(PUBLIC_PREFIX)]
        return sorted(holders, key=lambda h: (-h[0], str(h[1])))[0][1] if holders else None

    def normalised_texts(self) -> Set[str]:
        return {normalise(e) for intents in self.files.values() for lines in intents.values() for e in lines}

    def find(self, text: str) -> Optional[Tuple[str, Path]]:
        wanted = normalise(text)
        for path, intents in self.files.items():
            for intent, lines in intents.items():
                if any(normalise(line) == wanted for line in lines):
                    return intent, path
        return None


def held_out_sources(files: Sequence[Path]) -> Dict[str, Path]:
    """{normalised message: the file it is in} for every message of the held-out sets and the crisis set
    (config.RetrainConfig.unseen_sets; scripts/eval_nlu.py reads them the same way). Missing files are
    skipped. None of these may become training data, or the promotion gate would be checked on messages
    the candidate has learned."""
    from scripts.eval_nlu import load_case_set, load_test_set

    found: Dict[str, Path] = {}
    for path in (Path(f) for f in files):
        if not path.is_file():
            continue
        if path.suffix == ".tsv":
            cases = load_case_set(path)
            texts = cases["crisis"] + cases["not_crisis"]
        else:
            texts = [text for text, _ in load_test_set(path)]
        for text in texts:
            found.setdefault(normalise(text), path)
    return found


def held_out_texts(files: Sequence[Path]) -> Set[str]:
    """Normalised messages of the held-out sets and the crisis set (see `held_out_sources`)."""
    return set(held_out_sources(files))


def domain_intents(domain: Path) -> List[str]:
    names = []
    for entry in (yaml.safe_load(Path(domain).read_text()) or {}).get("intents") or []:
        names.append(next(iter(entry)) if isinstance(entry, dict) else str(entry))
    return names


def clean_example(text: str) -> str:
    """One line of plain text, safe inside a YAML block and not read as Rasa entity markup."""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
                   for c in text if unicodedata.category(c) != "Cf")
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\]([(\[{])", r"] \1", text)  # "[NAME](x)" would be an entity annotation


_ITEM = re.compile(r"^(?P<indent>\s*)-\s+intent:\s*(?P<q>[\"']?)(?P<name>[^\"'#\s]+)(?P=q)\s*(#.*)?$")
_EXAMPLES = re.compile(r"^(?P<indent>\s*)examples:\s*\|[-+]?\d*\s*(#.*)?$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def insert_example(yaml_text: str, intent: str, example: str) -> Tuple[str, int]:
    """`yaml_text` with `- example` appended to `intent`'s first `examples: |` block, and the new line's
    number (1-based). Only that one line is inserted; every other byte, comments included, stays.
    Raises LabelRefused if the file has no literal examples block for `intent`."""
    lines = yaml_text.splitlines(keepends=True)
    for start, line in enumerate(lines):
        found = _ITEM.match(line.rstrip("\n"))
        if found and found["name"] == intent:
            break
    else:
        raise LabelRefused(f"no '- intent: {intent}' block found")
    item_indent = len(found["indent"])
    examples_at = None
    for number in range(start + 1, len(lines)):
        text = lines[number].rstrip("\n")
        if text.strip() and not text.lstrip().startswith("#") and _indent(text) <= item_indent:
            break  # the next item or a top-level key: this item has ended
        if _EXAMPLES.match(text):
            examples_at = number
            break
    if examples_at is None:
        raise LabelRefused(f"intent {intent} has no 'examples: |' block that can be edited automatically")
    key_indent = _indent(lines[examples_at])
    last, example_indent = examples_at, key_indent + 2
    for number in range(examples_at + 1, len(lines)):
        text = lines[number].rstrip("\n")
        if not text.strip():
            continue
        if _indent(text) <= key_indent:
            break
        if last == examples_at:
            example_indent = _indent(text)
        last = number
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    lines.insert(last + 1, " " * example_indent + "- " + example + "\n")
    return "".join(lines), last + 2


def _check_insert(before: str, after: str, intent: str, example: str) -> None:
    """The edited file must read exactly as before plus that one example (with YAML and with Rasa)."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    old, new = yaml.safe_load(before), yaml.safe_load(after)
    old_blocks, new_blocks = old.get("nlu") or [], new.get("nlu") or []
    changed = [i for i, (a, b) in enumerate(zip(old_blocks, new_blocks)) if a != b]
    if ({k: v for k, v in old.items() if k != "nlu"} != {k: v for k, v in new.items() if k != "nlu"}
            or len(old_blocks) != len(new_blocks) or len(changed) != 1):
        raise LabelRefused("the training file could not be edited safely; nothing was changed")
    a, b = old_blocks[changed[0]], new_blocks[changed[0]]
    if (a.get("intent") != intent or {k: v for k, v in a.items() if k != "examples"}
            != {k: v for k, v in b.items() if k != "examples"}
            or _examples(b.get("examples")) != _examples(a.get("examples")) + [example]):
        raise LabelRefused("the training file could not be edited safely; nothing was changed")
    rasa_examples = [m for m in RasaYAMLReader().reads(after).intent_examples
                     if m.get("intent") == intent and m.get("text") == example]
    if len(rasa_examples) != 1 or rasa_examples[0].get("entities"):
        raise LabelRefused("Rasa would not read the new example as plain text; nothing was changed")


@contextlib.contextmanager
def _locked(lock_path: Optional[Path]) -> Iterator[None]:
    """One label at a time (two staff labelling at once must not lose an edit)."""
    if lock_path is None:
        yield
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True)
class AddedExample:
    intent: str
    example: str
    file: Path
    line: int


def check_intent(intent: str, domain: Path) -> str:
    known = domain_intents(domain)
    if intent not in known:
        close = difflib.get_close_matches(intent, known, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else " See docs/intents.md for the list."
        raise LabelRefused(f"'{intent}' is not an intent in domain.yml.{hint}")
    return intent


def add_training_example(text: str, intent: str, *, nlu_dir: Path, domain: Path, held_out: Sequence[Path],
                         lock_path: Optional[Path] = None) -> AddedExample:
    """Append an already redacted message to `intent`'s examples, or raise LabelRefused saying why."""
    check_intent(intent, domain)
    example = clean_example(text)
    if not normalise(_PLACEHOLDER.sub(" ", example)):
        raise LabelRefused("the message has no words left to learn from once personal details are removed")
    norm = normalise(example)
    unseen = held_out_sources(held_out).get(norm)
    if unseen is not None:
        raise LabelRefused(f"this message is in a held-out set ({unseen.parent.name}/{unseen.name}), which must "
                           "stay unseen by training so that the evaluation stays honest; it was not added")
    with _locked(lock_path):
        data = TrainingData.load(nlu_dir)
        existing = data.find(example)
        if existing:
            raise LabelRefused(f"this message is already in the training data as {existing[0]} "
                               f"({existing[1].name}); it was not added again")
        path = data.file_for(intent)
        if path is None:
            raise LabelRefused(f"no file in {Path(nlu_dir).name}/ has examples of {intent} yet; "
                               "a developer must add the first ones by hand")
        before = path.read_text()
        after, line = insert_example(before, intent, example)
        _check_insert(before, after, intent, example)
        _write_atomically(path, after)
    return AddedExample(intent, example, path, line)


def _before(item: InboxItem) -> Dict[str, object]:
    """What the audit log records about the item (its text redacted again, like everything saved)."""
    from bot.retrain import privacy

    return {"item": item.id, "text": privacy.redact(item.text), "count": item.count,
            "fingerprints": [privacy.fingerprint(n) for n in item.normalised],
            "model_intent": item.intent, "confidence": round(item.confidence, 3), "reasons": item.reasons}


def _relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except ValueError:
        return str(path)


def label_item(cfg: RetrainConfig, item: InboxItem, intent: str, actor: str, now: datetime) -> AddedExample:
    """Staff say `item` (from the inbox, so already redacted) means `intent`: add it to training data.
    The text is redacted once more before it is saved, in case the item did not come from the inbox."""
    from bot.retrain import privacy

    actor = check_actor(actor)
    added = add_training_example(privacy.redact(item.text), intent, nlu_dir=cfg.nlu_dir, domain=cfg.domain,
                                 held_out=cfg.unseen_sets, lock_path=cfg.work_dir / "labels.lock")
    AuditLog(cfg.audit_log).record(actor, "label", now, before=_before(item), after={
        "intent": intent, "example": added.example, "file": _relative(added.file, cfg.root), "line": added.line})
    return added


def mark_not_useful(cfg: RetrainConfig, item: InboxItem, actor: str, now: datetime,
                    note: Optional[str] = None) -> None:
    """Nothing to learn from this message; it is not shown again."""
    AuditLog(cfg.audit_log).record(check_actor(actor), "not_useful", now, before=_before(item),
                                   after={"note": note} if note else None)


def suggest_new_intent(cfg: RetrainConfig, item: InboxItem, name: str, actor: str, now: datetime,
                       note: Optional[str] = None) -> None:
    """None of our intents fits: record a suggested new one for developers (not training data)."""
    actor = check_actor(actor)
    if not _INTENT_NAME.match(name or ""):
        raise LabelRefused(f"'{name}' is not a usable intent name: lower case letters, digits and _ only, "
                           "starting with a letter (e.g. school_admissions)")
    if name in domain_intents(cfg.domain):
        raise LabelRefused(f"'{name}' already exists: label the message with it instead")
    after = {"suggested_intent": name}
    if note:
        after["note"] = note
    AuditLog(cfg.audit_log).record(actor, "new_intent", now, before=_before(item), after=after)


def new_intent_suggestions(cfg: RetrainConfig) -> List[Dict[str, object]]:
    """What staff suggested for developers: suggested name, example (redacted), who, when."""
    return [{"intent": e["after"]["suggested_intent"], "text": e["before"]["text"], "note": e["after"].get("note"),
             "actor": e["actor"], "at": e["at"]}
            for e in AuditLog(cfg.audit_log).entries() if e.get("action") == "new_intent"]


def decide(cfg: RetrainConfig, item_id: str, actor: str, now: datetime, *, intent: Optional[str] = None,
           not_useful: bool = False, new_intent: Optional[str] = None,
           note: Optional[str] = None) -> Dict[str, object]:
    """One staff decision on the inbox item with this id (exactly one of intent, not_useful, new_intent).
    Returns what was done; raises LabelRefused saying why not."""
    from bot.retrain.inbox import find_item, load_inbox

    if sum([bool(intent), bool(not_useful), bool(new_intent)]) != 1:
        raise LabelRefused("give exactly one of: an intent, not useful, or a new intent name")
    actor = check_actor(actor)
    item = find_item(load_inbox(cfg, now), item_id)
    if item is None:
        raise LabelRefused(f"no message with id {item_id} in the review inbox (it may have been labelled already)")
    if intent:
        added = label_item(cfg, item, intent, actor, now)
        return {"action": "label", "intent": added.intent, "example": added.example,
                "file": _relative(added.file, cfg.root), "line": added.line}
    if not_useful:
        mark_not_useful(cfg, item, actor, now, note)
        return {"action": "not_useful"}
    suggest_new_intent(cfg, item, new_intent, actor, now, note)
    return {"action": "new_intent", "intent": new_intent}
