"""Handles to actors: the only way other code talks to an actor.

An :class:`ActorRef` points at the actor's cell, not at an instance, so it stays
valid across restarts. ``tell`` vs ``ask`` is the caller's choice: ``tell`` is
fire-and-forget and synchronous; ``ask`` waits for the reply.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from kryten_actors.errors import KrytenTimeoutError
from kryten_actors.runtime.mailbox import IDLE_QUEUE, OverflowPolicy
from kryten_actors.runtime.stats import ActorState, ActorStats

if TYPE_CHECKING:
    from kryten_actors.runtime.cell import Cell

__all__ = ["ActorRef", "AskEnvelope"]


class AskEnvelope:
    """A queued ``ask``: the message plus the future that receives the reply."""

    __slots__ = ("future", "message")

    def __init__(self, message: Any, future: asyncio.Future[Any]) -> None:
        self.message = message
        self.future = future

    def __repr__(self) -> str:
        return f"<ask {self.message!r}>"


class ActorRef:
    """A reference to one actor; cheap to copy around, valid across restarts."""

    __slots__ = ("_cell",)

    def __init__(self, cell: Cell) -> None:
        self._cell = cell

    def __repr__(self) -> str:
        return f"<ActorRef {self._cell.path} {self._cell.state}>"

    @property
    def name(self) -> str:
        """The actor's name."""
        return self._cell.spec.name

    @property
    def path(self) -> str:
        """The actor's path, e.g. ``/root/channels/lounge``."""
        return self._cell.path

    @property
    def is_alive(self) -> bool:
        """True while the actor accepts messages (not stopping, stopped or failed)."""
        return self._cell.accepting

    def stats(self) -> ActorStats:
        """A snapshot of the actor's counters and state."""
        return self._cell.stats()

    @property
    def half_full(self) -> bool:
        """True when the mailbox holds more than half its capacity (a cheap check).

        A sender pushing a burst can yield to the event loop at this point so the
        actor drains before its overflow policy has to drop anything.
        """
        mailbox = self._cell.mailbox
        return len(mailbox) * 2 > mailbox.capacity

    def fits(self, message: Any) -> bool:
        """True when the mailbox would take ``message`` now (room by count and bytes)."""
        return self._cell.mailbox.fits(message)

    @property
    def idle_since(self) -> float:
        """Clock time the actor last ran out of messages (or started)."""
        return self._cell.idle_since

    @property
    def state(self) -> ActorState:
        """The actor's lifecycle state."""
        return self._cell.state

    def tell(self, message: Any) -> None:
        """Enqueue ``message`` and return at once; never waits.

        When the mailbox is full: ``drop_newest`` / ``drop_oldest`` drop a message
        (to dead letters, ``mailbox_full``); ``reject`` and ``block`` raise
        :class:`~kryten_actors.errors.MailboxFull` (use :meth:`put` to wait under
        ``block``). A message for a stopped or failed actor becomes a dead letter
        with reason ``actor_stopped``; no exception is raised.
        """
        self._cell.offer(message, strict=True)

    def offer(self, message: Any, room_only: bool = False) -> bool | None:
        """:meth:`tell`, then whether the mailbox is more than half full (one call).

        A sender pushing a burst yields to the event loop when this is True, so the
        actor drains before its overflow policy has to drop anything. With
        ``room_only``, a message the mailbox has no room for now is not offered and
        None is returned (a sender under ``block`` then waits with :meth:`put`).
        """
        cell = self._cell
        mailbox = cell.mailbox
        queue = mailbox._queue
        depth = len(queue) + 1
        if (
            depth <= mailbox.capacity
            and queue is not IDLE_QUEUE
            and not cell._closing
            and mailbox.max_bytes is None
        ):
            # the router's put, once per event: Cell.offer's common case without its call
            queue.append(message)
            if depth > mailbox.high_water:  # noqa: PLR1730 -- max() is slower here
                mailbox.high_water = depth
            if not cell._queued and cell._go and cell.drain_task is None:
                cell._queued = True
                cell.hooks.ready(cell)
            return depth * 2 > mailbox.capacity
        if room_only and not mailbox.fits(message):
            return None
        return cell.offer(message, strict=True)

    async def put(self, message: Any) -> None:
        """Like :meth:`tell`, but under ``block`` waits until the mailbox has room.

        This is backpressure: the calling task stalls while the actor is behind.
        """
        cell = self._cell
        mailbox = cell.mailbox
        if mailbox.policy is OverflowPolicy.BLOCK:
            while not mailbox.fits(message) and cell.accepting:
                await mailbox.wait_for_room(message)
        cell.offer(message, strict=True)

    async def ask(self, message: Any, *, timeout: float = 5.0) -> Any:  # noqa: ASYNC109 -- ask's contract
        """Send ``message`` and return what the actor's ``receive`` returned for it.

        Raises :class:`~kryten_actors.errors.KrytenTimeoutError` if no reply came
        within ``timeout`` seconds of loop time (the message may still be processed
        later; its reply is then discarded). If ``receive`` raised, that exception is
        raised here too (the failure still goes to the supervisor). Raises
        ``MailboxFull`` as :meth:`tell` does, and
        :class:`~kryten_actors.errors.KrytenError` if the actor stopped before
        processing the message.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._cell.offer(AskEnvelope(message, future), strict=True)
        try:
            async with asyncio.timeout(timeout) as deadline:
                return await future
        except TimeoutError:
            if deadline.expired():
                raise KrytenTimeoutError(
                    f"{self._cell.path} did not answer {type(message).__name__} within "
                    f"{timeout}s; it may be busy or stuck (check ref.stats()), or raise the "
                    "timeout"
                ) from None
            raise
