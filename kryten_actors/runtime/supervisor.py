"""Supervisors: actors that start, watch and restart other actors (OTP-style).

A :class:`Supervisor` owns children declared by :class:`ChildSpec`. When a child
fails, the policy's decider picks a :class:`Directive`; a restart honours the
child's restart type, the restart intensity (too many restarts in a window stop
the child and escalate) and an exponential backoff measured on the system clock,
so the loop never blocks and tests can advance virtual time. A restart keeps
the child's mailbox: only the failing message leaves, to dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

from kryten_actors.errors import KrytenError, KrytenValidationError
from kryten_actors.runtime.actor import Actor, ActorContext
from kryten_actors.runtime.cell import Cell
from kryten_actors.runtime.clock import sleep_on
from kryten_actors.runtime.lifecycle import NO_STATE, passivate
from kryten_actors.runtime.policy import (
    ChildSpec,
    Directive,
    RestartType,
    Strategy,
    SupervisionPolicy,
)
from kryten_actors.runtime.ref import ActorRef
from kryten_actors.runtime.stats import ActorState, ActorStats

__all__ = ["DEFAULT_POLICY", "Supervisor"]

_log = logging.getLogger("kryten_actors.runtime")

DEFAULT_POLICY = SupervisionPolicy()
"""one_for_one, 10 restarts in 60 s, backoff 0.1 s .. 30 s with 20 % jitter."""


@dataclass(slots=True)
class _RestartRecord:
    """One child's restart history: consecutive restarts and recent restart times."""

    streak: int = 0
    times: deque[float] = field(default_factory=deque)


