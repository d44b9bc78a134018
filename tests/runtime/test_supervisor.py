"""Supervision: strategies, directives, restart types, intensity, escalation, backoff."""

from __future__ import annotations

from typing import Any

import pytest

from kryten_actors.errors import KrytenValidationError
from kryten_actors.runtime import (
    Actor,
    ActorRef,
    ActorState,
    ActorSystem,
    ChildSpec,
    Directive,
    RestartType,
    RuntimeEvent,
    Strategy,
    SupervisionPolicy,
    Supervisor,
    VirtualClock,
)
from tests.runtime.support import FAST_POLICY, Gate, count, wait_until


class Worker(Actor):
    """Counts messages; raises exceptions it is sent; writes its lifecycle to a journal."""

    def __init__(self, name: str, journal: list[tuple[str, str]], log: list[Any]) -> None:
        self.name = name
        self.journal = journal
        self.log = log
        self.count = 0

    async def on_start(self) -> None:
        self.journal.append(("start", self.name))

    async def on_stop(self) -> None:
        self.journal.append(("stop", self.name))

    async def receive(self, message: Any) -> Any:
        if isinstance(message, BaseException):
            raise message
        if isinstance(message, Gate):
            await message.pass_through()
            return None
        self.count += 1
        self.log.append((self.name, message))
        return self.count


def worker(
    name: str,
    journal: list[tuple[str, str]] | None = None,
    log: list[Any] | None = None,
    **options: Any,
) -> ChildSpec:
    shared_journal = [] if journal is None else journal
    shared_log = [] if log is None else log
    return ChildSpec(name, lambda: Worker(name, shared_journal, shared_log), **options)


async def spawn_under(
    system: ActorSystem, policy: SupervisionPolicy, *specs: ChildSpec, name: str = "sup"
) -> ActorRef:
    return await system.spawn(ChildSpec(name, lambda: Supervisor(policy, children=specs)))


def supervisor_of(system: ActorSystem, name: str = "sup") -> Supervisor:
    ref = system.root.child(name)
    assert ref is not None
    actor = ref._cell.actor
    assert isinstance(actor, Supervisor)
    return actor


def child(supervisor: Supervisor, name: str) -> ActorRef:
    ref = supervisor.child(name)
    assert ref is not None
    return ref


async def fail_and_restart(
    ref: ActorRef, clock: VirtualClock, events: list[RuntimeEvent], error: BaseException
) -> None:
    """Make ``ref`` fail, advance past its backoff, and wait until it runs again."""
    restarts = count(events, "restarting")
    ref.tell(error)
    await wait_until(lambda: count(events, "restarting") > restarts)
    clock.advance(events[-1].delay)
    await wait_until(lambda: ref.state is ActorState.RUNNING)


@pytest.mark.parametrize(
    ("strategy", "restarted"),
    [
        (Strategy.ONE_FOR_ONE, ["b"]),
        (Strategy.ONE_FOR_ALL, ["a", "b", "c"]),
        (Strategy.REST_FOR_ONE, ["b", "c"]),
    ],
)
async def test_strategies_restart_the_right_children_in_the_right_order(
    system: ActorSystem,
    clock: VirtualClock,
    events: list[RuntimeEvent],
    strategy: Strategy,
    restarted: list[str],
) -> None:
    journal: list[tuple[str, str]] = []
    specs = [worker(name, journal) for name in "abc"]
    await spawn_under(system, FAST_POLICY.__class__(strategy=strategy, jitter=0.0), *specs)
    sup = supervisor_of(system)
    assert journal == [("start", "a"), ("start", "b"), ("start", "c")]
    journal.clear()
    await fail_and_restart(child(sup, "b"), clock, events, RuntimeError("b fails"))
    await system.idle()
    await wait_until(lambda: len(journal) == 2 * len(restarted))
    stops = [("stop", name) for name in reversed(restarted)]
    starts = [("start", name) for name in restarted]
    assert journal == stops + starts
    assert {name: stats.restarts for name, stats in sup.child_stats().items()} == {
        name: int(name in restarted) for name in "abc"
    }


async def test_resume_keeps_the_instance_and_drops_only_the_failing_message(
    system: ActorSystem, events: list[RuntimeEvent]
) -> None:
    policy = SupervisionPolicy(decider=lambda error: Directive.RESUME)
    await spawn_under(system, policy, worker("w"))
    ref = child(supervisor_of(system), "w")
    assert await ref.ask("one") == 1
    ref.tell(ValueError("skip me"))
    assert await ref.ask("two") == 2  # same instance, same state
    stats = ref.stats()
    assert (stats.failed, stats.restarts, stats.state) == (1, 0, ActorState.RUNNING)
    letter = system.dead_letters.recent[-1]
    assert (letter.reason, type(letter.error)) == ("handler_failed", ValueError)
    assert count(events, "restarting") == 0


