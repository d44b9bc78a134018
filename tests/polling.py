"""Waiting on a condition that has no event of its own (counters, health, recorders)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

WAIT = 15.0  # generous: other suites may run concurrently on 2 cores
POLL = 0.005  # how often a condition is re-checked


async def wait_until(condition: Callable[[], bool], within: float = WAIT, what: str = "") -> None:
    """Return once ``condition()`` holds; fail the test after ``within`` seconds.

    Polling every few milliseconds is a bounded wait on a condition, not a sleep used as
    a synchronisation point: the test proceeds the moment the condition holds.
    """
    try:
        async with asyncio.timeout(within):
            while not condition():  # noqa: ASYNC110 - see docstring: no event exists
                await asyncio.sleep(POLL)
    except TimeoutError:
        raise AssertionError(
            f"timed out after {within} s waiting for {what or condition}"
        ) from None
