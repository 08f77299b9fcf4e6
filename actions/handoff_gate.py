"""The edge between the handoff action and the world: the clock, the staffed-hours file, and the
gateway's count of available advisers. The decision itself is pure (bot/handoff_decision.py)."""
from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timezone
from functools import lru_cache
from typing import Callable

import aiohttp

from bot.handoff_decision import HandoffDecision, decide
from bot.service_hours import ServicePolicy, load_policy

log = logging.getLogger(__name__)
clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # tests replace this


@lru_cache(maxsize=None)
def policy() -> ServicePolicy:
    return load_policy()


async def advisers_available() -> int:
    """How many advisers the gateway says are available; 0 if it cannot be asked (never queue blind)."""
    url = os.environ.get("GATEWAY_URL")
    token = os.environ.get("INTERNAL_TOKEN", "")
    if not url:
        return 0
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session:
            async with session.get(url.rstrip("/") + "/internal/availability",
                                   headers={"X-Internal-Token": token}) as response:
                if response.status != 200:
                    log.warning("gateway availability: HTTP %s", response.status)
                    return 0
                body = await response.json()
                return max(0, int(body.get("advisers_available", 0)))
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, TypeError) as error:
        log.warning("gateway availability unknown (%r): treating as nobody available", error)
        return 0


async def current_decision() -> HandoffDecision:
    return decide(policy(), clock(), await advisers_available())
