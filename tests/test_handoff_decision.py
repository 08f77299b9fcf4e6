"""The handoff decision and the words the family sees. Pure: a fixed policy and fixed times."""
import re
from datetime import datetime, timedelta

import pytest

from actions.content_store import load_content
from bot.handoff_decision import HandoffDecision, HandoffKind, decide, handoff_text, queue_closed_text
from bot.service_hours import LONDON, parse_policy
from tests.test_service_hours import raw_policy

CONTENT = load_content()
WORDS = CONTENT.say("handoff")
ADVICE_LINE = "0808 801 0366"


def make_policy(webchat=None, closures=()):
    return parse_policy(raw_policy(closures=closures, webchat=webchat))


POLICY = make_policy()


def ldn(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


# --- the decision -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now, advisers, kind",
    [
        (ldn(2025, 11, 24, 13, 30), 1, HandoffKind.QUEUE),
        (ldn(2025, 11, 24, 13, 0, 0), 3, HandoffKind.QUEUE),
        (ldn(2025, 11, 24, 14, 59, 59), 1, HandoffKind.QUEUE),
        (ldn(2025, 11, 24, 13, 30), 0, HandoffKind.NO_ADVISER),
        (ldn(2025, 11, 24, 15, 0, 0), 2, HandoffKind.CLOSED),  # session just ended
        (ldn(2025, 11, 24, 12, 59, 59), 2, HandoffKind.CLOSED),
        (ldn(2025, 11, 25, 13, 30), 5, HandoffKind.CLOSED),  # Tuesday: advisers online but no webchat hours
        (ldn(2025, 11, 22, 13, 30), 0, HandoffKind.CLOSED),
        (ldn(2026, 12, 28, 13, 30), 1, HandoffKind.CLOSED),  # Boxing Day substitute
    ],
)
def test_decision_kind(now, advisers, kind):
    decision = decide(POLICY, now, advisers)
    assert decision.kind is kind
    assert decision.kind == kind.value  # a str enum: compares with the plain name too
    assert decision.webchat_open_now is (kind is not HandoffKind.CLOSED)


def test_queue_decision_fields():
    decision = decide(POLICY, ldn(2025, 11, 24, 13, 30), 1)
    assert decision.webchat_current.end == ldn(2025, 11, 24, 15, 0)
    assert decision.webchat_next.start == ldn(2025, 11, 27, 13, 0)  # the next one, strictly after now
    assert decision.advice_line_open_now
    assert decision.advice_line_next.start == ldn(2025, 11, 25, 9, 30)


def test_closed_decision_fields_on_a_saturday():
    decision = decide(POLICY, ldn(2025, 11, 22, 10, 0), 0)
    assert not decision.webchat_open_now and decision.webchat_current is None
    assert not decision.advice_line_open_now and decision.advice_line_current is None
    assert decision.webchat_next.start == ldn(2025, 11, 24, 13, 0)
    assert decision.advice_line_next.start == ldn(2025, 11, 24, 9, 30)


def test_decision_across_the_spring_clock_change():
    decision = decide(POLICY, datetime.fromisoformat("2026-03-30T12:00:00+00:00"), 1)
    assert decision.kind is HandoffKind.QUEUE
    decision = decide(POLICY, datetime.fromisoformat("2026-03-30T14:00:00+00:00"), 1)
    assert decision.kind is HandoffKind.CLOSED


def test_decision_refuses_naive_time_and_negative_advisers():
    with pytest.raises(ValueError, match="naive"):
        decide(POLICY, datetime(2025, 11, 24, 13, 30), 1)
    with pytest.raises(ValueError, match="negative"):
        decide(POLICY, ldn(2025, 11, 24, 13, 30), -1)


def test_decision_is_a_frozen_value():
    decision = decide(POLICY, ldn(2025, 11, 24, 13, 30), 1)
    with pytest.raises(Exception):
        decision.kind = HandoffKind.CLOSED
    assert decision == decide(POLICY, ldn(2025, 11, 24, 13, 30), 1)


# --- the words -------------------------------------------------------------------------------------------


def text_at(now, advisers=0, policy=POLICY):
    return handoff_text(decide(policy, now, advisers), CONTENT)


def test_closed_says_exactly_when_webchat_is_next_staffed():
    text = text_at(ldn(2025, 11, 24, 15, 0))  # Monday, just after the session
    assert "Webchat with an adviser is next open on Thursday 27 November, 1pm." in text
    assert f"{ADVICE_LINE}, next opens on Tuesday 25 November, 9:30am" in text
    assert "email advice enquiry form" in text and "online advice forums" in text
    assert "keep helping" in text


