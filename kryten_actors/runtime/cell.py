"""The per-actor runner: mailbox, drains, failures and counters of one actor.

A cell outlives the actor instances its factory makes; refs point at the cell.
An idle cell owns no task. ``offer`` appends to the mailbox and, when no one is
draining the cell, queues it once with the system's dispatcher, which runs its
handlers inline, a quantum at a time. Only when a handler really awaits does the
cell get a drain task of its own (the dispatcher's task, handed over), watched by
a :class:`~kryten_actors.runtime.watchdog.Watchdog` for ``handler_timeout``; the
task drains the mailbox and ends. Lifecycle transitions (start, restart,
passivation, stop) are the functions of ``lifecycle.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import aiojobs

from kryten_actors.errors import KrytenError, MailboxFull
from kryten_actors.runtime import drain, lifecycle
from kryten_actors.runtime.actor import Actor, ActorContext
from kryten_actors.runtime.deadletters import DeadLetterReason
from kryten_actors.runtime.drain import Suspended
from kryten_actors.runtime.mailbox import ACCEPTED, IDLE_QUEUE, Mailbox
from kryten_actors.runtime.policy import ChildSpec
from kryten_actors.runtime.ref import ActorRef, AskEnvelope
from kryten_actors.runtime.scheduler import ActorScheduler
from kryten_actors.runtime.stats import ActorState, ActorStats, ErrorInfo
from kryten_actors.runtime.turn import take_turn
from kryten_actors.runtime.watchdog import Watchdog

if TYPE_CHECKING:
    from kryten_actors.runtime.hooks import Guardian, RuntimeHooks
    from kryten_actors.runtime.system import ActorSystem

__all__ = ["Cell"]

_T = TypeVar("_T")
_log = logging.getLogger("kryten_actors.runtime")
_RUNNING = ActorState.RUNNING
_TERMINAL = (ActorState.STOPPED, ActorState.FAILED)
_LIVE = (ActorState.STARTING, ActorState.RUNNING)


class Cell:
    """Runs one actor for its supervisor (``guardian``; ``None`` for the root)."""

    __slots__ = (
        "_closing",
        "_go",
        "_hooked",
        "_pending_failure",
        "_queued",
        "_scheduler",
        "actor",
        "context",
        "drain_task",
        "failed",
        "guardian",
        "hooks",
        "idle_since",
        "last_error",
        "mailbox",
        "parent",
        "path",
        "processed",
        "ref",
        "restarts",
        "spec",
        "started_at",
        "state",
        "system",
        "watchdog",
    )

    def __init__(
        self,
        spec: ChildSpec,
        actor: Actor,
        *,
        system: ActorSystem,
        hooks: RuntimeHooks,
        guardian: Guardian | None,
        parent: ActorRef | None,
        path: str,
    ) -> None:
        self.spec = spec
        self.system = system
        self.hooks = hooks
        self.guardian = guardian
        self.parent = parent
        self.path = path
        self.mailbox = Mailbox(
            spec.mailbox_capacity, spec.overflow, owner=path, max_bytes=spec.mailbox_max_bytes
        )
        self.ref = ActorRef(self)
        self.context = ActorContext(self)
        self.actor = actor
        actor.context = self.context
        self.state = ActorState.STARTING
        self.processed = 0
        self.failed = 0
        self.restarts = 0
        self.last_error: ErrorInfo | None = None
        self.started_at = 0.0
        #: Clock time the cell last ran out of messages (for passivation).
        self.idle_since = 0.0
        self._closing = False
        self._go = False
        self._hooked = False
        self._queued = False
        #: The cell's own drain task, while a handler of it awaits.
        self.drain_task: asyncio.Task[None] | None = None
        self.watchdog: Watchdog | None = None
        self._scheduler: ActorScheduler | None = None
        self._pending_failure: BaseException | None = None

    def __repr__(self) -> str:
        return f"<Cell {self.path} {self.state}>"

    @property
    def accepting(self) -> bool:
        """True while messages are accepted into the mailbox."""
        return not self._closing and self.state not in _TERMINAL

    @property
    def busy(self) -> bool:
        """True while a message is queued or being processed."""
        return bool(self.mailbox) or self.drain_task is not None

    @property
    def queued(self) -> bool:
        """True while the cell waits in the dispatcher's ready queue."""
        return self._queued

    @property
    def live(self) -> bool:
        """True while messages are processed (running, not stopping)."""
        return self._go

    # -- messages -------------------------------------------------------------
    def offer(self, item: Any, *, strict: bool) -> bool:
        """Enqueue ``item`` (a message or an :class:`AskEnvelope`) per the overflow policy.

        ``strict`` re-raises ``MailboxFull`` to the sender (tell/put/ask); timers
        pass ``False`` and their overflow only becomes a dead letter. Returns True
        when the mailbox is now more than half full (a sender pushing a burst yields).
        """
        mailbox = self.mailbox
        queue = mailbox._queue
        if self._closing:  # set by every stop, so also in STOPPED and FAILED
            self.undeliverable(item, DeadLetterReason.ACTOR_STOPPED, None)
            return False
        if queue is not IDLE_QUEUE and mailbox.max_bytes is None and len(queue) < mailbox.capacity:
            # the common case, inline (Mailbox.put's accepting path without the call)
            queue.append(item)
            if len(queue) > mailbox.high_water:  # noqa: PLR1730 -- max() is slower here
                mailbox.high_water = len(queue)
        else:
            try:
                dropped = mailbox.put(item)
            except MailboxFull as error:
                self.undeliverable(item, DeadLetterReason.MAILBOX_FULL, error, answer=not strict)
                if strict:
                    raise
                return False
            if dropped is not ACCEPTED:
                self.undeliverable(dropped, DeadLetterReason.MAILBOX_FULL, None)
            queue = mailbox._queue
        if not self._queued and self._go and self.drain_task is None:
            self._queued = True
            self.hooks.ready(self)
        return len(queue) * 2 > mailbox.capacity

    def deliver_timer(self, message: Any) -> None:
        """Timer callback target: enqueue without ever raising."""
        self.offer(message, strict=False)

    def wake(self) -> None:
        """Queue the cell for a drain turn if it has messages (after start or resume)."""
        if self.mailbox and not self._queued and self._go and self.drain_task is None:
            self._queued = True
            self.hooks.ready(self)

    def undeliverable(
        self, item: Any, reason: str, error: BaseException | None, *, answer: bool = True
    ) -> None:
        message = item
        if type(item) is AskEnvelope:
            message = item.message
            if answer and not item.future.done():
                item.future.set_exception(
                    error
                    or KrytenError(
                        f"{self.path} could not process this ask ({reason}); "
                        "check that the actor is running and its mailbox is large enough"
                    )
                )
        self.hooks.dead_letters.record(message, recipient=self.path, reason=reason, error=error)

    # -- draining ---------------------------------------------------------------
    def drain_turn(self, quantum: int) -> Suspended | int:
        """The dispatcher's turn (see :func:`~kryten_actors.runtime.turn.take_turn`)."""
        return take_turn(self, quantum)

    def went_idle(self) -> None:
        """The cell ran out of messages: give back the queue, note the time."""
        self.mailbox.release()
        self.idle_since = self.hooks.clock.now()

    async def finish_in_task(self, suspended: Suspended) -> None:
        """Finish a handler that awaited, in the current task, then drain the rest."""
        await drain.finish_in_task(self, suspended)

    def start_drain_task(self) -> asyncio.Task[None] | None:
        """Give the cell its own drain task now (a stop draining the mailbox)."""
        if self.drain_task is None and self.mailbox:
            self.drain_task = asyncio.get_running_loop().create_task(drain.own_drain(self))
        return self.drain_task

    def message_failed(self, item: Any, error: BaseException) -> bool:
        message = item
        if type(item) is AskEnvelope:
            message = item.message
            if not item.future.done():
                item.future.set_exception(error)
        # fail() logs the traceback; the dead letter then keeps the error without it
        carry_on = self.fail(error)
        self.hooks.dead_letters.record(
            message, recipient=self.path, reason=DeadLetterReason.HANDLER_FAILED, error=error
        )
        return carry_on

    # -- failures -------------------------------------------------------------
    def fail(self, error: BaseException) -> bool:
        """Record a failure and report it to the supervisor.

        Returns True if the actor carries on (``resume``, or the root, which has
        no one to report to), False if it is suspended awaiting its supervisor.
        """
        self.failed += 1
        self.last_error = ErrorInfo.from_exception(error)
        _log.warning("actor %s failed: %r", self.path, error, exc_info=error)
        if self.state not in _LIVE or self._closing:
            return False
        guardian = self.guardian
        if guardian is None or guardian.child_failed(self, error):
            return True
        self._go = False
        self.state = ActorState.RESTARTING
        return False

    def report_failure(self, error: BaseException) -> None:
        """A failure from outside ``receive`` (a job, an escalation).

        If a message is being processed it completes first; the failure is then
        handled before the next message.
        """
        if self.drain_task is not None or self._queued:
            if self._pending_failure is None:
                self._pending_failure = error
            return
        self.fail(error)

    def request_stop(self) -> None:
        """``context.stop()``: end after the current message; the supervisor decides."""
        if self._closing or self.state in _TERMINAL:
            return
        self._go = False
        if self.guardian is None:
            raise KrytenError(
                "the root supervisor stops with ActorSystem.stop(), not context.stop()"
            )
        self.guardian.child_exited(self)

    def take_pending_failure(self) -> bool:
        """Handle a failure reported during a message; False if the actor is suspended."""
        error, self._pending_failure = self._pending_failure, None
        return error is None or self.fail(error)

    # -- lifecycle (see lifecycle.py) ---------------------------------------------
    async def start(self, state: Any = lifecycle.NO_STATE) -> None:
        """Run ``on_start`` (or ``on_activate(state)``), then start processing."""
        await lifecycle.boot(self, None, state)

    async def restart(self, error: BaseException) -> None:
        """Replace the instance with a fresh one from the factory; the mailbox stays."""
        await lifecycle.restart(self, error)

    async def halt(self) -> None:
        """Stop the current instance for a restart, keeping the mailbox."""
        await lifecycle.halt(self)

    async def stop(self, *, drain: bool = True, final: ActorState = ActorState.STOPPED) -> None:
        """Stop for good: with ``drain``, process what is queued (within
        ``shutdown_timeout``), then cancel; leftovers become dead letters."""
        await lifecycle.stop(self, drain=drain, final=final)

    async def abort(self) -> None:
        """End everything this cell and its subtree still own, at once."""
        await lifecycle.abort(self)

    # -- timers, jobs, stats ------------------------------------------------------
    def scheduler(self) -> ActorScheduler:
        """This actor's timers and jobs, created on first use."""
        if self._scheduler is None:
            self._scheduler = ActorScheduler(
                self.hooks.clock, self.deliver_timer, self.report_failure
            )
        return self._scheduler

    def spawn_job(self, coro: Coroutine[Any, Any, _T]) -> aiojobs.Job[_T]:
        """Start a job owned by the current instance (see ``ActorContext.spawn_job``)."""
        if not self.accepting:
            coro.close()
            raise KrytenError(f"{self.path} is stopped; it cannot start jobs")
        return self.scheduler().spawn_job(coro)

    def stats(self) -> ActorStats:
        """A snapshot of the counters."""
        mailbox = self.mailbox
        live = self.state is _RUNNING
        return ActorStats(
            name=self.spec.name,
            path=self.path,
            state=self.state,
            mailbox_depth=len(mailbox),
            mailbox_high_water=mailbox.high_water,
            processed=self.processed,
            failed=self.failed,
            restarts=self.restarts,
            dropped=mailbox.dropped,
            last_error=self.last_error,
            uptime=self.hooks.clock.now() - self.started_at if live else 0.0,
        )
