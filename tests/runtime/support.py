"""Helpers shared by the runtime tests: condition waits and event counting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from kryten_actors.runtime import RuntimeEvent, SupervisionPolicy

# Deterministic backoff: no jitter, 1 s, 2 s, 4 s, capped at 8 s.
FAST_POLICY = SupervisionPolicy(min_backoff=1.0, max_backoff=8.0, jitter=0.0, reset_after=30.0)


async def wait_until(predicate: Callable[[], bool], limit: float = 2.0) -> None:
    """Yield to the loop until ``predicate()`` holds; fail the test after ``limit`` seconds.

    Polls once per loop iteration: the conditions are runtime state that has no
    event of its own, and the loop never sleeps in between.
    """
    try:
        async with asyncio.timeout(limit):
            while not predicate():  # noqa: ASYNC110 -- see docstring
                await asyncio.sleep(0)
    except TimeoutError:
        pytest.fail(f"condition not met within {limit}s: {predicate}")


def count(events: list[RuntimeEvent], kind: str, path: str | None = None) -> int:
    """How many events of ``kind`` (for ``path``, if given) were seen."""
    return sum(1 for e in events if e.kind == kind and (path is None or e.path == path))


class Gate:
    """A message that holds its actor inside ``receive`` until the test opens it."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.opened = asyncio.Event()

    async def pass_through(self) -> None:
        """Called by the actor: signal arrival, then wait to be let through."""
        self.entered.set()
        await self.opened.wait()

    async def reached(self) -> None:
        """Wait until an actor is inside this gate."""
        await asyncio.wait_for(self.entered.wait(), 2.0)

    def open(self) -> None:
        self.opened.set()