def test_closed_on_a_weekend_gives_monday_for_both():
    text = text_at(ldn(2025, 11, 29, 11, 0), advisers=2)
    assert "next open on Monday 1 December, 1pm." in text
    assert "next opens on Monday 1 December, 9:30am" in text


def test_closed_while_the_advice_line_is_open_says_call_now():
    text = text_at(ldn(2025, 11, 25, 10, 0), advisers=1)  # Tuesday morning
    assert "next open on Thursday 27 November, 1pm." in text
    assert f"open now until 3pm: call {ADVICE_LINE}" in text
    assert "next opens" not in text


def test_closed_over_christmas_skips_the_bank_holidays():
    text = text_at(ldn(2026, 12, 24, 15, 0))
    assert "next open on Thursday 31 December, 1pm." in text
    assert "next opens on Tuesday 29 December, 9:30am" in text


def test_closed_over_a_staff_closure():
    closed = make_policy(closures=[{"from": "2026-12-24", "to": "2027-01-01", "reason": "Christmas closure"}])
    text = text_at(ldn(2026, 12, 23, 16, 0), policy=closed)
    assert "next open on Monday 4 January, 1pm." in text
    assert "next opens on Monday 4 January, 9:30am" in text


def test_closed_after_the_autumn_clock_change_gives_london_time():
    text = text_at(datetime.fromisoformat("2026-10-22T14:30:00+00:00"))  # 15:30 BST Thursday
    assert "next open on Monday 26 October, 1pm." in text


def test_no_webchat_sessions_at_all():
    text = text_at(ldn(2025, 11, 24, 13, 30), policy=make_policy(webchat=[]))
    assert WORDS["webchat_none"] in text and ADVICE_LINE in text


def test_no_adviser_says_sorry_until_when_and_the_other_ways():
    text = text_at(ldn(2025, 11, 24, 13, 30), advisers=0)
    assert text.startswith("I'm sorry, no adviser is free on webchat right now.")
    assert "before 3pm" in text
    assert f"open now until 3pm: call {ADVICE_LINE}" in text
    assert "email advice enquiry form" in text and "online advice forums" in text
    assert "next open on" not in text  # webchat is open; it is the advisers who are busy


def test_no_adviser_without_a_current_session_uses_the_plain_text():
    decision = HandoffDecision(HandoffKind.NO_ADVISER, True, None, False, None)
    text = handoff_text(decision, CONTENT)
    assert text.startswith(WORDS["no_adviser"]) and "before" not in text


def test_queue_says_joining_the_queue():
    text = text_at(ldn(2025, 11, 24, 13, 30), advisers=1)
    assert text == WORDS["queue"]
    assert "queue" in text and "adviser" in text


def test_queue_closed_after_the_session_ended():
    text = queue_closed_text(decide(POLICY, ldn(2025, 11, 24, 15, 0), 0), CONTENT)
    assert text.startswith(WORDS["queue_closed"])
    assert "next open on Thursday 27 November, 1pm." in text
    assert ADVICE_LINE in text and "online advice forums" in text


def test_queue_closed_when_the_last_adviser_went_offline():
    text = queue_closed_text(decide(POLICY, ldn(2025, 11, 24, 14, 0), 0), CONTENT)
    assert text.startswith(WORDS["queue_closed_no_adviser"])
    assert f"open now until 3pm: call {ADVICE_LINE}" in text


def test_templates_can_be_passed_as_the_mapping():
    decision = decide(POLICY, ldn(2025, 11, 24, 15, 0), 0)
    assert handoff_text(decision, WORDS) == handoff_text(decision, CONTENT)


def test_every_message_is_chat_sized_and_has_no_leftover_placeholders():
    start = ldn(2026, 1, 1, 0, 0)
    for hour in range(0, 24 * 366, 1):
        now = start + timedelta(hours=hour, minutes=(hour * 7) % 60)
        for advisers in (0, 1):
            decision = decide(POLICY, now, advisers)
            for text in (handoff_text(decision, CONTENT), queue_closed_text(decision, CONTENT)):
                assert len(text) <= 360, text
                assert not re.search(r"[{}]", text), text


def test_the_handoff_section_has_every_template():
    assert {
        "queue", "no_adviser", "no_adviser_until", "queue_closed", "queue_closed_no_adviser", "webchat_next",
        "webchat_none", "advice_line_open", "advice_line_next", "advice_line_none", "other_ways", "meanwhile",
    } <= set(WORDS)
