"""Starting, restarting, passivating and stopping one actor's cell.

Functions over a :class:`~kryten_actors.runtime.cell.Cell` (which owns the
mailbox, the drains and failure reporting): ``starting`` → ``running`` → ... →
``stopped``. Hooks run under their deadlines: ``on_start``/``on_restart``/
``on_activate`` under ``handler_timeout``, ``on_stop``/``on_passivate`` under
``shutdown_timeout`` (loop time).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final

from kryten_actors.errors import HandlerError
from kryten_actors.runtime.deadletters import DeadLetterReason
from kryten_actors.runtime.stats import ActorState, ErrorInfo

if TYPE_CHECKING:
    from kryten_actors.runtime.cell import Cell

__all__ = [
    "NO_STATE",
    "abort",
    "boot",
    "halt",
    "passivate",
    "restart",
    "stop",
    "timeout_error",
]

_log = logging.getLogger("kryten_actors.runtime")
_TERMINAL = (ActorState.STOPPED, ActorState.FAILED)


class _NoState:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_STATE"


NO_STATE: Final[Any] = _NoState()
"""A start that is not a re-activation (``on_start`` runs, not ``on_activate``)."""


async def boot(cell: Cell, error: BaseException | None, state: Any = NO_STATE) -> None:
    """Run the first hook of the current instance, then start processing."""
    cell.state = ActorState.STARTING
    cell.started_at = cell.hooks.clock.now()
    actor = cell.actor
    timeout = cell.spec.handler_timeout
    try:
        async with asyncio.timeout(timeout) as deadline:
            if error is not None:
                await actor.on_restart(error)
            elif state is not NO_STATE:
                await actor.on_activate(state)
            else:
                await actor.on_start()
    except Exception as hook_error:  # noqa: BLE001 -- a failing hook is an actor failure
        if isinstance(hook_error, TimeoutError) and deadline.expired():
            hook = "on_start" if error is None else "on_restart"
            hook = hook if state is NO_STATE else "on_activate"
            hook_error = timeout_error(cell, hook)
        if not cell.fail(hook_error):
            return
    running(cell, "started" if error is None else "restarted")


def running(cell: Cell, kind: str) -> None:
    """The instance is ready: process messages (queued ones first)."""
    if cell._closing or cell.state in _TERMINAL:
        return
    cell.state = ActorState.RUNNING
    cell._go = True
    cell._hooked = True
    cell.idle_since = cell.hooks.clock.now()
    cell.hooks.emit(kind, cell.path, None)
    cell.wake()


async def restart(cell: Cell, error: BaseException) -> None:
    """Replace the instance with a fresh one from the factory; the mailbox stays."""
    if cell.state in _TERMINAL or cell._closing:
        return
    cell.state = ActorState.STARTING
    try:
        actor = cell.spec.factory()
    except Exception as factory_error:  # noqa: BLE001 -- a failing factory is an actor failure
        if cell.fail(factory_error):
            running(cell, "restarted")
        return
    actor.context = cell.context
    cell.actor = actor
    cell.restarts += 1
    await boot(cell, error)


async def halt(cell: Cell) -> None:
    """Stop the current instance for a restart, keeping the mailbox."""
    cell._go = False
    if cell.state in _TERMINAL:
        return
    cell.state = ActorState.RESTARTING
    cell._pending_failure = None
    await _settle(cell, cell.spec.shutdown_timeout)
    await _run_stop_hooks(cell)


async def stop(cell: Cell, *, drain: bool = True, final: ActorState = ActorState.STOPPED) -> None:
    """Stop for good: with ``drain``, process what is queued (within
    ``shutdown_timeout``), then cancel; leftovers become dead letters."""
    if cell._closing or cell.state in _TERMINAL:
        return
    cell._closing = True
    try:
        if not drain:
            cell._go = False
        elif cell._go:
            cell.start_drain_task()
        await _settle(cell, cell.spec.shutdown_timeout)
        await _run_stop_hooks(cell)
    finally:
        _finish(cell, final)


async def passivate(cell: Cell) -> tuple[bool, Any]:
    """Passivate an idle cell: run ``on_passivate`` (instead of ``on_stop``) and stop it.

    Returns ``(True, state)`` when the cell stopped with the state ``on_passivate``
    returned. Returns ``(False, None)`` when it could not (it is busy, not running,
    or messages arrived while ``on_passivate`` ran: it is then restarted in place
    with ``on_activate(state)`` and keeps serving).
    """
    scheduler = cell._scheduler
    if cell._closing or cell.state is not ActorState.RUNNING or cell.busy:
        return False, None
    if scheduler is not None and not scheduler.idle:
        return False, None  # pending timers and running jobs keep an actor active
    cell._go = False
    cell._hooked = False
    state: Any = None
    try:
        async with asyncio.timeout(cell.spec.shutdown_timeout):
            state = await cell.actor.on_passivate()
    except Exception as error:  # noqa: BLE001 -- logged and recorded; the actor still passivates
        cell.failed += 1
        cell.last_error = ErrorInfo.from_exception(error)
        _log.error("on_passivate of %s failed: %r", cell.path, error, exc_info=error)
    if cell._closing or cell.state in _TERMINAL:
        return False, None
    if cell.mailbox:
        # events arrived meanwhile: a fresh instance takes over with the state
        cell.state = ActorState.STARTING
        actor = cell.spec.factory()
        actor.context = cell.context
        cell.actor = actor
        await boot(cell, None, state)
        return False, None
    cell._closing = True
    if cell._scheduler is not None:
        cell._scheduler.cancel_timers()
        await cell._scheduler.close_jobs()
    _finish(cell, ActorState.STOPPED, emit="passivated")
    return True, state


async def abort(cell: Cell) -> None:
    """End everything this cell and its subtree still own, at once."""
    cell._closing = True
    cell._go = False
    try:
        await cell.actor._abort_subtree()
    finally:
        await _settle(cell, 0.0)
        _finish(cell, ActorState.STOPPED)


async def _settle(cell: Cell, grace: float) -> None:
    """Cancel timers; give the drain ``grace`` seconds to finish; close jobs."""
    if cell._scheduler is not None:
        cell._scheduler.cancel_timers()
    task = cell.drain_task
    if task is not None and task is not asyncio.current_task():
        if grace > 0:
            await asyncio.wait((task,), timeout=grace)
        if not task.done():
            cell._go = False
            task.cancel()
            await asyncio.wait((task,), timeout=1.0)
    if cell._scheduler is not None:
        await cell._scheduler.close_jobs()


async def _run_stop_hooks(cell: Cell) -> None:
    if not cell._hooked:
        return
    cell._hooked = False
    try:
        await cell.actor._before_stop()
    finally:
        try:
            async with asyncio.timeout(cell.spec.shutdown_timeout):
                await cell.actor.on_stop()
        except Exception as error:  # noqa: BLE001 -- on_stop errors are logged; shutdown goes on
            cell.failed += 1
            cell.last_error = ErrorInfo.from_exception(error)
            _log.error("on_stop of %s failed: %r", cell.path, error, exc_info=error)


def _finish(cell: Cell, final: ActorState, emit: str = "stopped") -> None:
    cell._closing = True
    cell._go = False
    if cell.watchdog is not None:
        cell.watchdog.cancel()
        cell.watchdog = None
    if cell._scheduler is not None:
        cell._scheduler.cancel_timers()
    task = cell.drain_task
    if task is not None and task is not asyncio.current_task():
        task.cancel()
    for item in cell.mailbox.take_all():
        cell.undeliverable(item, DeadLetterReason.ACTOR_STOPPED, None)
    if cell.state not in _TERMINAL:
        cell.state = final
        cell.hooks.emit(emit, cell.path, None)


def timeout_error(cell: Cell, work: str = "one message") -> HandlerError:
    """The failure of a handler (or hook) that overran ``handler_timeout``."""
    timeout = cell.spec.handler_timeout
    error = HandlerError(
        f"{cell.path} spent more than handler_timeout={timeout}s on {work}; make "
        "the handler faster, move slow work to context.spawn_job(), or raise "
        "handler_timeout in its ChildSpec",
        handler=cell.path,
    )
    error.__cause__ = TimeoutError()
    return error
