"""The gateway's own words, from bot/gateway/texts.yml, with the service hours filled in from
config/service_hours.yml; and the pages and scripts the gateway serves, with those words written in.

`parse_texts`, `render_html` and `render_script` are pure; `load_texts` reads the two files.
"""
from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any, Dict, Mapping, Optional, Tuple

import yaml

from bot.service_hours import ENV_VAR, fill_hours, hours_words, load_policy

TEXTS_FILE = Path(__file__).parent / "texts.yml"


@dataclass(frozen=True)
class Texts:
    """Notices the gateway itself puts in a chat (the bot's own words come from Rasa)."""

    empty: str
    too_long: str  # {limit}
    too_fast: str
    rasa_down: str
    no_answer: str
    queued: str
    taken_over: str  # {adviser}
    handed_back: str  # {adviser}
    ended: str
    emergency_waiting: str
    family_ended: str
    too_many_chats: str
    already_queued: str


@dataclass(frozen=True)
class GatewayTexts:
    notices: Texts
    widget_reconnecting: str
    console_closing: str
    canned: Tuple[Tuple[str, str], ...]  # (title, text): the canned responses stored on first start
    hours: Mapping[str, str]  # {"advice_line_hours": ..., "webchat_hours": ...}: for the family page


def parse_texts(raw: Mapping[str, Any], hours: Mapping[str, str]) -> GatewayTexts:
    """The parsed texts.yml, with {advice_line_hours} and {webchat_hours} filled in from `hours`."""
    def fill(value: Any) -> str:
        return fill_hours(str(value), hours)

    notices = raw["notices"]
    return GatewayTexts(
        notices=Texts(**{name: fill(notices[name]) for name in Texts.__dataclass_fields__}),
        widget_reconnecting=fill(raw["widget_reconnecting"]),
        console_closing=fill(raw["console_closing"]),
        canned=tuple((str(item["title"]), fill(item["text"])) for item in raw.get("canned") or []),
        hours=dict(hours),
    )


def load_texts(env: Mapping[str, str] = os.environ) -> GatewayTexts:
    """texts.yml with the hours of config/service_hours.yml (or $SERVICE_HOURS_FILE); read once per file."""
    return _load(env.get(ENV_VAR) or None)


@lru_cache(maxsize=8)
def _load(policy_file: Optional[str]) -> GatewayTexts:
    with open(TEXTS_FILE, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return parse_texts(raw, hours_words(load_policy(Path(policy_file) if policy_file else None)))


def render_html(template: str, values: Mapping[str, str]) -> str:
    """A page with each $name replaced by its value, HTML-escaped (other $... are left as they are)."""
    return Template(template).safe_substitute({k: html.escape(v) for k, v in values.items()})


def render_script(source: str, values: Mapping[str, str]) -> str:
    """A script with each string literal "$name" replaced by its value as a JavaScript string literal
    (JSON, with <, > and & escaped, so nothing in it can end a script or start markup)."""
    for name, value in values.items():
        literal = json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        source = source.replace(f'"${name}"', literal)
    return source


def page_values(texts: GatewayTexts) -> Dict[str, str]:
    """What the family page and the widget script may use: the hours in words and the widget's banner."""
    return {**texts.hours, "widget_reconnecting": texts.widget_reconnecting}

