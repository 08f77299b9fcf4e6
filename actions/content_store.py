"""The bot's words, loaded from the YAML files in actions/content/ (staff edit those, not code).

The service hours in them are placeholders, {advice_line_hours} and {webchat_hours}, filled in from
config/service_hours.yml when the content is loaded."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
import re
from types import MappingProxyType
from typing import Any, Dict, List, Mapping, Optional, Pattern, Tuple

import yaml

from bot.service_hours import fill_hours, hours_words, load_policy

CONTENT_DIR = Path(__file__).parent / "content"


@dataclass(frozen=True)
class Topic:
    intent: str
    title: str
    answer: List[str]
    more: List[str]
    next_step: Optional[str]


@dataclass(frozen=True)
class Aspect:
    """A sub-answer under one or more topics, chosen by words in the family's message
    ("what happens at the final hearing", "what is a placement order"): no intent of its own."""
    name: str
    topics: Tuple[str, ...]
    words: Tuple[Pattern[str], ...]
    answer: List[str]
    next_step: Optional[str]

    def matches(self, intent: str, text: Optional[str]) -> bool:
        return bool(text) and intent in self.topics and any(p.search(text) for p in self.words)


@dataclass(frozen=True)
class Content:
    topics: Dict[str, Topic]
    variants: Dict[str, Dict[str, List[str]]]  # group -> value -> the tailored first reply
    next_steps: Dict[str, str]
    conversation: Dict[str, Any]
    variants_more: Dict[str, Dict[str, List[str]]] = field(default_factory=dict)  # its "Tell me more"
    aspects: Dict[str, Aspect] = field(default_factory=dict)  # in file order: the first that matches wins

    def aspect_for(self, intent: str, text: Optional[str]) -> Optional[Aspect]:
        """The sub-answer the message asks for under this topic, if its words say so."""
        if not text or text.startswith("/"):  # a button payload names no aspect
            return None
        return next((a for a in self.aspects.values() if a.matches(intent, text)), None)

    def topic(self, intent: str) -> Optional[Topic]:
        return self.topics.get(intent)

    def variant(self, group: str, value: str) -> List[str]:
        return list(self.variants.get(group, {}).get(value, []))

    def variant_more(self, group: str, value: str) -> List[str]:
        return list(self.variants_more.get(group, {}).get(value, []))

    def next_step(self, name: Optional[str]) -> Optional[str]:
        return self.next_steps.get(name) if name else None

    def say(self, *path: str) -> Any:
        """A piece of conversation.yml by its path, e.g. say("clarify", "first")."""
        node: Any = self.conversation
        for key in path:
            node = node[key]
        return node


def _variant_parts(spec: Any) -> Tuple[List[str], List[str]]:
    """A variant is either a list of paragraphs (the reply) or {answer: [...], more: [...]}."""
    if isinstance(spec, dict):
        return [str(p) for p in spec.get("answer") or []], [str(p) for p in spec.get("more") or []]
    return [str(p) for p in spec or []], []


def _filled(node: Any, hours: Mapping[str, str]) -> Any:
    """Every string in a parsed YAML tree with {advice_line_hours} and {webchat_hours} filled in."""
    if isinstance(node, str):
        return fill_hours(node, hours)
    if isinstance(node, dict):
        return {key: _filled(value, hours) for key, value in node.items()}
    if isinstance(node, list):
        return [_filled(value, hours) for value in node]
    return node


def parse_content(answers: Dict[str, Any], conversation: Dict[str, Any],
                  hours: Mapping[str, str] = MappingProxyType({})) -> Content:
    """`hours`: the words for {advice_line_hours} and {webchat_hours} (bot.service_hours.hours_words)."""
    answers, conversation = _filled(answers, hours), _filled(conversation, hours)
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
    groups = {
        group: {value: _variant_parts(spec) for value, spec in values.items()}
        for group, values in (answers.get("variants") or {}).items()
    }
    aspects = {
        name: Aspect(
            name=name,
            topics=tuple(spec["topics"]),
            words=tuple(re.compile(w, re.IGNORECASE) for w in spec["words"]),
            answer=[str(p) for p in spec["answer"]],
            next_step=spec.get("next_step"),
        )
        for name, spec in (answers.get("aspects") or {}).items()
    }
    return Content(
        aspects=aspects,
        topics=topics,
        variants={g: {v: parts[0] for v, parts in values.items()} for g, values in groups.items()},
        next_steps=dict(answers.get("next_steps") or {}),
        conversation=conversation,
        variants_more={g: {v: parts[1] for v, parts in values.items() if parts[1]} for g, values in groups.items()},
    )


@lru_cache(maxsize=None)
def load_content(content_dir: Path = CONTENT_DIR) -> Content:
    def read(name: str) -> Dict[str, Any]:
        with open(content_dir / name, encoding="utf-8") as handle:
            return yaml.safe_load(handle) or {}

    # The hours come from config/service_hours.yml (or $SERVICE_HOURS_FILE), the one place they are written.
    return parse_content(read("answers.yml"), read("conversation.yml"), hours_words(load_policy()))
