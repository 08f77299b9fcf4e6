"""What the promotion gate says to staff: the sentences of config/retrain_text.yml, read once.

`Wording(data).say("labels_check.none")` or `.say("reasons.intent_worse", intent=..., ...)` fills one
sentence in; `default_wording()` reads the project's file (the only I/O here, cached). A missing sentence
or a missing name in one is a KeyError naming it, so a wrong file fails loudly, not with half a sentence.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

from bot import settings as settings_mod

DEFAULT_FILE = settings_mod.ROOT / "config" / "retrain_text.yml"


class Wording:
    def __init__(self, data: Mapping[str, Any]):
        self.data = data

    def template(self, key: str) -> str:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"config/retrain_text.yml has no sentence {key}")
            node = node[part]
        if not isinstance(node, str):
            raise KeyError(f"config/retrain_text.yml: {key} should be one sentence")
        return node

    def say(self, key: str, **values: Any) -> str:
        template = self.template(key)
        try:
            return template.format(**values)
        except KeyError as missing:
            raise KeyError(f"config/retrain_text.yml: {key} uses {missing}, which the gate does not give") from None


@functools.lru_cache(maxsize=4)
def load_wording(path: Optional[Path] = None) -> Wording:
    return Wording(yaml.safe_load(Path(path or DEFAULT_FILE).read_text(encoding="utf-8")) or {})


def default_wording() -> Wording:
    return load_wording(DEFAULT_FILE)
