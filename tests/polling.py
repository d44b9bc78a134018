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


async def wait_progressing(
    condition: Callable[[], bool],
    progress: Callable[[], object],
    *,
    stall: float = WAIT,
    cap: float = 300.0,
    what: str = "",
) -> None:
    """Return once ``condition()`` holds; fail when ``progress()`` stops changing.

    For work whose length depends on the machine's load (draining a backlog, a crash
    storm's restarts): the test waits as long as the work advances, and fails only after
    ``stall`` seconds without any change in ``progress()`` — a hang, not a slow machine —
    or after ``cap`` seconds in all.
    """
    loop = asyncio.get_running_loop()
    started = last_change = loop.time()
    seen = progress()
    while not condition():
        now = loop.time()
        current = progress()
        if current != seen:
            seen, last_change = current, now
        elif now - last_change > stall:
            raise AssertionError(f"no progress for {stall} s waiting for {what} (at {seen})")
        if now - started > cap:
            raise AssertionError(f"timed out after {cap} s waiting for {what} (at {seen})")
        await asyncio.sleep(POLL)
