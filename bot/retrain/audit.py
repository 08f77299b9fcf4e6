"""The retraining audit log: an append-only JSON-lines file (config/retrain.yml `paths.audit_log`).

One line per action: when (`at`, UTC ISO 8601), who (`actor`), what (`action`), and `before` / `after`
where something changed. Texts in it are redacted. Lines are only ever appended, never rewritten.
"""
from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Set

from bot.retrain.privacy import normalise

# Actions whose message staff have decided on: not shown in the inbox again.
DECISIONS = ("label", "not_useful", "new_intent")
_ACTOR = re.compile(r"^[\w.@' -]{1,64}$")


class AuditError(ValueError):
    pass


def check_actor(actor: Optional[str]) -> str:
    """The name recorded as who did something: required, one line, at most 64 characters."""
    actor = (actor or "").strip()
    if not actor:
        raise AuditError("say who you are (--actor NAME): every change is recorded in the audit log")
    if not _ACTOR.match(actor):
        raise AuditError(f"--actor {actor!r}: use letters, digits, spaces and . @ ' - only, at most 64")
    return actor


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class AuditLog:
    def __init__(self, path: Path):
        self.path = Path(path)

    def record(self, actor: str, action: str, at: datetime, *, before: Any = None, after: Any = None,
               **detail: Any) -> Dict[str, Any]:
        entry = {"at": iso(at), "actor": check_actor(actor), "action": action}
        if before is not None:
            entry["before"] = before
        if after is not None:
            entry["after"] = after
        entry.update(detail)
        line = json.dumps(entry, ensure_ascii=False, sort_keys=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))  # one write of one line: appends never interleave
            os.fsync(fd)
        finally:
            os.close(fd)
        return entry

    def entries(self) -> Iterator[Dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)

    def decided_texts(self) -> Set[str]:
        """Messages staff have labelled, marked not useful or sent to developers: the normalised
        redacted text of each, and the fingerprints of every wording grouped with it."""
        decided: Set[str] = set()
        for entry in self.entries():
            if entry.get("action") in DECISIONS:
                before = entry.get("before") or {}
                decided.update(before.get("fingerprints") or [])
                if before.get("text"):
                    decided.add(normalise(before["text"]))
        return decided
