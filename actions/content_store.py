"""The bot's words, loaded from the YAML files in actions/content/ (staff edit those, not code)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

CONTENT_DIR = Path(__file__).parent / "content"


@dataclass(frozen=True)
class Topic:
    intent: str
    title: str
    answer: List[str]
    more: List[str]
    next_step: Optional[str]


@dataclass(frozen=True)
class Content:
    topics: Dict[str, Topic]
    variants: Dict[str, Dict[str, List[str]]]
    next_steps: Dict[str, str]
    conversation: Dict[str, Any]

    def topic(self, intent: str) -> Optional[Topic]:
        return self.topics.get(intent)

    def variant(self, group: str, value: str) -> List[str]:
        return list(self.variants.get(group, {}).get(value, []))

    def next_step(self, name: Optional[str]) -> Optional[str]:
        return self.next_steps.get(name) if name else None

    def say(self, *path: str) -> Any:
        """A piece of conversation.yml by its path, e.g. say("clarify", "first")."""
        node: Any = self.conversation
        for key in path:
            node = node[key]
        return node


def parse_content(answers: Dict[str, Any], conversation: Dict[str, Any]) -> Content:
    topics = {
        intent: Topic(
            intent=intent,
            title=str(spec["title"]),
            answer=[str(p) for p in spec.get("answer", [])],
            more=[str(p) for p in spec.get("more", []) or []],
            next_step=spec.get("next_step"),
        )
        for intent, spec in (answers.get("topics") or {}).items()
    }
    return Content(
        topics=topics,
        variants={k: {vk: list(vv) for vk, vv in v.items()} for k, v in (answers.get("variants") or {}).items()},
        next_steps=dict(answers.get("next_steps") or {}),
        conversation=conversation,
    )


@lru_cache(maxsize=None)
def load_content(content_dir: Path = CONTENT_DIR) -> Content:
    def read(name: str) -> Dict[str, Any]:
        with open(content_dir / name, encoding="utf-8") as handle:
            return yaml.safe_load(handle) or {}

    return parse_content(read("answers.yml"), read("conversation.yml"))
