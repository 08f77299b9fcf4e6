"""Whether a family asking for a person can join the webchat queue, and what the bot tells them.

Pure: the caller passes the policy, the current time and how many advisers the gateway says are free.
The words come from the `handoff:` section of actions/content/conversation.yml.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, List, Mapping, Optional

from bot.service_hours import ServicePolicy, Session, format_clock, format_when


class HandoffKind(str, Enum):
    QUEUE = "queue"  # webchat hours and an adviser is available: join the queue
    NO_ADVISER = "no_adviser"  # webchat hours but nobody is available
    CLOSED = "closed"  # outside webchat hours


@dataclass(frozen=True)
class HandoffDecision:
    kind: HandoffKind
    webchat_open_now: bool
    webchat_next: Optional[Session]  # next webchat session starting after now
    advice_line_open_now: bool
    advice_line_next: Optional[Session]  # next advice line session starting after now
    webchat_current: Optional[Session] = None
    advice_line_current: Optional[Session] = None


def decide(policy: ServicePolicy, now: datetime, advisers_available: int) -> HandoffDecision:
    """Queue, no adviser or closed, with the webchat and advice line times to tell the family."""
    if advisers_available < 0:
        raise ValueError(f"advisers_available must not be negative, got {advisers_available}")
    webchat = policy.current_session("webchat", now)
    line = policy.current_session("advice_line", now)
    if webchat is None:
        kind = HandoffKind.CLOSED
    else:
        kind = HandoffKind.QUEUE if advisers_available > 0 else HandoffKind.NO_ADVISER
    return HandoffDecision(
        kind=kind,
        webchat_open_now=webchat is not None,
        webchat_next=policy.next_session("webchat", now),
        advice_line_open_now=line is not None,
        advice_line_next=policy.next_session("advice_line", now),
        webchat_current=webchat,
        advice_line_current=line,
    )


def handoff_text(decision: HandoffDecision, content: Any) -> str:
    """The family-facing reply to a request for a person. `content`: a Content, or the handoff mapping."""
    words = _templates(content)
    if decision.kind is HandoffKind.QUEUE:
        return words["queue"]
    lead = [_no_adviser(decision, words)] if decision.kind is HandoffKind.NO_ADVISER else []
    return _join(lead + _what_next(decision, words))


def queue_closed_text(decision: HandoffDecision, content: Any) -> str:
    """For a family who was waiting when the last adviser went offline or the session ended.

    `decision` is a fresh `decide(...)` made when the queue closed.
    """
    words = _templates(content)
    lead = words["queue_closed" if decision.kind is HandoffKind.CLOSED else "queue_closed_no_adviser"]
    return _join([lead] + _what_next(decision, words))


def _no_adviser(decision: HandoffDecision, words: Mapping[str, str]) -> str:
    session = decision.webchat_current
    if session is None:
        return words["no_adviser"]
    return words["no_adviser_until"].format(until=format_clock(session.end, session.end.tzinfo))


def _what_next(decision: HandoffDecision, words: Mapping[str, str]) -> List[str]:
    parts = []
    if not decision.webchat_open_now:
        parts.append(_at(words, "webchat_next", "webchat_none", decision.webchat_next))
    if decision.advice_line_current is not None:
        end = decision.advice_line_current.end
        parts.append(words["advice_line_open"].format(until=format_clock(end, end.tzinfo)))
    else:
        parts.append(_at(words, "advice_line_next", "advice_line_none", decision.advice_line_next))
    return parts + [words["other_ways"], words["meanwhile"]]


def _at(words: Mapping[str, str], key: str, none_key: str, session: Optional[Session]) -> str:
    if session is None:
        return words[none_key]
    return words[key].format(when=format_when(session.start, session.start.tzinfo))


def _templates(content: Any) -> Mapping[str, str]:
    say = getattr(content, "say", None)
    return say("handoff") if callable(say) else content


def _join(parts: List[str]) -> str:
    return " ".join(part.strip() for part in parts if part and part.strip())
