"""Timers and jobs: delivered through the mailbox, cancelled on stop and restart."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kryten_actors.errors import KrytenValidationError
from kryten_actors.runtime import (
    Actor,
    ActorRef,
    ActorState,
    ActorSystem,
    Cancellable,
    ChildSpec,
    OverflowPolicy,
    RuntimeEvent,
    VirtualClock,
)
from tests.runtime.support import Gate, count, wait_until


class Ticker(Actor):
    """Arms timers and jobs on request and logs what it receives."""

    def __init__(self, log: list[Any]) -> None:
        self.log = log
        self.timers: list[Cancellable] = []

    async def receive(self, message: Any) -> Any:
        match message:
            case ("once", delay, payload):
                self.timers.append(self.context.schedule_once(delay, payload))
            case ("every", interval, payload):
                self.timers.append(self.context.schedule_every(interval, payload))
            case ("cancel",):
                self.timers.pop().cancel()
            case ("job", coro):
                return self.context.spawn_job(coro)
            case BaseException():
                raise message
            case Gate():
                await message.pass_through()
            case _:
                self.log.append((message, self.context.clock.now()))
        return None


async def ticker(system: ActorSystem, log: list[Any], **options: Any) -> ActorRef:
    return await system.spawn(ChildSpec("t", lambda: Ticker(log), **options))


async def test_an_idle_actor_has_no_scheduler(system: ActorSystem) -> None:
    ref = await ticker(system, [])
    await ref.ask("hello")
    assert ref._cell._scheduler is None


async def test_schedule_once_delivers_to_the_own_mailbox(
    system: ActorSystem, clock: VirtualClock
) -> None:
    log: list[Any] = []
    ref = await ticker(system, log)
    await ref.ask(("once", 5.0, "wake"))
    clock.advance(4.9)
    await system.idle()
    assert log == []
    clock.advance(0.1)
    await system.idle()
    assert log == [("wake", 5.0)]
    clock.advance(100)
    await system.idle()
    assert len(log) == 1
    assert clock.pending == 0


async def test_schedule_every_repeats_until_cancelled(
    system: ActorSystem, clock: VirtualClock
) -> None:
    log: list[Any] = []
    ref = await ticker(system, log)
    await ref.ask(("every", 2.0, "tick"))
    for _ in range(3):
        clock.advance(2.0)
        await system.idle()
    assert log == [("tick", 2.0), ("tick", 4.0), ("tick", 6.0)]
    await ref.ask(("cancel",))
    clock.advance(10.0)
    await system.idle()
    assert len(log) == 3
    assert ref._cell.scheduler().timers == set()


async def test_schedule_every_needs_a_positive_interval(system: ActorSystem) -> None:
    ref = await ticker(system, [])
    with pytest.raises(KrytenValidationError, match="positive interval"):
        await ref.ask(("every", 0, "x"))


async def test_timers_are_cancelled_on_restart(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    log: list[Any] = []
    ref = await ticker(system, log, handler_timeout=None)
    await ref.ask(("every", 1.0, "tick"))
    await ref.ask(("once", 3.0, "late"))
    assert clock.pending == 2
    ref.tell(RuntimeError("restart me"))
    await wait_until(lambda: count(events, "restarting") == 1)
    assert clock.pending == 1  # only the backoff timer is left
    clock.advance(events[-1].delay)
    await wait_until(lambda: ref.state is ActorState.RUNNING)
    clock.advance(10.0)
    await system.idle()
    assert log == []


async def test_timers_are_cancelled_on_stop(system: ActorSystem, clock: VirtualClock) -> None:
    log: list[Any] = []
    ref = await ticker(system, log, handler_timeout=None)
    await ref.ask(("every", 1.0, "tick"))
    await system.stop_child("t")
    assert clock.pending == 0
    clock.advance(10.0)
    assert log == []
    assert system.dead_letters.total == 0


async def test_a_timer_into_a_full_rejecting_mailbox_becomes_a_dead_letter(
    system: ActorSystem, clock: VirtualClock
) -> None:
    ref = await ticker(system, [], mailbox_capacity=1, overflow=OverflowPolicy.REJECT)
    await ref.ask(("once", 1.0, "timer message"))
    gate = Gate()
    ref.tell(gate)
    await gate.reached()
    ref.tell("fills the mailbox")
    clock.advance(1.0)  # must not raise into the clock
    letter = system.dead_letters.recent[-1]
    assert (letter.message, letter.reason) == ("timer message", "mailbox_full")
    gate.open()


async def test_spawn_job_runs_in_the_background(system: ActorSystem) -> None:
    ref = await ticker(system, [])
    done = asyncio.Event()

    async def work() -> str:
        done.set()
        return "result"

    job = await ref.ask(("job", work()))
    await asyncio.wait_for(done.wait(), 1.0)
    assert await job.wait() == "result"


async def test_a_failing_job_is_a_failure_of_its_actor(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    ref = await ticker(system, [])

    async def broken() -> None:
        raise LookupError("job bug")

    await ref.ask(("job", broken()))
    await wait_until(lambda: count(events, "failed") == 1)
    failure = events[-1] if events[-1].kind == "failed" else events[-2]
    assert isinstance(failure.error, LookupError)
    assert ref.stats().last_error is not None
    error = ref.stats().last_error
    assert error is not None
    assert error.type == "LookupError"
    await wait_until(lambda: count(events, "restarting") == 1)
    clock.advance(events[-1].delay)
    await wait_until(lambda: ref.state is ActorState.RUNNING)


async def test_a_job_failing_mid_message_is_handled_after_that_message(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    log: list[Any] = []
    ref = await ticker(system, log)
    trigger, failed = asyncio.Event(), asyncio.Event()

    async def broken() -> None:
        await trigger.wait()
        failed.set()
        raise LookupError("job bug")

    await ref.ask(("job", broken()))
    gate = Gate()
    ref.tell(gate)
    ref.tell("after")
    await gate.reached()
    trigger.set()
    await asyncio.wait_for(failed.wait(), 1.0)
    await asyncio.sleep(0)
    assert ref.state is ActorState.RUNNING  # the message in progress finishes first
    assert ref.stats().failed == 0
    gate.open()
    await wait_until(lambda: count(events, "restarting") == 1)
    assert log == []  # "after" waits for the new instance
    clock.advance(events[-1].delay)
    await wait_until(lambda: ref.state is ActorState.RUNNING)
    await system.idle()
    assert [message for message, _ in log] == ["after"]


@pytest.mark.parametrize("how", ["stop", "restart"])
async def test_jobs_are_cancelled_on_stop_and_restart(
    system: ActorSystem, events: list[RuntimeEvent], how: str
) -> None:
    ref = await ticker(system, [])
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    job = await ref.ask(("job", forever()))
    await asyncio.wait_for(started.wait(), 1.0)
    if how == "stop":
        await system.stop_child("t")
    else:
        ref.tell(RuntimeError("restart"))
        await wait_until(lambda: count(events, "restarting") == 1)
    await asyncio.wait_for(cancelled.wait(), 1.0)
    assert job.closed
    assert ref._cell._scheduler is not None
    assert ref._cell._scheduler.idle