async def test_stop_directive_stops_the_child_and_dead_letters_its_mailbox(
    system: ActorSystem,
) -> None:
    policy = SupervisionPolicy(decider=lambda error: Directive.STOP)
    await spawn_under(system, policy, worker("w"), worker("other"))
    sup = supervisor_of(system)
    ref = child(sup, "w")
    ref.tell(ValueError("fatal"))
    ref.tell("pending")
    await wait_until(lambda: ref.state is ActorState.STOPPED)
    assert sup.child_stats()["w"].state is ActorState.STOPPED
    assert child(sup, "other").is_alive
    reasons = [(d.message, d.reason) for d in system.dead_letters.recent]
    assert ("pending", "actor_stopped") in reasons


async def test_a_decider_that_raises_means_restart(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    def broken(error: BaseException) -> Directive:
        raise LookupError("decider bug")

    await spawn_under(system, SupervisionPolicy(decider=broken, jitter=0.0), worker("w"))
    await fail_and_restart(child(supervisor_of(system), "w"), clock, events, ValueError("x"))
    assert child(supervisor_of(system), "w").stats().restarts == 1


async def test_the_mailbox_survives_a_restart_and_only_the_failing_message_leaves(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    log: list[Any] = []
    ref = await system.spawn(worker("w", log=log))
    boom = RuntimeError("boom")
    for message in ["a", boom, "b", "c"]:
        ref.tell(message)
    await wait_until(lambda: count(events, "restarting") == 1)
    assert ref.state is ActorState.RESTARTING
    ref.tell("told during backoff")  # tell still enqueues
    assert ref.stats().mailbox_depth == 3
    clock.advance(events[-1].delay)
    await wait_until(lambda: ref.state is ActorState.RUNNING)
    await system.idle()
    assert [message for _, message in log] == ["a", "b", "c", "told during backoff"]
    letters = system.dead_letters.recent
    assert [(d.message, d.reason, d.error) for d in letters] == [(boom, "handler_failed", boom)]
    assert await ref.ask("count") == 4  # the new instance counted b, c, told..., count


async def test_temporary_children_are_never_restarted(
    system: ActorSystem, events: list[RuntimeEvent]
) -> None:
    ref = await system.spawn(worker("t", restart=RestartType.TEMPORARY))
    ref.tell(ValueError("once"))
    await wait_until(lambda: ref.state is ActorState.FAILED)
    assert count(events, "restarting") == 0
    assert system.root.child_stats()["t"].last_error is not None


async def test_transient_children_are_restarted_after_a_failure(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    ref = await system.spawn(worker("t", restart=RestartType.TRANSIENT))
    await fail_and_restart(ref, clock, events, ValueError("abnormal"))
    assert ref.stats().restarts == 1


async def test_top_level_child_past_intensity_fails_and_the_rest_keep_running(
    clock: VirtualClock,
) -> None:
    policy = SupervisionPolicy(max_restarts=2, within_seconds=60, jitter=0.0, min_backoff=1.0)
    async with ActorSystem(clock=clock, policy=policy) as system:
        events: list[RuntimeEvent] = []
        system.subscribe(events.append)
        bad = await system.spawn(worker("bad"))
        good = await system.spawn(worker("good"))
        await fail_and_restart(bad, clock, events, ValueError("1"))
        await fail_and_restart(bad, clock, events, ValueError("2"))
        bad.tell(ValueError("3"))
        await wait_until(lambda: bad.state is ActorState.FAILED)
        assert count(events, "gave_up", "/root/bad") == 1
        assert system.root.child_stats()["bad"].state is ActorState.FAILED
        assert [r.name for r in system.root.children()] == ["bad", "good"]
        bad.tell("into the void")
        assert system.dead_letters.recent[-1].reason == "actor_stopped"
        assert await good.ask("still here") == 1
        # a failed child is replaced by starting its name again (a bot re-joining a channel)
        again = await system.spawn(worker("bad"))
        assert again is not bad
        assert await again.ask("back") == 1


async def test_restarts_outside_the_window_do_not_count(
    clock: VirtualClock,
) -> None:
    policy = SupervisionPolicy(max_restarts=1, within_seconds=10, jitter=0.0, min_backoff=1.0)
    async with ActorSystem(clock=clock, policy=policy) as system:
        events: list[RuntimeEvent] = []
        system.subscribe(events.append)
        ref = await system.spawn(worker("w"))
        for _ in range(3):
            await fail_and_restart(ref, clock, events, ValueError("now and then"))
            clock.advance(11)
        assert ref.stats().restarts == 3


async def test_a_nested_child_past_intensity_escalates_to_the_parent(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    journal: list[tuple[str, str]] = []
    inner = SupervisionPolicy(max_restarts=1, jitter=0.0, min_backoff=1.0)
    sup_ref = await spawn_under(system, inner, worker("leaf", journal))
    first = supervisor_of(system)
    leaf = child(first, "leaf")
    await fail_and_restart(leaf, clock, events, ValueError("1"))
    leaf.tell(ValueError("2"))
    await wait_until(lambda: count(events, "escalated", "/root/sup/leaf") == 1)
    assert leaf.state is ActorState.FAILED
    # the nested supervisor failed; the root restarts it, which rebuilds its children
    await wait_until(lambda: count(events, "restarting", "/root/sup") == 1)
    clock.advance(events[-1].delay)
    await wait_until(lambda: sup_ref.state is ActorState.RUNNING)
    rebuilt = supervisor_of(system)
    assert rebuilt is not first
    new_leaf = child(rebuilt, "leaf")
    assert new_leaf is not leaf
    assert await new_leaf.ask("hello") == 1
    assert sup_ref.stats().restarts == 1
    assert count(events, "gave_up") == 0


async def test_escalate_directive_fails_the_nested_supervisor(
    system: ActorSystem, events: list[RuntimeEvent]
) -> None:
    inner = SupervisionPolicy(decider=lambda error: Directive.ESCALATE)
    sup_ref = await spawn_under(system, inner, worker("leaf"))
    child(supervisor_of(system), "leaf").tell(KeyError("up"))
    await wait_until(lambda: count(events, "failed", "/root/sup") == 1)
    assert count(events, "escalated", "/root/sup/leaf") == 1
    assert sup_ref.stats().last_error is not None
    error = sup_ref.stats().last_error
    assert error is not None
    assert error.type == "KeyError"


async def test_escalate_at_the_top_level_marks_the_child_failed(clock: VirtualClock) -> None:
    policy = SupervisionPolicy(decider=lambda error: Directive.ESCALATE)
    async with ActorSystem(clock=clock, policy=policy) as system:
        events: list[RuntimeEvent] = []
        system.subscribe(events.append)
        ref = await system.spawn(worker("w"))
        ref.tell(ValueError("no parent to escalate to"))
        await wait_until(lambda: ref.state is ActorState.FAILED)
        assert count(events, "gave_up", "/root/w") == 1
        assert system.running


async def test_backoff_grows_caps_and_resets_after_a_quiet_period(
    clock: VirtualClock,
) -> None:
    policy = SupervisionPolicy(
        max_restarts=100, min_backoff=1.0, max_backoff=8.0, jitter=0.0, reset_after=30.0
    )
    async with ActorSystem(clock=clock, policy=policy) as system:
        events: list[RuntimeEvent] = []
        system.subscribe(events.append)
        ref = await system.spawn(worker("w"))
        for _ in range(6):
            await fail_and_restart(ref, clock, events, ValueError("again"))
        delays = [e.delay for e in events if e.kind == "restarting"]
        assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
        # the backoff really waits on the clock
        ref.tell(ValueError("again"))
        await wait_until(lambda: count(events, "restarting") == 7)
        clock.advance(7.5)
        await wait_until(lambda: clock.pending == 1)
        assert ref.state is ActorState.RESTARTING
        clock.advance(0.5)
        await wait_until(lambda: ref.state is ActorState.RUNNING)
        clock.advance(30.0)  # ran reset_after seconds without failing
        await fail_and_restart(ref, clock, events, ValueError("after a quiet period"))
        assert [e.delay for e in events if e.kind == "restarting"][-1] == 1.0


async def test_start_child_names_are_unique_and_stop_child_forgets(system: ActorSystem) -> None:
    log: list[Any] = []
    first = await system.spawn(worker("w", log=log))
    with pytest.raises(KrytenValidationError, match="already has a running child"):
        await system.spawn(worker("w"))
    await system.spawn(worker("x"))
    assert [ref.name for ref in system.root.children()] == ["w", "x"]
    first.tell("queued before stop")
    await system.stop_child("w")
    assert log == [("w", "queued before stop")]  # drained before stopping
    assert system.root.child("w") is None
    assert list(system.root.child_stats()) == ["x"]
    with pytest.raises(KrytenValidationError, match="has no child"):
        await system.stop_child("w")
    replacement = await system.spawn(worker("w"))
    assert [ref.name for ref in system.root.children()] == ["x", "w"]
    assert replacement is not first


async def test_a_factory_must_make_an_actor(system: ActorSystem) -> None:
    with pytest.raises(KrytenValidationError, match="not an Actor"):
        await system.spawn(ChildSpec("bad", object))  # type: ignore[arg-type]
    assert system.root.child("bad") is None


async def test_one_for_all_lets_a_busy_sibling_finish_its_message_first(
    system: ActorSystem, clock: VirtualClock, events: list[RuntimeEvent]
) -> None:
    log: list[Any] = []
    policy = SupervisionPolicy(strategy=Strategy.ONE_FOR_ALL, jitter=0.0, min_backoff=1.0)
    await spawn_under(system, policy, worker("a", log=log), worker("b", log=log))
    sup = supervisor_of(system)
    a, b = child(sup, "a"), child(sup, "b")
    gate = Gate()
    a.tell(gate)
    a.tell("queued behind the gate")
    await gate.reached()
    b.tell(RuntimeError("b fails"))
    await wait_until(lambda: a.state is ActorState.RESTARTING)
    assert count(events, "restarting") == 0  # still waiting for a's message
    gate.open()
    await wait_until(lambda: count(events, "restarting") == 1)
    clock.advance(events[-1].delay)
    await wait_until(lambda: a.state is ActorState.RUNNING and b.state is ActorState.RUNNING)
    await system.idle()
    assert log == [("a", "queued behind the gate")]
    assert [d.reason for d in system.dead_letters.recent] == ["handler_failed"]