class Supervisor(Actor):
    """An actor whose job is to run children and react to their failures.

    Children given as ``children`` are started by :meth:`on_start`, so a restarted
    supervisor rebuilds its subtree; subclasses overriding ``on_start`` should call
    ``await super().on_start()``. Children stop in reverse start order before this
    supervisor's own ``on_stop`` runs. A supervisor's ``receive`` is the base one:
    subclass it to give the supervisor messages of its own.
    """

    def __init__(
        self, policy: SupervisionPolicy = DEFAULT_POLICY, *, children: Iterable[ChildSpec] = ()
    ) -> None:
        self.policy = policy
        self._specs = tuple(children)
        self._cells: dict[str, Cell] = {}
        self._records: dict[str, _RestartRecord] = {}
        self._handlers: set[asyncio.Task[None]] = set()
        self._lock: asyncio.Lock | None = None
        self._stopping = False
        self._rng = random.Random()  # noqa: S311 -- backoff jitter, not cryptography

    def __repr__(self) -> str:
        return f"<{type(self).__name__} children={list(self._cells)}>"

    async def on_start(self) -> None:
        """Start the children given to the constructor, in order."""
        for spec in self._specs:
            await self.start_child(spec)

    # -- public API -------------------------------------------------------------
    async def start_child(self, spec: ChildSpec) -> ActorRef:
        """Create the child from ``spec``, run its ``on_start``, and return its ref.

        Names are unique among live children (``KrytenValidationError`` otherwise);
        a child of that name that is stopped or failed is replaced. If the factory
        raises, the error propagates and nothing is started. If ``on_start`` fails,
        the ref is still returned and the child is handled like any failure.
        """
        cell = self._new_cell(spec)
        await cell.start()
        return cell.ref

    def start_child_nowait(self, spec: ChildSpec, *, state: Any = NO_STATE) -> ActorRef:
        """Like :meth:`start_child`, without waiting for the child's first hook.

        The child's ``on_start`` (or ``on_activate(state)`` when ``state`` is given: a
        passivated child coming back) runs in a task this supervisor owns; messages
        sent meanwhile wait in the child's mailbox. The caller never waits for a hook.
        """
        cell = self._new_cell(spec)
        self._spawn(cell.start(state))
        return cell.ref

    def _new_cell(self, spec: ChildSpec) -> Cell:
        context = self._context()
        path = context.path
        old = self._cells.get(spec.name)
        if old is not None:
            if old.accepting:
                raise KrytenValidationError(
                    f"{path} already has a running child {spec.name!r}; stop_child() "
                    "it first or pick another name",
                    [("name", f"duplicate child name {spec.name!r}")],
                )
            del self._cells[spec.name]
            self._records.pop(spec.name, None)
        if not context.self_ref.is_alive:
            raise KrytenError(f"{path} is stopping; it cannot start {spec.name!r}")
        actor = spec.factory()
        if not isinstance(actor, Actor):
            raise KrytenValidationError(
                f"the factory of child {spec.name!r} returned {type(actor).__name__}, not an "
                "Actor; pass the class or a function that returns an Actor instance",
                [("factory", "must return an Actor")],
            )
        system = context.system
        cell = Cell(
            spec,
            actor,
            system=system,
            hooks=system.hooks,
            guardian=self,
            parent=context.self_ref,
            path=f"{path}/{spec.name}",
        )
        self._cells[spec.name] = cell
        return cell

    async def passivate_child(self, name: str, on_passivated: Callable[[Any], None]) -> bool:
        """Passivate the idle child ``name``: ``on_passivate`` runs, then it is forgotten.

        ``on_passivated(state)`` is called with what ``on_passivate`` returned at the
        moment the child is removed (synchronously, so no message can slip in between).
        Returns False, and the child keeps running, when it is busy, not running, or
        got messages while ``on_passivate`` ran. Unknown names return False.
        """
        cell = self._cells.get(name)
        if cell is None:
            return False
        done, state = await passivate(cell)
        if not done:
            return False
        if self._cells.get(name) is cell:
            del self._cells[name]
            self._records.pop(name, None)
        on_passivated(state)
        return True

    async def stop_child(self, name: str) -> None:
        """Stop the child ``name`` and forget it.

        The child first processes what is already queued (within its
        ``shutdown_timeout``), then is cancelled; ``on_stop`` runs; anything left
        becomes a dead letter. Raises ``KrytenValidationError`` for an unknown name.
        """
        cell = self._cells.get(name)
        if cell is None:
            raise KrytenValidationError(
                f"{self._context().path} has no child {name!r}; children: {list(self._cells)}",
                [("name", f"unknown child {name!r}")],
            )
        await cell.stop(drain=True)
        if self._cells.get(name) is cell:
            del self._cells[name]
            self._records.pop(name, None)

    def child(self, name: str) -> ActorRef | None:
        """The ref of child ``name`` (running or not), or ``None``."""
        cell = self._cells.get(name)
        return cell.ref if cell is not None else None

    def children(self) -> list[ActorRef]:
        """Refs of all children, in start order (stopped and failed ones included)."""
        return [cell.ref for cell in self._cells.values()]

    def child_stats(self) -> dict[str, ActorStats]:
        """Stats of every child by name."""
        return {name: cell.stats() for name, cell in self._cells.items()}

    def child_cells(self) -> list[Cell]:
        """The children's cells, in start order (runtime-internal)."""
        return list(self._cells.values())

    # -- Guardian: called by the children's cells ----------------------------------
    def child_failed(self, child: Cell, error: BaseException) -> bool:
        """Decide on a failure; True means resume (the child carries on at once)."""
        cell = child
        if self._stopping or self._cells.get(cell.spec.name) is not cell:
            return False
        try:
            directive = Directive(self.policy.decider(error))
        except Exception:  # noqa: BLE001 -- a broken decider must not stop supervision
            _log.exception("decider of %s raised; restarting %s", self._context().path, cell.path)
            directive = Directive.RESTART
        cell.hooks.emit("failed", cell.path, error)
        if directive is Directive.RESUME:
            return True
        self._spawn(self._handle_failure(cell, error, directive, cell.restarts))
        return False

    def child_exited(self, child: Cell) -> None:
        """The child called ``context.stop()``."""
        cell = child
        if self._stopping:
            return
        if cell.spec.restart is RestartType.PERMANENT:
            error = KrytenError(f"{cell.path} stopped itself; permanent children are restarted")
            self._spawn(self._handle_failure(cell, error, Directive.RESTART, cell.restarts))
        else:
            self._spawn(cell.stop(drain=False))

    # -- failure handling -----------------------------------------------------------
    async def _handle_failure(
        self, cell: Cell, error: BaseException, directive: Directive, generation: int
    ) -> None:
        lock: contextlib.AbstractAsyncContextManager[Any] = contextlib.nullcontext()
        if self.policy.strategy is not Strategy.ONE_FOR_ONE:
            lock = self._lock = self._lock or asyncio.Lock()
        async with lock:
            stale = self._cells.get(cell.spec.name) is not cell or cell.restarts != generation
            if stale or not cell.accepting:
                return
            if directive is Directive.STOP:
                await cell.stop(drain=False)
                return
            if directive is Directive.ESCALATE or cell.spec.restart is RestartType.TEMPORARY:
                await cell.stop(drain=False, final=ActorState.FAILED)
                if directive is Directive.ESCALATE:
                    self._escalate(cell, error)
                return
            now = cell.hooks.clock.now()
            if not self._may_restart(cell, now):
                await cell.stop(drain=False, final=ActorState.FAILED)
                self._escalate(cell, error)
                return
            delay = self._backoff(cell, now)
            affected = self._affected(cell)
            for sibling in reversed(affected):
                await sibling.halt()
            cell.hooks.emit("restarting", cell.path, error, delay)
            await sleep_on(cell.hooks.clock, delay)
            for sibling in affected:
                await sibling.restart(error)

    def _record(self, cell: Cell) -> _RestartRecord:
        record = self._records.get(cell.spec.name)
        if record is None:
            record = self._records[cell.spec.name] = _RestartRecord()
        return record

    def _may_restart(self, cell: Cell, now: float) -> bool:
        times = self._record(cell).times
        horizon = now - self.policy.within_seconds
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) >= self.policy.max_restarts:
            return False
        times.append(now)
        return True

    def _backoff(self, cell: Cell, now: float) -> float:
        record = self._record(cell)
        if now - cell.started_at >= self.policy.reset_after:
            record.streak = 0
        record.streak += 1
        return self.policy.backoff(record.streak, self._rng)

    def _affected(self, cell: Cell) -> list[Cell]:
        strategy = self.policy.strategy
        if strategy is Strategy.ONE_FOR_ONE:
            return [cell]
        live = [c for c in self._cells.values() if c.accepting]
        if strategy is Strategy.ONE_FOR_ALL:
            return live
        return live[live.index(cell) :]

    def _escalate(self, cell: Cell, error: BaseException) -> None:
        context = self._context()
        if context.parent is None:
            _log.error("%s gave up on %s after %r; it stays failed", context.path, cell.path, error)
            cell.hooks.emit("gave_up", cell.path, error)
            return
        cell.hooks.emit("escalated", cell.path, error)
        context.report_failure(error)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._handlers.add(task)
        task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Task[None]) -> None:
        self._handlers.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("supervision task failed", exc_info=task.exception())

    def _context(self) -> ActorContext:
        try:
            return self.context
        except AttributeError:
            raise KrytenError(
                "this Supervisor is not running; start it with system.spawn(ChildSpec(...)) "
                "or use ActorSystem.root"
            ) from None

    # -- shutdown ---------------------------------------------------------------------
    async def _cancel_handlers(self) -> None:
        self._stopping = True
        current = asyncio.current_task()
        handlers = [task for task in self._handlers if task is not current]
        for task in handlers:
            task.cancel()
        if handlers:
            await asyncio.wait(handlers, timeout=1.0)

    async def _before_stop(self) -> None:
        await self._cancel_handlers()
        for cell in reversed(list(self._cells.values())):
            await cell.stop(drain=True)

    async def _abort_subtree(self) -> None:
        await self._cancel_handlers()
        for cell in reversed(list(self._cells.values())):
            await cell.abort()
