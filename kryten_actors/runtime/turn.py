"""One dispatcher turn of a cell: run up to a quantum of its queued messages inline.

Every message's handler is started in the dispatcher's own task: ``receive`` is
called and its coroutine stepped once. A handler that completes without suspending
(the common case) costs no task; one that awaits is handed back as
:class:`~kryten_actors.runtime.drain.Suspended` for the dispatcher to finish in its
task, which then belongs to the cell (see ``dispatcher.py`` and ``drain.py``).

``receive`` may also be a plain method that handles a message synchronously and
returns None instead of a coroutine (the result of an ``ask`` is then None): the
bot's channel actors do so for every event whose handler does not await, which
saves a coroutine per event.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from kryten_actors.runtime.drain import Suspended
from kryten_actors.runtime.ref import AskEnvelope

if TYPE_CHECKING:
    from kryten_actors.runtime.cell import Cell

__all__ = ["take_turn"]


def take_turn(cell: Cell, quantum: int) -> Suspended | int:  # noqa: PLR0912 - one hot loop
    """Run up to ``quantum`` of ``cell``'s messages inline.

    Returns the handler that awaited (the caller's task must finish it with
    ``cell.finish_in_task``), or how many messages the turn took; a cell with
    messages left is queued again behind the others.
    """
    cell._queued = False
    if cell.drain_task is not None or not cell._go:
        return 0  # its own task drains it, or it is not running
    if cell._pending_failure is not None and not cell.take_pending_failure():
        return 0
    mailbox = cell.mailbox
    if mailbox.max_bytes is not None or mailbox._room_waiters:
        # byte counts, or senders waiting for room (``block``); none can start waiting
        # for this mailbox while the turn runs, but by a handler of it that awaits
        return _batch_turn(cell, quantum)
    queue = mailbox._queue
    actor = cell.actor
    count = 0
    # Messages leave the deque one by one (no batch list: at many channels a turn
    # mostly holds one message); what a turn leaves stays queued, in order.
    while queue and count < quantum:
        item = queue.popleft()
        count += 1
        ask = type(item) is AskEnvelope
        try:
            coro = actor.receive(item.message if ask else item)
            if coro is None:  # handled synchronously (see the module's doc)
                cell.processed += 1
                if ask and not item.future.done():
                    item.future.set_result(None)
            else:
                signal = coro.send(None)
                return Suspended(coro, signal, item)
        except StopIteration as stop:
            cell.processed += 1
            if ask and not item.future.done():
                item.future.set_result(stop.value)
        except (Exception, asyncio.CancelledError) as error:  # noqa: BLE001 -- a handler failure
            cell.message_failed(item, error)
            actor = cell.actor
        if not cell._go or cell._pending_failure is not None:
            break  # failed (restarting), stopped itself, or a failure to handle first
    if cell._pending_failure is not None and cell._go:
        cell.take_pending_failure()
    if cell._go and mailbox._queue:  # the deque itself: no __bool__ call per turn
        cell._queued = True
        cell.hooks.ready(cell)
    # Idle again: the dispatcher stamps ``idle_since``; the queue's memory is kept
    # (allocating it anew per wake-up costs more than it saves on an active channel).
    return count


def _batch_turn(cell: Cell, quantum: int) -> Suspended | int:
    """:func:`take_turn` for a mailbox that counts bytes or has senders waiting for room:
    the batch is taken in one call, which frees its room (and wakes them) at once."""
    mailbox = cell.mailbox
    items = mailbox.take(quantum)
    actor = cell.actor
    count = 0
    for item in items:
        count += 1
        ask = type(item) is AskEnvelope
        try:
            coro: Any = actor.receive(item.message if ask else item)
            if coro is None:
                cell.processed += 1
                if ask and not item.future.done():
                    item.future.set_result(None)
            else:
                signal = coro.send(None)
                mailbox.requeue(items[count:])
                return Suspended(coro, signal, item)
        except StopIteration as stop:
            cell.processed += 1
            if ask and not item.future.done():
                item.future.set_result(stop.value)
        except (Exception, asyncio.CancelledError) as error:  # noqa: BLE001 -- a handler failure
            cell.message_failed(item, error)
            actor = cell.actor
        if not cell._go or cell._pending_failure is not None:
            mailbox.requeue(items[count:])
            break
    if cell._pending_failure is not None and cell._go:
        cell.take_pending_failure()
    if cell._go and mailbox._queue:
        cell._queued = True
        cell.hooks.ready(cell)
    return count
