"""Mailbox: FIFO order, every overflow policy, counters, and a model-based state machine."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from kryten_actors.errors import KrytenValidationError, MailboxFull
from kryten_actors.runtime.mailbox import ACCEPTED, Mailbox, OverflowPolicy


def test_fifo_order_depth_and_high_water() -> None:
    box = Mailbox(capacity=5)
    for item in range(4):
        assert box.put(item) is ACCEPTED
    assert (box.depth, len(box), box.high_water) == (4, 4, 4)
    assert [box.get(), box.get()] == [0, 1]
    box.put(4)
    assert [box.get() for _ in range(len(box))] == [2, 3, 4]
    assert (box.depth, box.high_water, box.dropped) == (0, 4, 0)
    with pytest.raises(IndexError):
        box.get()


def test_drop_newest_returns_the_new_message() -> None:
    box = Mailbox(capacity=2, policy=OverflowPolicy.DROP_NEWEST)
    box.put("a")
    box.put("b")
    assert box.put("c") == "c"
    assert box.take_all() == ["a", "b"]
    assert box.dropped == 1


def test_drop_oldest_evicts_the_oldest() -> None:
    box = Mailbox(capacity=2, policy=OverflowPolicy.DROP_OLDEST)
    box.put("a")
    box.put("b")
    assert box.put("c") == "a"
    assert box.take_all() == ["b", "c"]
    assert box.dropped == 1


@pytest.mark.parametrize("policy", [OverflowPolicy.REJECT, OverflowPolicy.BLOCK])
def test_reject_and_block_refuse_with_mailbox_full(policy: OverflowPolicy) -> None:
    box = Mailbox(capacity=1, policy=policy, owner="/root/x")
    box.put("a")
    with pytest.raises(MailboxFull) as caught:
        box.put("b")
    assert caught.value.recipient == "/root/x"
    assert caught.value.capacity == 1
    assert ("put(message)" in str(caught.value)) is (policy is OverflowPolicy.BLOCK)
    assert box.take_all() == ["a"]
    assert box.dropped == 1


async def test_wait_for_room_wakes_in_order_as_slots_free() -> None:
    box = Mailbox(capacity=1, policy=OverflowPolicy.BLOCK)
    box.put("a")
    woken: list[int] = []

    async def waiter(tag: int) -> None:
        await box.wait_for_room()
        woken.append(tag)
        box.put(tag)

    tasks = [asyncio.create_task(waiter(tag)) for tag in (1, 2)]
    await asyncio.sleep(0)
    assert woken == []
    assert box.get() == "a"
    await tasks[0]
    assert woken == [1]
    assert not tasks[1].done()
    assert box.get() == 1
    await tasks[1]
    assert woken == [1, 2]


async def test_wake_all_releases_blocked_senders() -> None:
    box = Mailbox(capacity=1, policy=OverflowPolicy.BLOCK)
    box.put("a")
    task = asyncio.create_task(box.wait_for_room())
    await asyncio.sleep(0)
    box.wake_all()
    await asyncio.wait_for(task, 1.0)
    assert box.full


def test_capacity_must_be_positive() -> None:
    with pytest.raises(KrytenValidationError):
        Mailbox(capacity=0)


class MailboxMachine(RuleBasedStateMachine):
    """The mailbox behaves like a bounded list under each policy."""

    def __init__(self) -> None:
        super().__init__()
        self.box = Mailbox(capacity=1)
        self.model: list[int] = []
        self.high_water = 0
        self.dropped = 0
        self.next_item = 0

    @initialize(
        capacity=st.integers(min_value=1, max_value=6),
        policy=st.sampled_from(list(OverflowPolicy)),
    )
    def create(self, capacity: int, policy: OverflowPolicy) -> None:
        self.box = Mailbox(capacity=capacity, policy=policy)

    @rule()
    def put(self) -> None:
        item = self.next_item
        self.next_item += 1
        result: Any
        try:
            result = self.box.put(item)
        except MailboxFull:
            result = MailboxFull
        if len(self.model) < self.box.capacity:
            self.model.append(item)
            expected: Any = ACCEPTED
        else:
            self.dropped += 1
            policy = self.box.policy
            if policy is OverflowPolicy.DROP_NEWEST:
                expected = item
            elif policy is OverflowPolicy.DROP_OLDEST:
                expected = self.model.pop(0)
                self.model.append(item)
            else:
                expected = MailboxFull
        self.high_water = max(self.high_water, len(self.model))
        assert result == expected

    @precondition(lambda self: bool(self.model))
    @rule()
    def get(self) -> None:
        assert self.box.get() == self.model.pop(0)

    @rule()
    def take_all(self) -> None:
        assert self.box.take_all() == self.model
        self.model = []

    @invariant()
    def counters_match_the_model(self) -> None:
        assert self.box.depth == len(self.model)
        assert bool(self.box) is bool(self.model)
        assert self.box.high_water == self.high_water
        assert self.box.dropped == self.dropped
        assert self.box.full is (len(self.model) >= self.box.capacity)


TestMailboxMachine = MailboxMachine.TestCase


class Sized:
    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes


@pytest.mark.parametrize("policy", list(OverflowPolicy))
def test_max_bytes_bounds_what_a_mailbox_holds(policy: OverflowPolicy) -> None:
    mailbox = Mailbox(1000, policy, max_bytes=100)
    kept = 0
    for _ in range(20):
        try:
            if mailbox.put(Sized(30)) is ACCEPTED:
                kept += 1
        except MailboxFull:
            pass
    assert kept == 3
    assert mailbox.nbytes == 90
    assert mailbox.dropped == 17
    assert not mailbox.fits(Sized(30))
    assert mailbox.fits(Sized(10))
    mailbox.get()
    assert mailbox.nbytes == 60
    assert mailbox.fits(Sized(30))


def test_one_message_larger_than_max_bytes_still_fits_an_empty_mailbox() -> None:
    mailbox = Mailbox(10, max_bytes=100)
    assert mailbox.put(Sized(500)) is ACCEPTED
    assert mailbox.put(Sized(1)) is not ACCEPTED


def test_take_and_requeue_keep_the_order_and_the_byte_count() -> None:
    mailbox = Mailbox(10, max_bytes=1000)
    items = [Sized(10) for _ in range(5)]
    for item in items:
        mailbox.put(item)
    batch = mailbox.take(3)
    assert batch == items[:3]
    assert mailbox.nbytes == 20
    mailbox.requeue(batch[1:])
    assert mailbox.take(10) == items[1:]
    assert mailbox.nbytes == 0
