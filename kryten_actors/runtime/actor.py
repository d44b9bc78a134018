"""The actor base class and the context the runtime gives every actor.

Subclass :class:`Actor`, implement :meth:`Actor.receive`, and start it with
``await system.spawn(ChildSpec("name", MyActor))``. The runtime guarantees that
``receive`` and the hooks of one actor never run concurrently with each other,
and that messages are processed one at a time, in arrival order.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import aiojobs

from kryten_actors.runtime.clock import Cancellable, Clock
from kryten_actors.runtime.deadletters import DeadLetters

if TYPE_CHECKING:
    from kryten_actors.runtime.cell import Cell
    from kryten_actors.runtime.ref import ActorRef
    from kryten_actors.runtime.system import ActorSystem

__all__ = ["Actor", "ActorContext"]

_T = TypeVar("_T")
_actor_log = logging.getLogger("kryten_actors.actor")


class Actor:
    """Base class of every actor.

    ``context`` is set by the runtime before :meth:`on_start` (or
    :meth:`on_restart`) runs; it is the same object for every instance the
    actor's factory makes, so it survives restarts, while instance attributes
    (the actor's state) do not.
    """

    context: ActorContext

    def receive(self, message: Any) -> Coroutine[Any, Any, Any] | None:
        """Handle one message; the return value answers an ``ask``.

        Implement it as ``async def receive(self, message)``. If it raises (or
        overruns the child's ``handler_timeout``), the message goes to dead letters
        with reason ``handler_failed``, an ``ask`` for it raises the same exception,
        and the supervisor decides what happens to the actor. (A plain method may
        instead return the coroutine that does the work, or None when it handled the
        message synchronously — the reply to an ``ask`` is then None.)
        """
        raise NotImplementedError(
            f"{type(self).__name__} got {type(message).__name__} but does not override "
            "receive(); implement `async def receive(self, message)`"
        )

    async def on_start(self) -> None:
        """Runs once before the first message of this instance.

        Raising (or overrunning ``handler_timeout``) is a failure of the actor,
        handled by its supervisor exactly like a failing ``receive``.
        """

    async def on_stop(self) -> None:
        """Runs when the actor stops, and on the old instance before a restart.

        Only runs if ``on_start``/``on_restart`` of this instance completed. It is
        bounded by the child's ``shutdown_timeout``; if it raises or overruns, the
        error is logged and recorded in the actor's stats and shutdown continues.
        """

    async def on_restart(self, error: BaseException) -> None:
        """Runs on the *new* instance after a restart, instead of :meth:`on_start`.

        ``error`` is the failure that caused the restart. The default calls
        :meth:`on_start`. Raising counts as another failure of the actor.
        """
        await self.on_start()

    async def on_passivate(self) -> Any:
        """Runs when an idle actor is passivated, instead of :meth:`on_stop`.

        Return what the next instance needs to carry on (the runtime keeps it and
        hands it to :meth:`on_activate`); the default keeps nothing. Bounded by
        ``shutdown_timeout``; if it raises, the error is logged and recorded, and the
        actor is passivated with ``None`` as its state.
        """
        return None

    async def on_activate(self, state: Any) -> None:
        """Runs on the new instance when a passivated actor gets a message again,
        instead of :meth:`on_start`; ``state`` is what :meth:`on_passivate` returned.

        The default calls :meth:`on_start`. Raising counts as a failure of the actor.
        """
        del state
        await self.on_start()

    # Runtime hooks for supervisors; plain actors have no subtree.
    async def _before_stop(self) -> None:
        """Stop owned children before ``on_stop`` (supervisors override)."""

    async def _abort_subtree(self) -> None:
        """Forcefully end owned children at a shutdown deadline (supervisors override)."""


class ActorContext:
    """What an actor knows about itself and the runtime around it.

    The logger is created on first use (idle actors hold none) and carries the
    actor's path as ``extra["actor"]``.
    """

    __slots__ = ("_cell", "_logger", "path")

    def __init__(self, cell: Cell) -> None:
        self._cell = cell
        self._logger: logging.LoggerAdapter[logging.Logger] | None = None
        #: ``/root/...``: the parent's path plus ``/`` plus the name (an attribute: the
        #: channel actors' hot path reads it per event).
        self.path: str = cell.path

    def __repr__(self) -> str:
        return f"<ActorContext {self._cell.path}>"

    @property
    def name(self) -> str:
        """The actor's name, unique among its siblings."""
        return self._cell.spec.name

    @property
    def parent(self) -> ActorRef | None:
        """The supervising actor, or ``None`` for the root supervisor."""
        return self._cell.parent

    @property
    def self_ref(self) -> ActorRef:
        """This actor's own reference (valid across restarts)."""
        return self._cell.ref

    @property
    def system(self) -> ActorSystem:
        """The actor system this actor lives in."""
        return self._cell.system

    @property
    def dead_letters(self) -> DeadLetters:
        """The system's dead letter sink."""
        return self._cell.hooks.dead_letters

    @property
    def clock(self) -> Clock:
        """The system clock (virtual in tests)."""
        return self._cell.hooks.clock

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger adapter carrying this actor's path."""
        if self._logger is None:
            self._logger = logging.LoggerAdapter(_actor_log, {"actor": self._cell.path})
        return self._logger

    def schedule_once(self, delay: float, message: Any) -> Cancellable:
        """Deliver ``message`` to this actor's own mailbox after ``delay`` seconds.

        Cancelled automatically when the actor stops or restarts.
        """
        return self._cell.scheduler().schedule_once(delay, message)

    def schedule_every(self, interval: float, message: Any) -> Cancellable:
        """Deliver ``message`` to this actor every ``interval`` seconds.

        Cancelled automatically when the actor stops or restarts.
        """
        return self._cell.scheduler().schedule_every(interval, message)

    def spawn_job(self, coro: Coroutine[Any, Any, _T]) -> aiojobs.Job[_T]:
        """Run ``coro`` in the background, owned by this actor; returns the job.

        Synchronous: the job has started when this returns. It is cancelled when the
        actor stops or restarts; if it raises, that is a failure of this actor,
        reported to its supervisor (after the message in progress, if any).
        """
        return self._cell.spawn_job(coro)

    def report_failure(self, error: BaseException) -> None:
        """Report ``error`` as a failure of this actor to its supervisor.

        For failures outside ``receive`` (a supervisor escalating, a callback): if a
        message is being processed it completes first; the supervisor then decides.
        """
        self._cell.report_failure(error)

    def stop(self) -> None:
        """Ask the runtime to stop this actor after the current message.

        Remaining messages go to dead letters (``actor_stopped``). A ``permanent``
        child is restarted by its supervisor, as Erlang does after a normal exit;
        ``transient`` and ``temporary`` children stay stopped.
        """
        self._cell.request_stop()
