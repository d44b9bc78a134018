"""``ActorRef.offer``: the router's one call per event (inline put, crowding, room)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kryten_actors.errors import MailboxFull
from kryten_actors.runtime import (
    Actor,
    ActorSystem,
    ChildSpec,
    DeadLetterReason,
    OverflowPolicy,
)
from tests.runtime.support import wait_until


class Held(Actor):
    """Records messages; the first one waits for ``gate`` (so the rest stay queued)."""

    def __init__(self, seen: list[Any], gate: asyncio.Event) -> None:
        self.seen = seen
        self.gate = gate

    async def receive(self, message: Any) -> None:
        await self.gate.wait()
        self.seen.append(message)


async def held(
    system: ActorSystem, overflow: OverflowPolicy, **options: Any
) -> tuple[Any, list[Any], asyncio.Event]:
    seen: list[Any] = []
    gate = asyncio.Event()
    spec = ChildSpec(
        "h", lambda: Held(seen, gate), mailbox_capacity=4, overflow=overflow, **options
    )
    ref = await system.spawn(spec)
    ref.tell("first")
    await wait_until(lambda: ref.stats().mailbox_depth == 0)  # taken; its handler waits
    return ref, seen, gate


@pytest.mark.parametrize("max_bytes", [None, 1000])
async def test_offer_says_when_the_mailbox_is_more_than_half_full(max_bytes: int | None) -> None:
    async with ActorSystem(shutdown_timeout=5.0) as system:
        ref, seen, gate = await held(
            system, OverflowPolicy.DROP_NEWEST, mailbox_max_bytes=max_bytes
        )
        assert [ref.offer(n) for n in range(6)] == [False, False, True, True, True, True]
        assert ref.stats().mailbox_depth == 4
        assert ref.stats().mailbox_high_water == 4
        assert system.dead_letters.counts == {DeadLetterReason.MAILBOX_FULL: 2}
        gate.set()
        await system.idle()
        assert seen == ["first", 0, 1, 2, 3]


async def test_room_only_leaves_a_message_that_does_not_fit_to_the_sender() -> None:
    async with ActorSystem(shutdown_timeout=5.0) as system:
        ref, seen, gate = await held(system, OverflowPolicy.BLOCK)
        assert [ref.offer(n, True) for n in range(4)] == [False, False, True, True]
        assert ref.offer(4, True) is None  # no room: not queued, not a dead letter
        with pytest.raises(MailboxFull):
            ref.offer(4)
        assert system.dead_letters.counts == {DeadLetterReason.MAILBOX_FULL: 1}
        gate.set()
        await ref.put(4)
        await system.idle()
        assert seen == ["first", 0, 1, 2, 3, 4]


async def test_offer_to_a_stopped_actor_is_a_dead_letter() -> None:
    async with ActorSystem(shutdown_timeout=5.0) as system:
        ref, _, gate = await held(system, OverflowPolicy.DROP_NEWEST)
        gate.set()
        await system.root.stop_child("h")
        assert ref.offer("late") is False
        assert system.dead_letters.counts == {DeadLetterReason.ACTOR_STOPPED: 1}
