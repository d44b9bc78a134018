"""The actor system: shutdown guarantees, idle, events, and 10,000 cheap actors."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import tracemalloc
from functools import partial
from typing import Any

import pytest

from kryten_actors.errors import KrytenError, KrytenTimeoutError
from kryten_actors.runtime import (
    Actor,
    ActorState,
    ActorSystem,
    ChildSpec,
    RuntimeEvent,
    VirtualClock,
)
from tests.runtime.support import Gate


class Idle(Actor):
    async def receive(self, message: Any) -> Any:
        return message


class Journaled(Actor):
    def __init__(self, name: str, journal: list[str]) -> None:
        self.name = name
        self.journal = journal

    async def receive(self, message: Any) -> Any:
        if isinstance(message, Gate):
            await message.pass_through()
        self.journal.append(f"{self.name} got {message}")

    async def on_stop(self) -> None:
        self.journal.append(f"{self.name} stopped")


class HangingStop(Actor):
    async def on_stop(self) -> None:
        await asyncio.Event().wait()


class RaisingStop(Actor):
    async def on_stop(self) -> None:
        raise RuntimeError("on_stop bug")


def no_tasks_left() -> bool:
    return not (asyncio.all_tasks() - {asyncio.current_task()})


async def test_shutdown_drains_mailboxes_and_stops_in_reverse_start_order() -> None:
    journal: list[str] = []
    async with ActorSystem() as system:
        for name in ("a", "b", "c"):
            await system.spawn(ChildSpec(name, partial(Journaled, name, journal)))
        for name in ("a", "c"):
            ref = system.root.child(name)
            assert ref is not None
            ref.tell("last words")
    assert journal == [
        "a got last words",
        "c got last words",
        "c stopped",
        "b stopped",
        "a stopped",
    ]
    assert no_tasks_left()


async def test_an_on_stop_that_hangs_is_cut_off_after_its_shutdown_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal: list[str] = []
    started = time.monotonic()
    async with ActorSystem() as system:
        await system.spawn(ChildSpec("first", lambda: Journaled("first", journal)))
        hanging = await system.spawn(ChildSpec("hangs", HangingStop, shutdown_timeout=0.05))
    assert time.monotonic() - started < 2.0
    assert hanging.state is ActorState.STOPPED
    assert hanging.stats().last_error is not None
    error = hanging.stats().last_error
    assert error is not None
    assert error.type == "TimeoutError"
    assert journal == ["first stopped"]  # the others still stop
    assert no_tasks_left()


async def test_an_on_stop_that_raises_is_logged_and_shutdown_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal: list[str] = []
    with caplog.at_level(logging.ERROR):
        async with ActorSystem() as system:
            await system.spawn(ChildSpec("first", lambda: Journaled("first", journal)))
            raising = await system.spawn(ChildSpec("raises", RaisingStop))
    assert "on_stop bug" in caplog.text
    stats = raising.stats()
    assert (stats.state, stats.failed) == (ActorState.STOPPED, 1)
    assert stats.last_error is not None
    assert stats.last_error.message == "on_stop bug"
    assert journal == ["first stopped"]
    assert no_tasks_left()


async def test_the_system_deadline_beats_generous_child_timeouts() -> None:
    started = time.monotonic()
    gate = Gate()
    async with ActorSystem(shutdown_timeout=0.1) as system:
        await system.spawn(ChildSpec("hangs", HangingStop, shutdown_timeout=60.0))
        busy = await system.spawn(
            ChildSpec("busy", lambda: Journaled("busy", []), shutdown_timeout=60.0)
        )
        busy.tell(gate)
        busy.tell("never processed")
        await gate.reached()
    assert time.monotonic() - started < 3.0
    assert all(cell.state is ActorState.STOPPED for cell in system.cells())
    # the message cut off in its handler and the one never started are both dead letters
    letters = system.dead_letters.recent
    messages = [d.message for d in letters]
    assert len(messages) == 2
    assert gate in messages
    assert "never processed" in messages
    assert {d.reason for d in letters} == {"actor_stopped"}
    assert no_tasks_left()


async def test_ten_thousand_actors_start_and_stop_cleanly() -> None:
    async with ActorSystem(clock=VirtualClock()) as system:
        refs = [await system.spawn(ChildSpec(f"a{index}", Idle)) for index in range(10_000)]
        assert len(system.root.children()) == 10_000
        assert no_tasks_left()  # idle actors own no task
        for ref in refs[::1000]:
            ref.tell("wake up")
        await system.idle()
        assert sum(ref.stats().processed for ref in refs) == 10
    assert all(ref.state is ActorState.STOPPED for ref in refs)
    assert no_tasks_left()


async def test_an_idle_actor_costs_at_most_2_kib() -> None:
    async with ActorSystem(clock=VirtualClock()) as system:
        await system.spawn(ChildSpec("warm-up", Idle))
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            refs = [await system.spawn(ChildSpec(f"a{index}", Idle)) for index in range(2_000)]
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        per_actor = grown / len(refs)
        print(f"idle actor: {per_actor:.0f} bytes")
        assert per_actor <= 2048


async def test_idle_waits_for_processing_and_times_out_when_stuck() -> None:
    seen: list[int] = []

    class Slow(Actor):
        async def receive(self, message: Any) -> Any:
            if isinstance(message, Gate):
                await message.pass_through()
            else:
                await asyncio.sleep(0)
                seen.append(message)

    async with ActorSystem() as system:
        ref = await system.spawn(ChildSpec("slow", Slow))
        for index in range(100):
            ref.tell(index)
        await system.idle()
        assert seen == list(range(100))
        gate = Gate()
        ref.tell(gate)
        with pytest.raises(KrytenTimeoutError, match="/root/slow"):
            await system.idle(timeout=0.05)
        gate.open()
        await system.idle()


async def test_observers_get_events_and_a_raising_one_breaks_nothing() -> None:
    seen: list[RuntimeEvent] = []

    def broken(event: RuntimeEvent) -> None:
        raise RuntimeError("observer bug")

    async with ActorSystem() as system:
        system.subscribe(broken)
        unsubscribe = system.subscribe(seen.append)
        await system.spawn(ChildSpec("a", Idle))
        await system.stop_child("a")
        unsubscribe()
        await system.spawn(ChildSpec("b", Idle))
    assert [(e.kind, e.path) for e in seen] == [("started", "/root/a"), ("stopped", "/root/a")]


async def test_the_system_must_be_started_once() -> None:
    system = ActorSystem(name="bot")
    with pytest.raises(KrytenError, match="not started"):
        _ = system.root
    await system.start()
    assert system.root.context.path == "/bot"
    running_before = system.running
    with pytest.raises(KrytenError, match="already started"):
        await system.start()
    await system.stop()
    await system.stop()
    assert (running_before, system.running) == (True, False)
    assert no_tasks_left()
