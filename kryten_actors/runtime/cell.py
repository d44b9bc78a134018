"""The per-actor runner: mailbox, drain loop, failures and counters of one actor.

A cell outlives the actor instances its factory makes; refs point at the cell.
An idle cell owns no task: ``offer`` appends to the mailbox and, only when no
drain is running, starts one task that processes messages until the mailbox is
empty and then ends. ``handler_timeout`` is enforced by one clock callback per
drain run (a watchdog), not by a timeout object per message. Lifecycle
transitions (start, restart, stop) live in ``lifecycle.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import aiojobs

from kryten_actors.errors import KrytenError, MailboxFull
from kryten_actors.runtime.actor import Actor, ActorContext
from kryten_actors.runtime.clock import Cancellable
from kryten_actors.runtime.deadletters import DeadLetterReason
from kryten_actors.runtime.lifecycle import CellLifecycle
from kryten_actors.runtime.mailbox import ACCEPTED, Mailbox
from kryten_actors.runtime.policy import ChildSpec
from kryten_actors.runtime.ref import ActorRef, AskEnvelope
from kryten_actors.runtime.scheduler import ActorScheduler
from kryten_actors.runtime.stats import ActorState, ActorStats, ErrorInfo

if TYPE_CHECKING:
    from kryten_actors.runtime.supervisor import Supervisor
    from kryten_actors.runtime.system import ActorSystem

__all__ = ["Cell"]

_T = TypeVar("_T")
_log = logging.getLogger("kryten_actors.runtime")
_FAIRNESS_BATCH = 64  # messages processed before yielding to other tasks
_RUNNING = ActorState.RUNNING
_TERMINAL = (ActorState.STOPPED, ActorState.FAILED)
_LIVE = (ActorState.STARTING, ActorState.RUNNING)


class Cell(CellLifecycle):
    """Runs one actor for its supervisor (``guardian``; ``None`` for the root)."""

    __slots__ = ()

    def __init__(
        self,
        spec: ChildSpec,
        actor: Actor,
        *,
        system: ActorSystem,
        guardian: Supervisor | None,
        parent: ActorRef | None,
        path: str,
    ) -> None:
        self.spec = spec
        self.system = system
        self.guardian = guardian
        self.parent = parent
        self.path = path
        self.mailbox = Mailbox(spec.mailbox_capacity, spec.overflow, owner=path)
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
        # Owned by the supervisor: consecutive restarts and recent restart times.
        self.streak = 0
        self.restart_times: deque[float] | None = None
        self._closing = False
        self._go = False
        self._hooked = False
        self._drain: asyncio.Task[None] | None = None
        self._scheduler: ActorScheduler | None = None
        self._pending_failure: BaseException | None = None
        self._watchdog: Cancellable | None = None
        self._in_handler = False
        self._timed_out = False
        self._msg_started = 0.0

    def __repr__(self) -> str:
        return f"<Cell {self.path} {self.state}>"

    @property
    def accepting(self) -> bool:
        """True while messages are accepted into the mailbox."""
        return not self._closing and self.state not in _TERMINAL

    @property
    def busy(self) -> bool:
        """True while a message is queued or being processed."""
        return bool(self.mailbox) or self._drain is not None

    # -- messages -------------------------------------------------------------
    def offer(self, item: Any, *, strict: bool) -> None:
        """Enqueue ``item`` (a message or an :class:`AskEnvelope`) per the overflow policy.

        ``strict`` re-raises ``MailboxFull`` to the sender (tell/put/ask); timers
        pass ``False`` and their overflow only becomes a dead letter.
        """
        if self._closing or self.state in _TERMINAL:
            self._undeliverable(item, DeadLetterReason.ACTOR_STOPPED, None)
            return
        try:
            dropped = self.mailbox.put(item)
        except MailboxFull as error:
            self._undeliverable(item, DeadLetterReason.MAILBOX_FULL, error, answer=not strict)
            if strict:
                raise
            return
        if dropped is not ACCEPTED:
            self._undeliverable(dropped, DeadLetterReason.MAILBOX_FULL, None)
        if self._drain is None and self._go:
            self._start_drain()

    def deliver_timer(self, message: Any) -> None:
        """Timer callback target: enqueue without ever raising."""
        self.offer(message, strict=False)

    def _undeliverable(
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
        self.system.dead_letters.record(message, recipient=self.path, reason=reason, error=error)

    def _start_drain(self) -> None:
        self._drain = asyncio.get_running_loop().create_task(self._run())
        self.system._drain_started()

    async def _run(self) -> None:  # noqa: PLR0912, PLR0915 -- hot loop kept inline: no call per message
        mailbox = self.mailbox
        timeout = self.spec.handler_timeout
        clock = self.system.clock
        if timeout is not None and self._watchdog is None:
            # One watchdog per busy actor, re-armed by itself while drains keep coming,
            # rather than a timer per drain run (a drain often lasts one message).
            self._watchdog = clock.call_later(timeout, self._check_watchdog)
        batch = 0
        try:
            while self._go and mailbox:
                if self._pending_failure is not None and not self._take_pending_failure():
                    return
                item = mailbox.get()
                if timeout is not None:
                    self._msg_started = clock.now()
                self._in_handler = True
                try:
                    if type(item) is AskEnvelope:
                        result = await self.actor.receive(item.message)
                        if not item.future.done():
                            item.future.set_result(result)
                    else:
                        await self.actor.receive(item)
                except asyncio.CancelledError:
                    if not self._timed_out:
                        # cut off by a stop or restart deadline: never lose it silently
                        self._undeliverable(item, DeadLetterReason.ACTOR_STOPPED, None)
                        raise
                    self._timed_out = False
                    task = asyncio.current_task()
                    if task is not None:
                        task.uncancel()
                    if not self._message_failed(item, self._timeout_error(timeout)):
                        return
                    continue
                except Exception as error:  # noqa: BLE001 -- any handler error is a failure for the supervisor
                    if not self._message_failed(item, error):
                        return
                    continue
                finally:
                    self._in_handler = False
                self.processed += 1
                batch += 1
                if batch == _FAIRNESS_BATCH:
                    batch = 0
                    await asyncio.sleep(0)
            if self._pending_failure is not None:
                self._take_pending_failure()
        finally:
            self._drain = None
            mailbox.release()
            if not self._go and self._watchdog is not None:
                self._watchdog.cancel()
                self._watchdog = None
            self.system._drain_finished()

    def _check_watchdog(self) -> None:
        self._watchdog = None
        timeout = self.spec.handler_timeout
        task = self._drain
        if task is None or timeout is None or not self._go:
            return  # idle again: the next drain arms a new watchdog
        if self._in_handler:
            overrun = self.system.clock.now() - self._msg_started
            if overrun >= timeout:
                self._timed_out = True
                task.cancel()
                return
            timeout -= overrun
        self._watchdog = self.system.clock.call_later(timeout, self._check_watchdog)

    def _message_failed(self, item: Any, error: BaseException) -> bool:
        message = item
        if type(item) is AskEnvelope:
            message = item.message
            if not item.future.done():
                item.future.set_exception(error)
        self.system.dead_letters.record(
            message, recipient=self.path, reason=DeadLetterReason.HANDLER_FAILED, error=error
        )
        return self.fail(error)

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
        if guardian is None or guardian._child_failed(self, error):
            return True
        self._go = False
        self.state = ActorState.RESTARTING
        return False

    def report_failure(self, error: BaseException) -> None:
        """A failure from outside ``receive`` (a job, an escalation).

        If a message is being processed it completes first; the failure is then
        handled before the next message.
        """
        if self._drain is not None:
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
        self.guardian._child_exited(self)

    def _take_pending_failure(self) -> bool:
        error, self._pending_failure = self._pending_failure, None
        return error is None or self.fail(error)

    # -- lifecycle --------------------------------------------------------------
    # -- timers, jobs, stats ------------------------------------------------------
    def scheduler(self) -> ActorScheduler:
        """This actor's timers and jobs, created on first use."""
        if self._scheduler is None:
            self._scheduler = ActorScheduler(
                self.system.clock, self.deliver_timer, self.report_failure
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
            uptime=self.system.clock.now() - self.started_at if live else 0.0,
        )
