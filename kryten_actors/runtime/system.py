"""The actor system: one root supervisor per process, and its shutdown guarantee.

::

    async with ActorSystem() as system:
        ref = await system.spawn(ChildSpec("greeter", Greeter))
        print(await ref.ask("hello"))

Leaving the ``async with`` block stops every actor in reverse start order,
each within its own ``shutdown_timeout``, the whole within the system's
``shutdown_timeout`` (loop time, never the virtual clock); whatever is still
running at that deadline is cancelled. No task of the runtime outlives it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from types import TracebackType

from kryten_actors.errors import KrytenError, KrytenTimeoutError
from kryten_actors.runtime.cell import Cell
from kryten_actors.runtime.clock import Clock, MonotonicClock
from kryten_actors.runtime.deadletters import DeadLetters
from kryten_actors.runtime.dispatcher import DEFAULT_QUANTUM, Dispatcher
from kryten_actors.runtime.hooks import RuntimeHooks
from kryten_actors.runtime.policy import ChildSpec, SupervisionPolicy
from kryten_actors.runtime.ref import ActorRef
from kryten_actors.runtime.stall import StallMonitor
from kryten_actors.runtime.stats import RuntimeEvent
from kryten_actors.runtime.supervisor import DEFAULT_POLICY, Supervisor

__all__ = ["ActorSystem"]

_log = logging.getLogger("kryten_actors.runtime")


class ActorSystem:
    """Owns the root supervisor, the clock and the dead letters of one process.

    ``policy`` supervises the top-level actors: a top-level child that exceeds its
    restart intensity is marked ``failed`` and the rest keep running. ``quantum`` is
    how many messages one actor may process before the next ready actor gets a turn
    (the fairness bound; see ``dispatcher.py``). While running, a
    :class:`~kryten_actors.runtime.stall.StallMonitor` (``stall_monitor``) logs and
    counts every event-loop stall longer than ``stall_threshold`` seconds with the
    actor that caused it, and emits a ``stalled`` runtime event (``None``: off).
    """

    def __init__(
        self,
        *,
        policy: SupervisionPolicy = DEFAULT_POLICY,
        clock: Clock | None = None,
        dead_letters: DeadLetters | None = None,
        shutdown_timeout: float = 10.0,
        name: str = "root",
        quantum: int = DEFAULT_QUANTUM,
        stall_threshold: float | None = 0.5,
    ) -> None:
        if quantum < 1:
            raise KrytenError(f"quantum must be at least 1 message, got {quantum}")
        self.policy = policy
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.dead_letters = dead_letters if dead_letters is not None else DeadLetters()
        self.shutdown_timeout = shutdown_timeout
        self.name = name
        self._dispatcher = Dispatcher(self.clock, self.dead_letters, quantum)
        self.stall_monitor: StallMonitor | None = None
        if stall_threshold is not None:
            self.stall_monitor = StallMonitor(threshold=stall_threshold, on_stall=self._stalled)
        self._root_cell: Cell | None = None
        self._stopped = False

    def __repr__(self) -> str:
        return f"<ActorSystem {self.name} {'running' if self.running else 'not running'}>"

    async def __aenter__(self) -> ActorSystem:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._root_cell is not None and not self._stopped

    async def start(self) -> None:
        """Create and start the root supervisor (path ``/<name>``)."""
        if self._root_cell is not None:
            raise KrytenError(f"actor system {self.name!r} was already started; make a new one")
        root = Supervisor(self.policy)
        spec = ChildSpec(
            self.name,
            lambda: root,
            shutdown_timeout=self.shutdown_timeout,
            handler_timeout=None,
        )
        self._root_cell = Cell(
            spec,
            root,
            system=self,
            hooks=self._dispatcher,
            guardian=None,
            parent=None,
            path=f"/{self.name}",
        )
        if self.stall_monitor is not None:
            self.stall_monitor.start()
        await self._root_cell.start()

    async def stop(self) -> None:
        """Stop every actor (children before parents, reverse start order).

        Returns within about ``shutdown_timeout`` seconds even if hooks hang or
        raise; actors still running then are cancelled. Idempotent.
        """
        cell = self._root_cell
        if cell is None or self._stopped:
            return
        self._stopped = True
        try:
            async with asyncio.timeout(self.shutdown_timeout):
                await cell.stop(drain=True)
        except TimeoutError:
            _log.error(
                "actor system %s did not stop within %ss; cancelling what is left",
                self.name,
                self.shutdown_timeout,
            )
        finally:
            try:
                await cell.abort()
            finally:
                await self._dispatcher.close()
                if self.stall_monitor is not None:
                    self.stall_monitor.stop()

    @property
    def root(self) -> Supervisor:
        """The root supervisor (its ref: ``system.root.context.self_ref``)."""
        actor = self._require_root().actor
        assert isinstance(actor, Supervisor)
        return actor

    async def spawn(self, spec: ChildSpec) -> ActorRef:
        """Start a top-level actor (``root.start_child``)."""
        return await self.root.start_child(spec)

    async def stop_child(self, name: str) -> None:
        """Stop a top-level actor (``root.stop_child``)."""
        await self.root.stop_child(name)

    def subscribe(self, observer: Callable[[RuntimeEvent], None]) -> Callable[[], None]:
        """Call ``observer(event)`` for every lifecycle event; returns an unsubscribe function.

        An observer that raises is logged and stays subscribed.
        """
        observers = self._dispatcher.observers
        observers.append(observer)

        def unsubscribe() -> None:
            if observer in observers:
                observers.remove(observer)

        return unsubscribe

    @property
    def hooks(self) -> RuntimeHooks:
        """What cells of this system use: clock, dead letters, events, the dispatcher
        (runtime-internal; supervisors pass it to the cells they create)."""
        return self._dispatcher

    @property
    def dispatch_stats(self) -> tuple[int, int]:
        """``(turns, handoffs)``: drain turns taken, and how often a handler awaited
        so that its actor needed a task of its own. Turns are added up whenever the
        dispatcher lets the event loop run (a handler reading them sees earlier passes)."""
        return self._dispatcher.turns, self._dispatcher.handoffs

    async def idle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 -- the API takes a deadline
        """Wait until every mailbox in the tree is empty and no message is in progress.

        Raises :class:`~kryten_actors.errors.KrytenTimeoutError` after ``timeout``
        seconds (loop time), e.g. when an actor waits in backoff on a virtual clock
        that nobody advances.
        """
        try:
            async with asyncio.timeout(timeout):
                while any(cell.busy for cell in self.cells()):
                    if self._dispatcher.working:
                        await self._dispatcher.quiet()
                    else:
                        # Messages queued without a drain: a start or restart is under way.
                        await asyncio.sleep(0.001)
        except TimeoutError:
            busy = [cell.path for cell in self.cells() if cell.busy]
            raise KrytenTimeoutError(
                f"actors still busy after {timeout}s: {busy[:10]}; a handler may be stuck, "
                "or an actor waits for virtual time (advance the clock)"
            ) from None

    def cells(self) -> Iterator[Cell]:
        """Every cell in the tree, depth first (runtime-internal; used by idle and tests)."""
        if self._root_cell is None:
            return
        stack = [self._root_cell]
        while stack:
            cell = stack.pop()
            yield cell
            actor = cell.actor
            if isinstance(actor, Supervisor):
                stack.extend(reversed(actor.child_cells()))

    # -- runtime-internal -------------------------------------------------------------
    def _stalled(self, path: str, function: str, seconds: float) -> None:
        self._dispatcher.emit("stalled", path or function, None, seconds)

    def _require_root(self) -> Cell:
        if self._root_cell is None:
            raise KrytenError(
                "the actor system is not started; use `async with ActorSystem() as system:`"
            )
        return self._root_cell
