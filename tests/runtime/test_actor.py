"""Actors through a running system: order, tell/ask/put, overflow, hooks, timeouts, context."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kryten_actors.errors import HandlerError, KrytenError, KrytenTimeoutError, MailboxFull
from kryten_actors.runtime import (
    Actor,
    ActorState,
    ActorSystem,
    ChildSpec,
    OverflowPolicy,
    RestartType,
    RuntimeEvent,
    VirtualClock,
)
from tests.runtime.support import Gate, count, wait_until


class Recorder(Actor):
    """Appends messages to a shared log; raises exceptions it is sent; waits in gates."""

    def __init__(self, log: list[Any]) -> None:
        self.log = log
        self.count = 0

    async def receive(self, message: Any) -> Any:
        if isinstance(message, BaseException):
            raise message
        if isinstance(message, Gate):
            await message.pass_through()
            return "released"
        self.count += 1
        self.log.append(message)
        return (message, self.count)


def recorder(name: str, log: list[Any], **options: Any) -> ChildSpec:
    return ChildSpec(name, lambda: Recorder(log), **options)


async def test_messages_are_processed_one_at_a_time_in_arrival_order(
    system: ActorSystem,
) -> None:
    active = 0
    peak = 0
    seen: list[int] = []

    class Slow(Actor):
        async def receive(self, message: Any) -> None:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0)
            seen.append(message)
            active -= 1

    ref = await system.spawn(ChildSpec("slow", Slow))
    for index in range(500):
        ref.tell(index)
    await system.idle()
    assert seen == list(range(500))
    assert peak == 1
    assert ref.stats().processed == 500


async def test_ask_returns_what_receive_returned(system: ActorSystem) -> None:
    ref = await system.spawn(recorder("r", []))
    assert await ref.ask("a") == ("a", 1)
    assert await ref.ask("b") == ("b", 2)


async def test_ask_raises_the_handler_error_and_the_supervisor_still_sees_it(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    ref = await system.spawn(recorder("r", []))
    with pytest.raises(ValueError, match="bad"):
        await ref.ask(ValueError("bad"))
    await wait_until(lambda: count(events, "restarting") == 1)
    assert [e.kind for e in events] == ["started", "failed", "restarting"]
    assert ref.state is ActorState.RESTARTING
    letter = system.dead_letters.recent[-1]
    assert (letter.reason, letter.recipient, type(letter.error)) == (
        "handler_failed",
        "/root/r",
        ValueError,
    )
    clock.advance(1.0)
    await wait_until(lambda: ref.state is ActorState.RUNNING)
    assert await ref.ask("after") == ("after", 1)  # a new instance
    assert ref.stats().restarts == 1


async def test_ask_times_out_and_a_late_reply_is_discarded(system: ActorSystem) -> None:
    ref = await system.spawn(recorder("r", []))
    gate = Gate()
    ref.tell(gate)
    with pytest.raises(KrytenTimeoutError, match="did not answer"):
        await ref.ask("late", timeout=0.05)
    gate.open()
    await system.idle()
    assert await ref.ask("next") == ("next", 2)
    assert ref.stats().failed == 0


async def test_messages_to_a_stopped_actor_become_dead_letters(system: ActorSystem) -> None:
    ref = await system.spawn(recorder("r", []))
    alive_before = ref.is_alive
    await system.stop_child("r")
    assert (alive_before, ref.is_alive) == (True, False)
    assert ref.state is ActorState.STOPPED
    ref.tell("lost")
    await ref.put("lost too")
    with pytest.raises(KrytenError, match="actor_stopped"):
        await ref.ask("question")
    reasons = [(d.message, d.reason) for d in system.dead_letters.recent]
    assert reasons == [
        ("lost", "actor_stopped"),
        ("lost too", "actor_stopped"),
        ("question", "actor_stopped"),
    ]


async def _blocked(system: ActorSystem, policy: OverflowPolicy) -> Any:
    log: list[Any] = []
    ref = await system.spawn(recorder("r", log, mailbox_capacity=2, overflow=policy))
    gate = Gate()
    ref.tell(gate)
    await gate.reached()
    ref.tell("a")
    ref.tell("b")
    return ref, gate, log


@pytest.mark.parametrize(
    ("policy", "processed", "dropped"),
    [
        (OverflowPolicy.DROP_NEWEST, ["a", "b"], "c"),
        (OverflowPolicy.DROP_OLDEST, ["b", "c"], "a"),
    ],
)
async def test_drop_policies_send_the_dropped_message_to_dead_letters(
    system: ActorSystem,
    policy: OverflowPolicy,
    processed: list[str],
    dropped: str,
) -> None:
    ref, gate, log = await _blocked(system, policy)
    ref.tell("c")
    gate.open()
    await system.idle()
    assert log == processed
    letter = system.dead_letters.recent[-1]
    assert (letter.message, letter.reason) == (dropped, "mailbox_full")
    stats = ref.stats()
    assert (stats.dropped, stats.mailbox_high_water) == (1, 2)


async def test_an_ask_dropped_for_overflow_fails_fast(system: ActorSystem) -> None:
    ref, gate, _ = await _blocked(system, OverflowPolicy.DROP_NEWEST)
    with pytest.raises(KrytenError, match="mailbox_full"):
        await ref.ask("c")
    gate.open()


async def test_reject_raises_mailbox_full_to_the_sender(system: ActorSystem) -> None:
    ref, gate, log = await _blocked(system, OverflowPolicy.REJECT)
    with pytest.raises(MailboxFull) as caught:
        ref.tell("c")
    assert (caught.value.recipient, caught.value.capacity) == ("/root/r", 2)
    with pytest.raises(MailboxFull):
        await ref.ask("d")
    gate.open()
    await system.idle()
    assert log == ["a", "b"]
    assert system.dead_letters.counts == {"mailbox_full": 2}


async def test_block_tell_raises_but_put_waits_for_room(system: ActorSystem) -> None:
    ref, gate, log = await _blocked(system, OverflowPolicy.BLOCK)
    with pytest.raises(MailboxFull, match=r"put\(message\)"):
        ref.tell("c")
    sender = asyncio.create_task(ref.put("c"))
    await asyncio.sleep(0)
    assert not sender.done()
    gate.open()
    await asyncio.wait_for(sender, 1.0)
    await system.idle()
    assert log == ["a", "b", "c"]


async def test_a_handler_overrunning_handler_timeout_is_a_failure(
    system: ActorSystem, clock: VirtualClock
) -> None:
    ref = await system.spawn(recorder("r", [], handler_timeout=2.0))
    first, second = Gate(), Gate()
    ref.tell(first)
    answer = asyncio.create_task(ref.ask(second))
    await first.reached()
    await wait_until(lambda: ref.stats().mailbox_depth == 1)
    clock.advance(1.5)
    first.open()  # took 1.5 s: fine
    await second.reached()
    clock.advance(0.5)  # the watchdog fires at t=2 but the second message is only 0.5 s old
    clock.advance(1.25)
    await asyncio.sleep(0)
    assert ref.stats().failed == 0
    clock.advance(0.25)
    with pytest.raises(HandlerError, match=r"handler_timeout=2\.0") as caught:
        await answer
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert ref.stats().failed == 1
    assert system.dead_letters.recent[-1].reason == "handler_failed"


async def test_on_start_failure_is_handled_by_the_supervisor(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    attempts: list[int] = []

    class Flaky(Actor):
        async def on_start(self) -> None:
            attempts.append(len(attempts))
            if len(attempts) == 1:
                raise RuntimeError("first start fails")

        async def receive(self, message: Any) -> Any:
            return message

    ref = await system.spawn(ChildSpec("flaky", Flaky))
    assert ref.state is ActorState.RESTARTING
    ref.tell("queued during backoff")
    await wait_until(lambda: count(events, "restarting") == 1)
    clock.advance(1.0)
    await wait_until(lambda: ref.state is ActorState.RUNNING)
    await system.idle()
    stats = ref.stats()
    assert (stats.failed, stats.restarts, stats.processed) == (1, 1, 1)
    assert attempts == [0, 1]


async def test_on_restart_failure_counts_as_another_failure(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    errors: list[BaseException] = []

    class BadRestart(Recorder):
        async def on_restart(self, error: BaseException) -> None:
            errors.append(error)
            if len(errors) == 1:
                raise RuntimeError("restart hook fails")

    ref = await system.spawn(ChildSpec("r", lambda: BadRestart([])))
    ref.tell(ValueError("boom"))
    await wait_until(lambda: count(events, "restarting") == 1)
    clock.advance(1.0)  # first backoff: on_restart raises
    await wait_until(lambda: count(events, "restarting") == 2)
    assert ref.stats().failed == 2
    assert events[-1].delay == 2.0  # the second backoff doubles
    clock.advance(2.0)
    await wait_until(lambda: ref.state is ActorState.RUNNING)
    assert [type(e) for e in errors] == [ValueError, RuntimeError]
    assert ref.stats().restarts == 2


async def test_context_describes_the_actor(system: ActorSystem) -> None:
    seen: dict[str, Any] = {}

    class Curious(Actor):
        async def on_start(self) -> None:
            ctx = self.context
            seen["lazy_logger"] = ctx._logger is None
            seen.update(
                name=ctx.name,
                path=ctx.path,
                parent=ctx.parent,
                self_ref=ctx.self_ref,
                system=ctx.system,
                dead_letters=ctx.dead_letters,
                clock=ctx.clock,
                extra=ctx.logger.extra,
            )

    ref = await system.spawn(ChildSpec("curious", Curious))
    assert seen["lazy_logger"] is True
    assert (seen["name"], seen["path"]) == ("curious", "/root/curious")
    assert seen["parent"] is system.root.context.self_ref
    assert seen["self_ref"] is ref
    assert seen["system"] is system
    assert seen["dead_letters"] is system.dead_letters
    assert seen["clock"] is system.clock
    assert seen["extra"] == {"actor": "/root/curious"}
    assert system.root.context.parent is None
    assert system.root.context.path == "/root"


async def test_stats_snapshot(system: ActorSystem, clock: VirtualClock) -> None:
    ref = await system.spawn(recorder("r", []))
    await ref.ask("a")
    clock.advance(7.0)
    stats = ref.stats()
    assert (stats.name, stats.path, stats.state) == ("r", "/root/r", ActorState.RUNNING)
    assert (stats.processed, stats.failed, stats.restarts, stats.dropped) == (1, 0, 0, 0)
    assert (stats.mailbox_depth, stats.mailbox_high_water, stats.last_error) == (0, 1, None)
    assert stats.uptime == 7.0


@pytest.mark.parametrize(
    ("restart", "final"),
    [
        (RestartType.TRANSIENT, ActorState.STOPPED),
        (RestartType.TEMPORARY, ActorState.STOPPED),
        (RestartType.PERMANENT, ActorState.RUNNING),
    ],
)
async def test_context_stop_ends_the_actor_unless_it_is_permanent(
    system: ActorSystem,
    clock: VirtualClock,
    events: list[RuntimeEvent],
    restart: RestartType,
    final: ActorState,
) -> None:
    class Quitter(Recorder):
        async def receive(self, message: Any) -> Any:
            if message == "quit":
                self.context.stop()
                return "bye"
            return await super().receive(message)

    ref = await system.spawn(ChildSpec("q", lambda: Quitter([]), restart=restart))
    ref.tell("quit")
    ref.tell("after")
    await wait_until(lambda: count(events, "restarting") + count(events, "stopped") == 1)
    clock.advance(1.0)
    await wait_until(lambda: ref.state is final)
    assert system.root.child("q") is ref
    if final is ActorState.STOPPED:
        assert system.dead_letters.recent[-1].reason == "actor_stopped"
    else:
        assert ref.stats().restarts == 1


async def test_a_sender_blocked_in_put_is_released_when_the_actor_stops(
    system: ActorSystem,
) -> None:
    ref, gate, _ = await _blocked(system, OverflowPolicy.BLOCK)
    sender = asyncio.create_task(ref.put("c"))
    await asyncio.sleep(0)
    stopping = asyncio.create_task(system.stop_child("r"))
    await wait_until(lambda: not ref.is_alive)
    gate.open()
    await asyncio.wait_for(sender, 1.0)
    await stopping
    assert ("c", "actor_stopped") in [(d.message, d.reason) for d in system.dead_letters.recent]


async def test_an_on_start_that_hangs_past_handler_timeout_is_a_failure(
    system: ActorSystem, events: list[RuntimeEvent]
) -> None:
    class Stuck(Actor):
        async def on_start(self) -> None:
            await asyncio.Event().wait()

    ref = await system.spawn(ChildSpec("stuck", Stuck, handler_timeout=0.05))
    assert ref.state is ActorState.RESTARTING
    error = events[-1].error if events[-1].kind == "failed" else None
    assert isinstance(error, HandlerError)
    assert "on_start" in str(error)
