"""The dispatcher: inline drains, handoff to a task when a handler awaits, fairness, tasks."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from kryten_actors.errors import HandlerError
from kryten_actors.runtime import Actor, ActorState, ActorSystem, ChildSpec, OverflowPolicy
from tests.runtime.support import FAST_POLICY, wait_until


class Log(Actor):
    """Records (name, message); a message ``("await", n)`` suspends ``n`` times first."""

    def __init__(self, name: str, log: list[tuple[str, Any]]) -> None:
        self.name = name
        self.log = log

    async def receive(self, message: Any) -> Any:
        if isinstance(message, tuple) and message[0] == "await":
            for _ in range(message[1]):
                await asyncio.sleep(0)
        self.log.append((self.name, message))
        return message


def spec(name: str, log: list[tuple[str, Any]], **options: Any) -> ChildSpec:
    return ChildSpec(name, lambda: Log(name, log), **options)


async def test_handlers_that_never_await_need_no_task(system: ActorSystem) -> None:
    log: list[tuple[str, Any]] = []
    refs = [await system.spawn(spec(f"a{i}", log)) for i in range(50)]
    tasks_before = len(asyncio.all_tasks())
    for round_ in range(20):
        for ref in refs:
            ref.tell(round_)
    await system.idle()
    turns, handoffs = system.dispatch_stats
    assert len(log) == 1000
    assert handoffs == 0
    assert turns >= 50
    # the dispatcher's task is the only one added, whatever the number of actors
    assert len(asyncio.all_tasks()) <= tasks_before + 1


async def test_dispatch_stats_count_every_turn_once_also_across_a_handoff(
    system: ActorSystem,
) -> None:
    log: list[tuple[str, Any]] = []
    waiting = await system.spawn(spec("waiting", log))
    refs = [await system.spawn(spec(f"b{i}", log)) for i in range(10)]
    await system.idle()
    turns_before, handoffs_before = system.dispatch_stats
    waiting.tell(("await", 3))  # its turn hands the dispatcher's task over
    for ref in refs:
        ref.tell("hi")
    await system.idle()
    turns, handoffs = system.dispatch_stats
    assert len(log) == 11
    assert handoffs - handoffs_before == 1
    assert turns - turns_before == 11  # one turn per cell, counted by both tasks


async def test_a_handler_that_awaits_keeps_its_task_and_the_others_go_on(
    system: ActorSystem,
) -> None:
    log: list[tuple[str, Any]] = []
    slow = await system.spawn(spec("slow", log))
    fast = await system.spawn(spec("fast", log))
    gate = asyncio.Event()

    class Waiter(Actor):
        async def receive(self, message: Any) -> None:
            task = asyncio.current_task()
            await gate.wait()
            # continued in the very task it started in
            assert asyncio.current_task() is task
            log.append(("waiter", message))

    waiter = await system.spawn(ChildSpec("waiter", Waiter))
    waiter.tell("first")
    waiter.tell("second")
    for i in range(10):
        fast.tell(i)
        slow.tell(("await", 2))
    await wait_until(lambda: len([e for e in log if e[0] != "waiter"]) == 20)
    assert [m for n, m in log if n == "fast"] == list(range(10))
    assert not [e for e in log if e[0] == "waiter"]
    gate.set()
    await system.idle()
    assert [m for n, m in log if n == "waiter"] == ["first", "second"]
    assert system.dispatch_stats[1] >= 2


async def test_a_hot_actor_delays_others_by_at_most_one_quantum() -> None:
    quantum = 8
    order: list[str] = []

    class Mark(Actor):
        def __init__(self, name: str) -> None:
            self.name = name

        async def receive(self, message: Any) -> None:
            order.append(self.name)

    async with ActorSystem(quantum=quantum, shutdown_timeout=5.0) as system:
        hot = await system.spawn(ChildSpec("hot", lambda: Mark("hot"), mailbox_capacity=10_000))
        colds = [
            await system.spawn(ChildSpec(f"c{i}", lambda i=i: Mark(f"c{i}"))) for i in range(5)
        ]
        for _ in range(1000):
            hot.tell("x")
        for cold in colds:
            cold.tell("x")
        await system.idle()
    for i in range(5):
        assert order.index(f"c{i}") <= quantum + i, "a cold actor waited more than a quantum"
    assert len(order) == 1005


async def test_a_long_drain_lets_other_tasks_run_every_few_milliseconds() -> None:
    handled = 0
    seen_by_other_task: list[int] = []

    class Slow(Actor):
        async def receive(self, message: Any) -> None:
            nonlocal handled
            busy_until = time.perf_counter() + 0.001  # 1 ms of CPU work, never awaiting
            while time.perf_counter() < busy_until:
                pass
            handled += 1

    async def other_task() -> None:
        while handled < 200:
            seen_by_other_task.append(handled)
            await asyncio.sleep(0)

    async with ActorSystem(shutdown_timeout=5.0) as system:
        slow = await system.spawn(ChildSpec("slow", Slow, mailbox_capacity=1000))
        for _ in range(200):
            slow.tell("work")
        await asyncio.wait_for(other_task(), 30)
    # It ran while the 200 ms drain went on: the dispatcher looks at the time every 64
    # messages and lets the loop run once 5 ms have passed — at 64, 128 and 192 here.
    during = sorted({count for count in seen_by_other_task if 0 < count < 200})
    assert during == [64, 128, 192]


async def test_every_task_ends_with_the_system() -> None:
    log: list[tuple[str, Any]] = []
    before = asyncio.all_tasks()
    system = ActorSystem(policy=FAST_POLICY, shutdown_timeout=2.0)
    await system.start()
    refs = [await system.spawn(spec(f"a{i}", log)) for i in range(20)]
    for ref in refs:
        ref.tell(("await", 3))
        ref.tell("plain")

    class Forever(Actor):
        async def receive(self, message: Any) -> None:
            await asyncio.Event().wait()

    stuck = await system.spawn(ChildSpec("stuck", Forever, shutdown_timeout=0.1))
    stuck.tell("hang")
    await system.stop()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()


async def test_the_watchdog_keeps_watching_after_a_handler_swallows_its_cancel() -> None:
    cut_off: list[str] = []

    class Stubborn(Actor):
        async def receive(self, message: str) -> None:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cut_off.append(message)
                if message == "swallow":
                    return  # swallowed: the watchdog must still bound the next one
                raise

    async with ActorSystem(shutdown_timeout=5.0, policy=FAST_POLICY) as system:
        ref = await system.spawn(
            ChildSpec("stubborn", Stubborn, handler_timeout=0.05, mailbox_capacity=10)
        )
        ref.tell("swallow")
        ref.tell("next")
        await wait_until(lambda: len(cut_off) == 2, limit=10.0)
        letters = [d for d in system.dead_letters.recent if d.reason == "handler_failed"]
        # both overran: the swallowed cancel still counts, and the next one is bounded too
        assert [d.message for d in letters] == ["swallow", "next"]
        assert all(isinstance(d.error, HandlerError) for d in letters)
    assert cut_off == ["swallow", "next"]


async def test_start_child_nowait_queues_messages_until_on_start_is_done(
    system: ActorSystem,
) -> None:
    started = asyncio.Event()
    log: list[tuple[str, Any]] = []

    class SlowStart(Log):
        async def on_start(self) -> None:
            await started.wait()

    ref = system.root.start_child_nowait(ChildSpec("slow", lambda: SlowStart("slow", log)))
    assert ref.state is ActorState.STARTING
    ref.tell(1)
    ref.tell(2)
    await asyncio.sleep(0)
    assert log == []
    started.set()
    await wait_until(lambda: len(log) == 2)
    assert log == [("slow", 1), ("slow", 2)]


async def test_passivation_keeps_the_state_and_reactivation_sees_it(system: ActorSystem) -> None:
    class Counter(Actor):
        def __init__(self) -> None:
            self.total = 0
            self.activated_with: Any = None

        async def receive(self, message: Any) -> Any:
            self.total += message
            return self.total

        async def on_passivate(self) -> Any:
            return {"total": self.total}

        async def on_activate(self, state: Any) -> None:
            self.activated_with = state
            self.total = state["total"]

    child = ChildSpec("counter", Counter)
    ref = await system.spawn(child)
    assert await ref.ask(5) == 5
    kept: list[Any] = []
    assert await system.root.passivate_child("counter", kept.append)
    assert kept == [{"total": 5}]
    assert system.root.child("counter") is None
    assert ref.state is ActorState.STOPPED
    again = system.root.start_child_nowait(child, state=kept[0])
    assert await again.ask(2) == 7


async def test_a_busy_actor_is_not_passivated(system: ActorSystem) -> None:
    log: list[tuple[str, Any]] = []
    gate = asyncio.Event()

    class Busy(Actor):
        async def receive(self, message: Any) -> None:
            await gate.wait()
            log.append(("busy", message))

    ref = await system.spawn(ChildSpec("busy", Busy))
    ref.tell(1)
    await wait_until(lambda: ref.stats().mailbox_depth == 0)
    assert not await system.root.passivate_child("busy", log.append)
    gate.set()
    await system.idle()
    assert log == [("busy", 1)]


# -- a state machine over arrival and handler-duration schedules -------------------
SCHEDULE = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 3), st.booleans()), min_size=1, max_size=120
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=SCHEDULE, quantum=st.integers(1, 16))
def test_any_schedule_keeps_per_actor_order_and_loses_nothing(
    schedule: list[tuple[int, int, bool]], quantum: int
) -> None:
    """Messages (actor, awaits, yield_after) arrive; handlers await 0 to 3 times; arrivals
    interleave with loop turns. Every actor sees exactly its messages, in order."""

    async def run() -> dict[str, list[int]]:
        seen: dict[str, list[int]] = {}

        class Ordered(Actor):
            def __init__(self, name: str) -> None:
                self.name = name

            async def receive(self, message: tuple[int, int]) -> None:
                seq, awaits = message
                for _ in range(awaits):
                    await asyncio.sleep(0)
                seen.setdefault(self.name, []).append(seq)

        async with ActorSystem(quantum=quantum, shutdown_timeout=5.0) as system:
            refs = [
                await system.spawn(
                    ChildSpec(
                        f"a{i}",
                        lambda i=i: Ordered(f"a{i}"),
                        mailbox_capacity=1000,
                        overflow=OverflowPolicy.REJECT,
                    )
                )
                for i in range(5)
            ]
            for seq, (target, awaits, pause) in enumerate(schedule):
                refs[target].tell((seq, awaits))
                if pause:
                    await asyncio.sleep(0)
            await system.idle()
        return seen

    seen = asyncio.run(run())
    for actor in range(5):
        expected = [seq for seq, (target, _, _) in enumerate(schedule) if target == actor]
        assert seen.get(f"a{actor}", []) == expected


@pytest.mark.parametrize("quantum", [0, -1])
def test_a_quantum_below_one_is_refused(quantum: int) -> None:
    with pytest.raises(Exception, match="quantum"):
        ActorSystem(quantum=quantum)


# -- a stateful model: order and isolation under blocking handlers ---------------------
ACTORS = 3


class DispatcherMachine(RuleBasedStateMachine):
    """Actors get plain and awaiting messages and gates that hold them; the loop turns.

    Invariants: an actor has handled a prefix of what it was sent, in order, never twice;
    once the loop settles, every actor not held at a gate has handled everything, so a
    held actor never holds up the others.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.sent: list[list[int]] = [[] for _ in range(ACTORS)]
        self.seen: list[list[int]] = [[] for _ in range(ACTORS)]
        self.gates: list[asyncio.Event | None] = [None] * ACTORS
        self.seq = 0
        self.system = ActorSystem(quantum=3, shutdown_timeout=5.0, stall_threshold=None)
        self.loop.run_until_complete(self.system.start())
        self.refs = [self.loop.run_until_complete(self._spawn(i)) for i in range(ACTORS)]

    async def _spawn(self, index: int) -> Any:
        machine = self

        class Modelled(Actor):
            async def receive(self, message: tuple[int, int, asyncio.Event | None]) -> None:
                seq, awaits, gate = message
                for _ in range(awaits):
                    await asyncio.sleep(0)
                if gate is not None:
                    await gate.wait()
                machine.seen[index].append(seq)

        return await self.system.spawn(ChildSpec(f"m{index}", Modelled, mailbox_capacity=10_000))

    def _send(self, actor: int, awaits: int, gate: asyncio.Event | None) -> None:
        async def tell() -> None:  # from inside the loop, as senders are
            self.refs[actor].tell((self.seq, awaits, gate))

        self.loop.run_until_complete(tell())
        self.sent[actor].append(self.seq)
        self.seq += 1

    @rule(actor=st.integers(0, ACTORS - 1), awaits=st.integers(0, 2))
    def tell(self, actor: int, awaits: int) -> None:
        self._send(actor, awaits, None)

    @rule(actor=st.integers(0, ACTORS - 1))
    def hold(self, actor: int) -> None:
        if self.gates[actor] is None:
            self.gates[actor] = asyncio.Event()
            self._send(actor, 0, self.gates[actor])

    @rule(actor=st.integers(0, ACTORS - 1))
    def release(self, actor: int) -> None:
        gate, self.gates[actor] = self.gates[actor], None
        if gate is not None:
            gate.set()

    @rule(turns=st.integers(1, 5))
    def turn(self, turns: int) -> None:
        for _ in range(turns):
            self.loop.run_until_complete(asyncio.sleep(0))

    @rule()
    def settle(self) -> None:
        for _ in range(200):
            self.loop.run_until_complete(asyncio.sleep(0))
        for actor in range(ACTORS):
            if self.gates[actor] is None:
                assert self.seen[actor] == self.sent[actor], f"m{actor} was held up"

    @invariant()
    def handled_a_prefix_in_order(self) -> None:
        for actor in range(ACTORS):
            assert self.seen[actor] == self.sent[actor][: len(self.seen[actor])]

    def teardown(self) -> None:
        for actor in range(ACTORS):
            self.release(actor)
        self.loop.run_until_complete(self.system.idle(5.0))
        assert self.seen == self.sent
        self.loop.run_until_complete(self.system.stop())
        self.loop.close()


DispatcherMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None
)
test_dispatcher_model = DispatcherMachine.TestCase
