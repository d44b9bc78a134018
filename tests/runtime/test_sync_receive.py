"""A ``receive`` that is a plain method: None for a message handled at once, else a coroutine."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kryten_actors.runtime import (
    Actor,
    ActorState,
    ActorSystem,
    ChildSpec,
    DeadLetterReason,
    OverflowPolicy,
)
from tests.runtime.support import wait_until


class Mixed(Actor):
    """``(seq, 0)`` is handled synchronously (None returned); ``(seq, n)`` awaits n times
    (``-1``: a coroutine that returns without awaiting); ``"boom"`` raises before any
    coroutine exists."""

    def __init__(self, seen: list[int]) -> None:
        self.seen = seen

    def receive(self, message: Any) -> Coroutine[Any, Any, Any] | None:
        if message == "boom":
            raise ValueError("boom")
        seq, awaits = message
        if awaits == 0:
            self.seen.append(seq)
            return None
        return self._slow(seq, awaits)

    async def _slow(self, seq: int, awaits: int) -> int:
        for _ in range(max(awaits, 0)):
            await asyncio.sleep(0)
        self.seen.append(seq)
        return seq


POLICIES = [
    {},  # plain mailbox: messages leave the deque one by one
    {"mailbox_max_bytes": 10_000},  # a byte budget: the turn takes its batch in one call
    {"overflow": OverflowPolicy.BLOCK},
]


@pytest.mark.parametrize("options", POLICIES)
async def test_a_message_handled_at_once_answers_an_ask_with_none(options: dict[str, Any]) -> None:
    seen: list[int] = []
    async with ActorSystem(shutdown_timeout=5.0) as system:
        ref = await system.spawn(ChildSpec("m", lambda: Mixed(seen), **options))
        assert await ref.ask((1, 0)) is None
        assert await ref.ask((2, 2)) == 2
        # queued behind an awaiting handler: run by the cell's own drain task
        ref.tell((3, 1))
        later = asyncio.ensure_future(ref.ask((4, 0)))
        assert await later is None
        await system.idle()
        assert seen == [1, 2, 3, 4]
        assert ref.stats().processed == 4


@pytest.mark.parametrize("options", POLICIES)
async def test_a_receive_that_raises_before_any_coroutine_is_a_failure(
    options: dict[str, Any],
) -> None:
    seen: list[int] = []
    async with ActorSystem(shutdown_timeout=5.0) as system:
        ref = await system.spawn(ChildSpec("m", lambda: Mixed(seen), **options))
        ref.tell("boom")
        ref.tell((1, 0))
        ref.tell((2, -1))
        await wait_until(lambda: seen == [1, 2])
        letters = system.dead_letters.recent
        assert [letter.reason for letter in letters] == [DeadLetterReason.HANDLER_FAILED]
        assert ref.stats().failed == 1
        assert ref.stats().restarts == 1
        assert ref.state is ActorState.RUNNING


SCHEDULE = st.lists(
    st.tuples(st.integers(0, 2), st.integers(-1, 2), st.booleans()), min_size=1, max_size=60
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=SCHEDULE, quantum=st.integers(1, 8), options=st.sampled_from(POLICIES))
def test_handled_at_once_or_awaiting_every_actor_keeps_its_order(
    schedule: list[tuple[int, int, bool]], quantum: int, options: dict[str, Any]
) -> None:
    """Messages (actor, awaits, pause): awaits 0 is handled synchronously, -1 by a
    coroutine that never suspends. Every actor sees exactly its messages, in order,
    whatever mix of the kinds."""

    async def run() -> list[list[int]]:
        seen: list[list[int]] = [[] for _ in range(3)]
        async with ActorSystem(quantum=quantum, shutdown_timeout=5.0) as system:
            refs = [
                await system.spawn(
                    ChildSpec(f"a{i}", lambda i=i: Mixed(seen[i]), mailbox_capacity=1000, **options)
                )
                for i in range(3)
            ]
            for seq, (target, awaits, pause) in enumerate(schedule):
                refs[target].tell((seq, awaits))
                if pause:
                    await asyncio.sleep(0)
            await system.idle()
            assert sum(ref.stats().processed for ref in refs) == len(schedule)
        return seen

    seen = asyncio.run(run())
    for actor in range(3):
        expected = [seq for seq, (target, _, _) in enumerate(schedule) if target == actor]
        assert seen[actor] == expected


async def test_senders_blocked_on_a_full_mailbox_get_room_as_it_drains() -> None:
    seen: list[int] = []
    async with ActorSystem(shutdown_timeout=5.0) as system:
        ref = await system.spawn(
            ChildSpec("m", lambda: Mixed(seen), mailbox_capacity=2, overflow=OverflowPolicy.BLOCK)
        )

        async def send(first: int) -> None:
            for seq in range(first, first + 50):
                await ref.put((seq, seq % 3 == 0))  # every third one awaits once

        await asyncio.wait_for(asyncio.gather(send(0), send(1000)), timeout=10)
        await system.idle()
        assert [seq for seq in seen if seq < 1000] == list(range(50))
        assert [seq for seq in seen if seq >= 1000] == list(range(1000, 1050))
        assert ref.stats().mailbox_high_water <= 2
