"""The clock every timer, backoff and handler deadline of the runtime reads.

:class:`MonotonicClock` is the real one (the event loop's clock, one loop timer
handle per callback -- no task per timer). :class:`VirtualClock` is the fake for
tests and the user test kit: time stands still until :meth:`VirtualClock.advance`.

Shutdown deadlines and ``ask`` timeouts deliberately do *not* use this clock but
the loop's real time, so a virtual clock can never stall a shutdown.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Cancellable", "Clock", "MonotonicClock", "VirtualClock", "sleep_on"]


@runtime_checkable
class Cancellable(Protocol):
    """Something scheduled that can be called off; ``cancel()`` is idempotent."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic time plus one-shot callbacks. The runtime's only notion of time."""

    def now(self) -> float:
        """Monotonic seconds (arbitrary origin)."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Run ``callback()`` once, ``delay`` seconds from :meth:`now`, on the loop thread."""
        ...


class MonotonicClock:
    """The event loop's clock: ``loop.time()`` and ``loop.call_later``.

    Must be used from inside a running event loop.
    """

    __slots__ = ()

    #: ``loop.time()`` of asyncio's loops *is* ``time.monotonic()``; calling it directly
    #: skips a loop lookup on the per-message hot path.
    now = staticmethod(time.monotonic)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Schedule ``callback`` with ``loop.call_later`` (a timer handle, no task)."""
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)


class _VirtualTimer:
    __slots__ = ("callback", "cancelled", "seq", "when")

    def __init__(self, when: float, seq: int, callback: Callable[[], None]) -> None:
        self.when = when
        self.seq = seq
        self.callback = callback
        self.cancelled = False

    def __lt__(self, other: _VirtualTimer) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """A clock whose time moves only when :meth:`advance` is called.

    Callbacks due at the same instant run in the order they were scheduled. A
    callback that raises propagates out of :meth:`advance` (tests should see it);
    callbacks after it in the same window stay scheduled.
    """

    __slots__ = ("_heap", "_now", "_seq")

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._heap: list[_VirtualTimer] = []
        self._seq = itertools.count()

    def now(self) -> float:
        """Current virtual time."""
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Schedule ``callback`` at ``now() + delay`` (negative delays count as 0)."""
        timer = _VirtualTimer(self._now + max(0.0, delay), next(self._seq), callback)
        heapq.heappush(self._heap, timer)
        return timer

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, firing every callback that falls due.

        Callbacks run in time order with :meth:`now` equal to their due time,
        including callbacks scheduled by fired callbacks within the same window.
        """
        if seconds < 0:
            raise ValueError(f"time only moves forward; advance({seconds}) is negative")
        target = self._now + seconds
        heap = self._heap
        try:
            while heap and heap[0].when <= target:
                timer = heapq.heappop(heap)
                if timer.cancelled:
                    continue
                self._now = max(self._now, timer.when)
                timer.callback()
        finally:
            if not heap or heap[0].when > target:
                self._now = target

    @property
    def pending(self) -> int:
        """How many callbacks are scheduled and not cancelled."""
        return sum(1 for timer in self._heap if not timer.cancelled)

    @property
    def next_due(self) -> float | None:
        """Due time of the earliest pending callback, or ``None``."""
        live = [timer.when for timer in self._heap if not timer.cancelled]
        return min(live) if live else None


async def sleep_on(clock: Clock, delay: float) -> None:
    """Sleep ``delay`` seconds of ``clock`` time (virtual time moves only when advanced)."""
    if delay <= 0:
        return
    woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not woken.done():
            woken.set_result(None)

    handle = clock.call_later(delay, wake)
    try:
        await woken
    finally:
        handle.cancel()
