"""A cell's own drain task: what runs once one of its handlers really awaited.

The dispatcher (``dispatcher.py``) starts every handler inline. When a handler
suspends, :class:`Suspended` carries it into the dispatcher's task, which then
belongs to the cell: :func:`finish_in_task` finishes that handler, drains the
rest of the mailbox with plain awaits under the cell's
:class:`~kryten_actors.runtime.watchdog.Watchdog`, and ends. A stop that must
drain a mailbox no one is draining uses :func:`own_drain` the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any, final

from kryten_actors.runtime.deadletters import DeadLetterReason
from kryten_actors.runtime.lifecycle import timeout_error
from kryten_actors.runtime.ref import AskEnvelope
from kryten_actors.runtime.watchdog import Watchdog

if TYPE_CHECKING:
    from kryten_actors.runtime.cell import Cell

__all__ = ["Suspended", "finish_in_task", "own_drain"]

_FAIRNESS_BATCH = 64  # messages a drain task processes before yielding to other tasks


@final
class Suspended:
    """A handler that awaited something in its first step, with what it waits for."""

    __slots__ = ("coro", "item", "signal")

    def __init__(
        self, coro: Coroutine[Any, Any, Any] | Generator[Any, Any, Any], signal: Any, item: Any
    ) -> None:
        self.coro = coro
        self.signal = signal
        self.item = item

    def __await__(self) -> Generator[Any, Any, Any]:
        """Continue the coroutine from where its first step left it (``yield from``)."""
        coro = self.coro
        signal = self.signal
        while True:
            try:
                sent = yield signal
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as error:  # noqa: BLE001 -- thrown in by the task: pass it on
                try:
                    signal = coro.throw(error)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    signal = coro.send(sent)
                except StopIteration as done:
                    return done.value


async def finish_in_task(cell: Cell, suspended: Suspended) -> None:
    """Finish a handler that awaited, in the current task, then drain the rest."""
    task = asyncio.current_task()
    assert task is not None
    cell.drain_task = task
    hooks = cell.hooks
    hooks.drain_started()
    timeout = cell.spec.handler_timeout
    if timeout is not None:
        cell.watchdog = Watchdog(hooks.clock, timeout, task)
        cell.watchdog.begin(hooks.clock.now())
    try:
        if await _settle(cell, suspended.item, suspended):
            await _drain(cell)
    finally:
        _ended(cell)


async def own_drain(cell: Cell) -> None:
    """The body of a drain task started for a stop (see ``Cell.start_drain_task``)."""
    hooks = cell.hooks
    hooks.drain_started()
    timeout = cell.spec.handler_timeout
    task = asyncio.current_task()
    if timeout is not None and task is not None:
        cell.watchdog = Watchdog(hooks.clock, timeout, task)
    try:
        await _drain(cell)
    finally:
        _ended(cell)


def _ended(cell: Cell) -> None:
    cell.drain_task = None
    if cell.watchdog is not None:
        cell.watchdog.cancel()
        cell.watchdog = None
    if not cell.queued:
        cell.went_idle()
    cell.hooks.drain_finished()


async def _drain(cell: Cell) -> None:
    mailbox = cell.mailbox
    clock = cell.hooks.clock
    batch = 0
    while cell.live and mailbox:
        if not cell.take_pending_failure():
            return
        item = mailbox.get()
        if cell.watchdog is not None:
            cell.watchdog.begin(clock.now())
        if not await _settle(cell, item, None):
            return
        batch += 1
        if batch == _FAIRNESS_BATCH:
            batch = 0
            await asyncio.sleep(0)
    cell.take_pending_failure()


async def _settle(cell: Cell, item: Any, suspended: Suspended | None) -> bool:
    """Run (or finish) one message in this task; False when the cell must stop draining."""
    ask = type(item) is AskEnvelope
    watchdog = cell.watchdog
    try:
        if suspended is not None:
            result = await suspended
        else:
            receipt = cell.actor.receive(item.message if ask else item)
            result = None if receipt is None else await receipt  # None: handled at once
    except asyncio.CancelledError:
        if watchdog is None or not watchdog.end():
            # cut off by a stop or restart deadline: never lose it silently
            cell.undeliverable(item, DeadLetterReason.ACTOR_STOPPED, None)
            raise
        return cell.message_failed(item, timeout_error(cell))
    except Exception as error:  # noqa: BLE001 -- any handler error is a failure for the supervisor
        if watchdog is not None:
            watchdog.end()
        return cell.message_failed(item, error)
    if watchdog is not None and watchdog.end():
        # the handler swallowed the watchdog's cancellation: still an overrun
        return cell.message_failed(item, timeout_error(cell))
    cell.processed += 1
    if ask and not item.future.done():
        item.future.set_result(result)
    return True
