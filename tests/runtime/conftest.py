"""Fixtures for the runtime tests: a virtual clock, a system on it, its events.

Every test that uses ``system`` also checks on teardown that the system stopped
every task it started.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kryten_actors.runtime import ActorSystem, RuntimeEvent, VirtualClock
from tests.runtime.support import FAST_POLICY


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def system(clock: VirtualClock) -> AsyncIterator[ActorSystem]:
    async with ActorSystem(clock=clock, policy=FAST_POLICY, shutdown_timeout=5.0) as running:
        yield running
    leftover = asyncio.all_tasks() - {asyncio.current_task()}
    assert not leftover, f"tasks outlived the actor system: {leftover}"


@pytest.fixture
def events(system: ActorSystem) -> list[RuntimeEvent]:
    """Every runtime event of ``system`` from now on."""
    seen: list[RuntimeEvent] = []
    system.subscribe(seen.append)
    return seen
