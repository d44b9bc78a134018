"""Bounded mailboxes and what happens when they are full.

A :class:`Mailbox` is a plain FIFO over :class:`collections.deque` with a fixed
``capacity`` and an :class:`OverflowPolicy`. Like Pykka's inbox it has a tiny
protocol -- :meth:`Mailbox.put`, :meth:`Mailbox.get`, ``len()`` -- and no task,
no lock and no :class:`asyncio.Queue`: an idle mailbox is one empty deque.

The mailbox never touches dead letters itself; :meth:`Mailbox.put` hands back the
message it had to drop so the owning actor can record it with a reason.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from typing import Any, Final

from kryten_actors.errors import KrytenValidationError, MailboxFull

__all__ = ["ACCEPTED", "IDLE_QUEUE", "Mailbox", "OverflowPolicy"]


class OverflowPolicy(enum.StrEnum):
    """What :meth:`Mailbox.put` does when the mailbox already holds ``capacity`` messages.

    ``drop_newest``
        The new message is dropped (the default: a slow actor loses the latest noise,
        never its backlog).
    ``drop_oldest``
        The oldest queued message is evicted to make room (keep the freshest state).
    ``reject``
        The sender gets :class:`~kryten_actors.errors.MailboxFull`.
    ``block``
        Backpressure: ``await ref.put(message)`` waits until there is room, which
        stalls whoever sends -- including a NATS callback, and so every actor fed by
        it. The synchronous ``tell`` cannot wait and raises ``MailboxFull`` instead.
    """

    DROP_NEWEST = "drop_newest"
    DROP_OLDEST = "drop_oldest"
    REJECT = "reject"
    BLOCK = "block"


class _Accepted:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ACCEPTED"


ACCEPTED: Final[Any] = _Accepted()
"""Returned by :meth:`Mailbox.put` when nothing had to be dropped."""

# Shared by every empty mailbox so an idle actor holds no deque block (~700 bytes).
# Never mutated: put() swaps in a private deque before appending.
IDLE_QUEUE: Final[deque[Any]] = deque(maxlen=0)
"""The shared queue of every empty mailbox (the inline puts must not append to it)."""


class Mailbox:
    """A bounded FIFO of messages for one actor.

    ``max_bytes`` optionally bounds the bodies held too: a message's size is its
    ``nbytes`` attribute (0 when it has none), ``nbytes`` here the sum held. A message
    that would take a non-empty mailbox past ``max_bytes`` overflows like one past
    ``capacity``, except that ``drop_oldest`` then drops the incoming message (evicting
    one old message might not make room).

    ``depth`` (also ``len(mailbox)``) is the number of queued messages,
    ``high_water`` the largest depth ever reached, ``dropped`` how many messages
    were not kept (dropped, evicted or refused). ``owner`` names the actor in
    :class:`~kryten_actors.errors.MailboxFull` errors.
    """

    __slots__ = (
        "_queue",
        "_room_waiters",
        "capacity",
        "dropped",
        "high_water",
        "max_bytes",
        "nbytes",
        "owner",
        "policy",
    )

    def __init__(
        self,
        capacity: int = 1000,
        policy: OverflowPolicy = OverflowPolicy.DROP_NEWEST,
        *,
        owner: str = "",
        max_bytes: int | None = None,
    ) -> None:
        if capacity < 1:
            raise KrytenValidationError(f"mailbox capacity must be at least 1, got {capacity}")
        if max_bytes is not None and max_bytes < 1:
            raise KrytenValidationError(f"mailbox max_bytes must be at least 1, got {max_bytes}")
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._queue: deque[Any] = IDLE_QUEUE
        self._room_waiters: deque[asyncio.Future[None]] | None = None
        self.capacity = capacity
        self.policy = OverflowPolicy(policy)
        self.owner = owner
        self.high_water = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._queue)

    def __bool__(self) -> bool:
        return bool(self._queue)

    def __repr__(self) -> str:
        return f"<Mailbox {self.owner or '?'} {len(self._queue)}/{self.capacity} {self.policy}>"

    @property
    def depth(self) -> int:
        """Messages currently queued."""
        return len(self._queue)

    @property
    def full(self) -> bool:
        """True when the next :meth:`put` would overflow."""
        if self.max_bytes is not None and self._queue and self.nbytes >= self.max_bytes:
            return True
        return len(self._queue) >= self.capacity

    def fits(self, item: Any) -> bool:
        """True when :meth:`put` would accept ``item`` without overflowing."""
        queue = self._queue
        if len(queue) >= self.capacity:
            return False
        if self.max_bytes is None or not queue:
            return True
        return self.nbytes + getattr(item, "nbytes", 0) <= self.max_bytes

    def put(self, item: Any) -> Any:
        """Enqueue ``item`` without ever waiting.

        Returns :data:`ACCEPTED` when nothing was lost, otherwise the message that was
        dropped: ``item`` itself under ``drop_newest``, the evicted oldest message under
        ``drop_oldest``. Raises :class:`~kryten_actors.errors.MailboxFull` under
        ``reject`` and ``block`` (``item`` is then not queued).
        """
        queue = self._queue
        size = 0
        if self.max_bytes is not None:
            size = getattr(item, "nbytes", 0)
            if queue and self.nbytes + size > self.max_bytes:
                return self._overflow(item, by_bytes=True)
            self.nbytes += size
        if len(queue) < self.capacity:
            if queue is IDLE_QUEUE:
                queue = self._queue = deque()
            queue.append(item)
            if len(queue) > self.high_water:  # noqa: PLR1730 -- max() is slower on this hot path
                self.high_water = len(queue)
            return ACCEPTED
        self.nbytes -= size
        return self._overflow(item, by_bytes=False)

    def _overflow(self, item: Any, *, by_bytes: bool) -> Any:
        queue = self._queue
        self.dropped += 1
        policy = self.policy
        if policy is OverflowPolicy.DROP_NEWEST or (
            by_bytes and policy is OverflowPolicy.DROP_OLDEST
        ):
            return item
        if policy is OverflowPolicy.DROP_OLDEST:
            evicted = queue.popleft()
            queue.append(item)
            if self.max_bytes is not None:
                self.nbytes += getattr(item, "nbytes", 0) - getattr(evicted, "nbytes", 0)
            return evicted
        hint = (
            "send with `await ref.put(message)` to wait for room"
            if policy is OverflowPolicy.BLOCK
            else "slow down, or give the actor a larger mailbox_capacity"
        )
        bound = f"{self.max_bytes} bytes" if by_bytes else f"{self.capacity} messages"
        raise MailboxFull(
            f"mailbox of {self.owner or 'actor'} is full ({bound}, policy {policy}); {hint}",
            recipient=self.owner,
            capacity=self.capacity,
        )

    def get(self) -> Any:
        """Remove and return the oldest message; :class:`IndexError` if empty."""
        item = self._queue.popleft()
        if self.max_bytes is not None:
            self.nbytes -= getattr(item, "nbytes", 0)
        waiters = self._room_waiters
        if waiters:
            self._wake_one(waiters)
        return item

    def take(self, limit: int) -> list[Any]:
        """Remove and return up to ``limit`` of the oldest messages, oldest first.

        One call for a batch; :meth:`requeue` puts back what was not processed.
        """
        queue = self._queue
        if len(queue) <= limit:
            items = list(queue)
            queue.clear()
            self.nbytes = 0  # all taken: no sum over them (the common case)
        else:
            popleft = queue.popleft
            items = [popleft() for _ in range(limit)]
            if self.max_bytes is not None:
                self.nbytes -= sum(getattr(item, "nbytes", 0) for item in items)
        waiters = self._room_waiters
        if waiters:
            for _ in items:
                self._wake_one(waiters)
        return items

    def requeue(self, items: list[Any]) -> None:
        """Put ``items`` (taken, not processed) back at the front, in order."""
        if not items:
            return
        if self._queue is IDLE_QUEUE:
            self._queue = deque()
        self._queue.extendleft(reversed(items))
        if self.max_bytes is not None:
            self.nbytes += sum(getattr(item, "nbytes", 0) for item in items)

    def take_all(self) -> list[Any]:
        """Remove and return every queued message, oldest first, and wake all waiters."""
        items = list(self._queue)
        self._queue = IDLE_QUEUE
        self.nbytes = 0
        self.wake_all()
        return items

    def release(self) -> None:
        """Give back the queue's memory if it is empty (called when the actor goes idle)."""
        if not self._queue:
            self._queue = IDLE_QUEUE

    async def wait_for_room(self, item: Any = None) -> None:
        """Wait until :meth:`put` would not overflow — would accept ``item``, when given —
        (or :meth:`wake_all` is called).

        Waiters are woken one per freed slot, in the order they started waiting.
        """
        while self.full if item is None else not self.fits(item):
            waiters = self._room_waiters
            if waiters is None:
                waiters = self._room_waiters = deque()
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            waiters.append(waiter)
            try:
                await waiter
            finally:
                if not waiter.done():
                    waiter.cancel()
            if waiters is not self._room_waiters:
                return  # woken by wake_all: the actor is stopping, the caller re-checks

    def wake_all(self) -> None:
        """Release every task in :meth:`wait_for_room` (used when the actor stops)."""
        waiters = self._room_waiters
        self._room_waiters = None
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    @staticmethod
    def _wake_one(waiters: deque[asyncio.Future[None]]) -> None:
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
