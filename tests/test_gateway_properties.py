"""Property-based test of the gateway's family message handling (hypothesis, derandomized).

For any sequence of `user_uttered` events (arbitrary text with control, zero-width, bidi and broken
characters, wrong types, lengths around the limit, bursts and pauses on the injected clock), sent through
the real socket.io server of tests/gateway_harness.py:

- nothing crashes (no ERROR logged, asyncio's unretrieved task exceptions included);
- each accepted message is echoed once and reaches Rasa exactly once, in order, with control/invisible
  characters removed (the oracle is tests/hostile_inputs.expected_clean, written from the protocol);
- each refused message (empty, too long, too fast) gets exactly one polite refusal naming it, and is not
  forwarded; a message with no `message` at all is ignored;
- the stored transcript's family messages are exactly the accepted ones.

The rate limit model is the documented one: at most 8 accepted messages in any 20 seconds.
"""
from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import hostile_inputs as hi
from tests.gateway_harness import Harness, wait_until

SPECIALS = ["\x00", "\x07", "\x1b", "\x7f", "\u202e", "\u202d", "\u200b", "\u200d", "\ufeff", "\u2066",
            "\u00ad", "\ud800", "\udfff", "\ue000", "\n", "\t", " ", "/", "<", ">", "\"", "'", "&", "\u0301"]

texts = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(SPECIALS)), max_size=40)
raws = st.one_of(
    texts,
    texts,
    st.sampled_from([case.text for case in hi.text_cases()]),
    st.integers(hi.MAX_CHARS - 3, hi.MAX_CHARS + 3).map(lambda n: "x" * n),
    st.none(),
    st.integers(),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
).filter(lambda raw: not isinstance(raw, str) or
         ("adviser" not in hi.expected_clean(raw) and "section 20" not in hi.expected_clean(raw)))
gaps = st.sampled_from([0.0, 0.0, 0.0, 1.0, 3.0, 21.0])  # bursts, and pauses longer than the window
words = st.text(alphabet="abcdefgh xyz\u200b\u202e", min_size=1, max_size=12).filter(hi.expected_clean)
conversations = st.one_of(
    st.lists(st.tuples(raws, gaps), min_size=1, max_size=14),
    st.lists(st.tuples(st.one_of(words, raws), st.sampled_from([0.0, 0.5])), min_size=9, max_size=16),  # floods
)


class RateModel:
    def __init__(self, count: int, seconds: float):
        self.count, self.seconds, self.accepted = count, seconds, []

    def allow(self, now: float) -> bool:
        recent = [t for t in self.accepted if t > now - self.seconds]
        if len(recent) >= self.count:
            return False
        self.accepted.append(now)
        return True


def outcomes_for(family, client_id: str) -> List[Tuple[str, Any]]:
    found = []
    for name, data in family.received:
        if not isinstance(data, dict):
            continue
        if name == "user_echo" and data.get("client_id") == client_id:
            found.append((name, data))
        elif name == "bot_uttered" and data.get("metadata", {}).get("rejected_client_id") == client_id:
            found.append((name, data))
    return found


async def play(h: Harness, inputs: List[Tuple[Any, float]], example: int) -> List[str]:
    family = await h.family()
    model = RateModel(*hi.RATE)
    accepted: List[str] = []
    to_rasa: List[str] = []  # what Rasa gets: "/..." that was not an offered button, as plain words
    ignored: List[str] = []
    for number, (raw, gap) in enumerate(inputs):
        h.clock.advance(gap)
        client_id = f"e{example}-{number}"
        rasa_before = len(h.rasa.received)
        await family.sio.emit("user_uttered", {"message": raw, "session_id": family.session_id, "client_id": client_id})
        if raw is None:
            ignored.append(client_id)
            continue
        await wait_until(lambda: outcomes_for(family, client_id))
        reply = hi.expected_reply(raw)
        if reply is None and not model.allow(h.clock.mono):
            reply = hi.TOO_FAST_REPLY
        [(name, data)] = outcomes_for(family, client_id)
        if reply is None:
            clean = hi.expected_clean(raw)
            assert name == "user_echo" and data["message"]["text"] == clean, (raw, data)
            accepted.append(clean)
            to_rasa.append(hi.expected_to_rasa(raw))
            await wait_until(lambda: len(h.rasa.received) == rasa_before + 1)
            assert h.rasa.received[-1] == to_rasa[-1]
            await wait_until(lambda: data["message"]["text"] and
                             ("You said: " + to_rasa[-1]) in family.texts())
        else:
            assert name == "bot_uttered" and data["text"] == reply, (raw, data)
            assert data["metadata"]["message"]["sender"] == "system"
            assert len(h.rasa.received) == rasa_before  # not forwarded
    # a last message after a pause: everything before it has been handled
    h.clock.advance(hi.RATE[1] + 1)
    await family.say("end of example", client_id=f"e{example}-end")
    await wait_until(lambda: "You said: end of example" in family.texts())
    for number in range(len(inputs)):
        client_id = f"e{example}-{number}"
        assert len(outcomes_for(family, client_id)) == (0 if client_id in ignored else 1), client_id
    sent_to_rasa = [e["text"] for e in h.rasa.events[family.session_id] if e["event"] == "user"]
    assert sent_to_rasa == to_rasa + ["end of example"]  # exactly once each, in order
    stored = [m.text for m in h.gateway.store.messages_after(family.session_id) if m.sender == "family"]
    assert stored == accepted + ["end of example"]
    await family.close()
    h.families.remove(family)
    return [data["text"] for name, data in family.received if name == "bot_uttered"]


def test_family_messages_are_forwarded_once_or_refused_once(tmp_path, caplog):
    caplog.set_level(logging.ERROR)
    loop = asyncio.new_event_loop()
    harness = loop.run_until_complete(Harness(tmp_path).start())
    examples = []
    said: List[str] = []

    @settings(derandomize=True, deadline=None, max_examples=60, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(conversations)
    def check(inputs):
        examples.append(inputs)
        said.extend(loop.run_until_complete(play(harness, inputs, len(examples))))

    try:
        check()
        gc.collect()  # asyncio reports a handler's exception when its task is collected
        crashes = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert crashes == [], [r.getMessage()[:300] for r in crashes]
    finally:
        loop.run_until_complete(harness.stop())
        leftover = asyncio.all_tasks(loop)  # engine.io's ping tasks of closed sockets
        for task in leftover:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
        loop.close()
    assert len(examples) >= 60
    flat = [raw for inputs in examples for raw, _ in inputs]
    # the examples really covered the interesting cases
    assert any(raw is None for raw in flat) and any(not isinstance(raw, (str, type(None))) for raw in flat)
    assert any(isinstance(raw, str) and hi.expected_clean(raw) != raw.strip() for raw in flat)
    assert any(isinstance(raw, str) and len(raw) > hi.MAX_CHARS for raw in flat)
    assert {hi.EMPTY_REPLY, hi.TOO_LONG_REPLY, hi.TOO_FAST_REPLY} <= set(said)
