"""Starting, restarting and stopping one actor: the lifecycle half of a cell.

Split from ``cell.py`` (which owns the mailbox, the drain loop and failure
reporting) so each stays small. :class:`CellLifecycle` declares every slot of a
cell; :class:`~kryten_actors.runtime.cell.Cell` initialises them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from kryten_actors.errors import HandlerError
from kryten_actors.runtime.actor import Actor, ActorContext
from kryten_actors.runtime.clock import Cancellable
from kryten_actors.runtime.deadletters import DeadLetterReason
from kryten_actors.runtime.mailbox import Mailbox
from kryten_actors.runtime.policy import ChildSpec
from kryten_actors.runtime.scheduler import ActorScheduler
from kryten_actors.runtime.stats import ActorState, ErrorInfo

if TYPE_CHECKING:
    from kryten_actors.runtime.ref import ActorRef
    from kryten_actors.runtime.supervisor import Supervisor
    from kryten_actors.runtime.system import ActorSystem

__all__ = ["CellLifecycle"]

_log = logging.getLogger("kryten_actors.runtime")
_TERMINAL = (ActorState.STOPPED, ActorState.FAILED)


class CellLifecycle:
    """Lifecycle transitions of a cell (``starting`` → ``running`` → ... → ``stopped``)."""

    __slots__ = (
        "_closing",
        "_drain",
        "_go",
        "_hooked",
        "_in_handler",
        "_msg_started",
        "_pending_failure",
        "_scheduler",
        "_timed_out",
        "_watchdog",
        "actor",
        "context",
        "failed",
        "guardian",
        "last_error",
        "mailbox",
        "parent",
        "path",
        "processed",
        "ref",
        "restart_times",
        "restarts",
        "spec",
        "started_at",
        "state",
        "streak",
        "system",
    )

    spec: ChildSpec
    system: ActorSystem
    guardian: Supervisor | None
    path: str
    mailbox: Mailbox
    actor: Actor
    state: ActorState
    failed: int
    restarts: int
    last_error: ErrorInfo | None
    started_at: float
    _closing: bool
    _go: bool
    _hooked: bool
    _drain: asyncio.Task[None] | None
    _scheduler: ActorScheduler | None
    _pending_failure: BaseException | None
    _watchdog: Cancellable | None
    _in_handler: bool
    _timed_out: bool
    _msg_started: float
    context: ActorContext
    parent: ActorRef | None
    processed: int
    ref: ActorRef
    restart_times: deque[float] | None
    streak: int

    def fail(self, error: BaseException) -> bool:
        """Record and report a failure (implemented by ``Cell``)."""
        raise NotImplementedError

    def _start_drain(self) -> None:
        raise NotImplementedError

    def _undeliverable(
        self, item: Any, reason: str, error: BaseException | None, *, answer: bool = True
    ) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        """Run ``on_start`` of the current instance, then start processing."""
        await self._boot(None)

    async def restart(self, error: BaseException) -> None:
        """Replace the instance with a fresh one from the factory; the mailbox stays."""
        if self.state in _TERMINAL or self._closing:
            return
        self.state = ActorState.STARTING
        try:
            actor = self.spec.factory()
        except Exception as factory_error:  # noqa: BLE001 -- a failing factory is an actor failure
            if self.fail(factory_error):
                self._running("restarted")
            return
        actor.context = self.context
        self.actor = actor
        self.restarts += 1
        await self._boot(error)

    async def _boot(self, error: BaseException | None) -> None:
        self.state = ActorState.STARTING
        self.started_at = self.system.clock.now()
        try:
            async with asyncio.timeout(self.spec.handler_timeout) as deadline:
                if error is None:
                    await self.actor.on_start()
                else:
                    await self.actor.on_restart(error)
        except Exception as hook_error:  # noqa: BLE001 -- a failing hook is an actor failure
            if isinstance(hook_error, TimeoutError) and deadline.expired():
                hook = "on_start" if error is None else "on_restart"
                hook_error = self._timeout_error(self.spec.handler_timeout, hook)
            if not self.fail(hook_error):
                return
        self._running("started" if error is None else "restarted")

    def _running(self, kind: str) -> None:
        if self._closing or self.state in _TERMINAL:
            return
        self.state = ActorState.RUNNING
        self._go = True
        self._hooked = True
        self.system._emit(kind, self.path, None)
        if self.mailbox and self._drain is None:
            self._start_drain()

    async def halt(self) -> None:
        """Stop the current instance for a restart, keeping the mailbox."""
        self._go = False
        if self.state in _TERMINAL:
            return
        self.state = ActorState.RESTARTING
        self._pending_failure = None
        await self._settle(self.spec.shutdown_timeout)
        await self._run_stop_hooks()

    async def stop(self, *, drain: bool = True, final: ActorState = ActorState.STOPPED) -> None:
        """Stop for good: with ``drain``, process what is queued (within
        ``shutdown_timeout``), then cancel; leftovers become dead letters."""
        if self._closing or self.state in _TERMINAL:
            return
        self._closing = True
        try:
            if not drain:
                self._go = False
            elif self._go and self.mailbox and self._drain is None:
                self._start_drain()
            await self._settle(self.spec.shutdown_timeout)
            await self._run_stop_hooks()
        finally:
            self._finish(final)

    async def abort(self) -> None:
        """End everything this cell and its subtree still own, at once."""
        self._closing = True
        self._go = False
        try:
            await self.actor._abort_subtree()
        finally:
            await self._settle(0.0)
            self._finish(ActorState.STOPPED)

    async def _settle(self, grace: float) -> None:
        """Cancel timers; give the drain ``grace`` seconds to finish; close jobs."""
        if self._scheduler is not None:
            self._scheduler.cancel_timers()
        task = self._drain
        if task is not None and task is not asyncio.current_task():
            if grace > 0:
                await asyncio.wait((task,), timeout=grace)
            if not task.done():
                self._go = False
                task.cancel()
                await asyncio.wait((task,), timeout=1.0)
        if self._scheduler is not None:
            await self._scheduler.close_jobs()

    async def _run_stop_hooks(self) -> None:
        if not self._hooked:
            return
        self._hooked = False
        try:
            await self.actor._before_stop()
        finally:
            try:
                async with asyncio.timeout(self.spec.shutdown_timeout):
                    await self.actor.on_stop()
            except Exception as error:  # noqa: BLE001 -- on_stop errors are logged; shutdown goes on
                self.failed += 1
                self.last_error = ErrorInfo.from_exception(error)
                _log.error("on_stop of %s failed: %r", self.path, error, exc_info=error)

    def _finish(self, final: ActorState) -> None:
        self._closing = True
        self._go = False
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._scheduler is not None:
            self._scheduler.cancel_timers()
        if self._drain is not None and self._drain is not asyncio.current_task():
            self._drain.cancel()
        for item in self.mailbox.take_all():
            self._undeliverable(item, DeadLetterReason.ACTOR_STOPPED, None)
        if self.state not in _TERMINAL:
            self.state = final
            self.system._emit("stopped", self.path, None)

    def _timeout_error(self, timeout: float | None, work: str = "one message") -> HandlerError:
        error = HandlerError(
            f"{self.path} spent more than handler_timeout={timeout}s on {work}; make "
            "the handler faster, move slow work to context.spawn_job(), or raise "
            "handler_timeout in its ChildSpec",
            handler=self.path,
        )
        error.__cause__ = TimeoutError()
        return error
