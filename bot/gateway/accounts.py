"""Accounts and capacity (issue 17): roles, the checks a new or changed account must pass, and the
sentences shown when it does not (bot/gateway/texts.yml, `accounts:`). Pure functions; the page and its
API are in bot.gateway.accounts_views, the store calls in bot.gateway.store."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, Optional

import yaml

from bot.gateway.texts import TEXTS_FILE

ROLES = ("adviser", "duty_lead", "staff")  # duty_lead: everything an adviser does, and the reports
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 12
MIN_CHATS, MAX_CHATS = 1, 10  # the most chats at once staff may allow one adviser
DEFAULT_CHATS = 2
# A few passwords long enough to pass the length rule that are still guessed first.
COMMON = {"password1234", "passwordpassword", "123456789012", "qwertyuiopas", "iloveyou1234",
          "changemechangeme", "letmeinletmein", "adminadminadmin"}


@lru_cache(maxsize=1)
def texts() -> Dict[str, str]:
    with open(TEXTS_FILE, encoding="utf-8") as handle:
        return {key: str(value) for key, value in (yaml.safe_load(handle).get("accounts") or {}).items()}


def say(key: str, **values: Any) -> str:
    return texts()[key].format(**values)


def password_problem(password: Any) -> Optional[str]:
    """A sentence if this password may not be used, else None (the rule `make adviser` applies, and
    a short list of well-known ones)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return say("weak_password", min=MIN_PASSWORD)
    if password.lower() in COMMON or len(set(password)) < 4:
        return say("common_password")
    return None


def username_problem(username: Any) -> Optional[str]:
    return None if isinstance(username, str) and USERNAME.match(username) else say("bad_username")


def role_problem(role: Any) -> Optional[str]:
    return None if role in ROLES else say("unknown_role")


def chats_number(value: Any, highest: int = MAX_CHATS) -> Optional[int]:
    """A whole number of chats from MIN_CHATS to `highest`, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and MIN_CHATS <= value <= highest:
        return value
    return None
