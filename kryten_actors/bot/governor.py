"""The outbound governor: paces a channel's chat lines and playlist adds to CyTube's limits.

CyTube throttles each connection with a small rate limiter (``util.newRateLimiter`` in
CyTube 3.86): ``burst`` messages at once, then one per ``1/sustained`` seconds, and the
burst comes back only after ``burst/sustained`` seconds without an accepted message.
Chat lines and PMs share one limiter (20 then 10/s; the channel's ``chat_antiflood``
parameters below rank 2), playlist adds another (3 then 1/s; 10 then 2/s from rank
2). What exceeds it is dropped with a ``cooldown``/``queueFail`` while the bridge still
answers "ok" — so the bot mirrors the limiter and waits instead of flooding.

Each lane keeps its lines in order, bounded by ``chat.queue_limit``; one pump task per
busy lane sends them one at a time, each after CyTube answered the one before (the
outbox waits for the echo), and ends when the lane is empty. A line CyTube refused for
flooding anyway (another sender on the same account, network jitter) is sent again
after the cooldown CyTube asked for, up to ``chat.max_resends`` times, before any
later line.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kryten_actors.errors import ChatQueueFull
from kryten_actors.runtime import sleep_on

if TYPE_CHECKING:
    from kryten_actors.protocol.commands import Command
    from kryten_actors.protocol.results import CommandResult
    from kryten_actors.runtime import Clock

__all__ = ["CHAT_LIMIT", "GovernorStats", "Lane", "Limit", "RateMirror", "Throttled"]

log = logging.getLogger("kryten_actors.bot.governor")


@dataclass(frozen=True, slots=True)
class Limit:
    """One CyTube rate limit: ``burst`` at once, then ``sustained`` per second."""

    burst: int
    sustained: float

    @property
    def interval(self) -> float:
        """Seconds between messages once the burst is used."""
        return 1.0 / self.sustained

    @property
    def cooldown(self) -> float:
        """Quiet seconds after which the burst is available again."""
        return self.burst / self.sustained


CHAT_LIMIT = Limit(burst=20, sustained=10)
"""CyTube's ``MIN_ANTIFLOOD``: every chat line and PM of every user (chat.js)."""
QUEUE_LIMIT = Limit(burst=3, sustained=1)
QUEUE_LIMIT_MODERATOR = Limit(burst=10, sustained=2)


class RateMirror:
    """CyTube's per-connection rate limiter, replayed on the bot's clock."""

    __slots__ = ("count", "last")

    def __init__(self) -> None:
        self.count = 0
        self.last: float | None = None

    def wait(self, now: float, limit: Limit, margin: float, cost: int = 1) -> float:
        """Seconds to wait so that a message sent then is accepted (0: send now).

        ``cost`` is how many times CyTube runs the limiter for it: ``/me``, ``/sp`` and
        ``/say`` run it twice in the same instant, so once the burst is spent they pass
        only after a full cooldown.
        """
        last = self.last
        if last is None or now - last > limit.cooldown * (1 + margin):
            return 0.0
        if self.count + cost <= limit.burst:
            return 0.0
        pause = limit.interval if cost == 1 else limit.cooldown
        return max(0.0, last + pause * (1 + margin) - now)

    def accepted(self, now: float, limit: Limit, margin: float, cost: int = 1) -> None:
        """Record a message sent at ``now`` as CyTube would record its acceptance."""
        if self.last is None or now - self.last > limit.cooldown * (1 + margin):
            self.count = cost
        else:
            self.count = min(self.count + cost, limit.burst)
        self.last = now

    def refused(self, now: float, limit: Limit) -> None:
        """CyTube refused one: its burst is spent; the next needs a full interval."""
        self.count = limit.burst
        self.last = now


@dataclass(slots=True)
class GovernorStats:
    """Counters of one channel's outbound governor."""

    lines_sent: int = 0
    lines_split: int = 0
    lines_resent: int = 0
    lines_dropped: int = 0
    throttled: int = 0
    queue_full: int = 0
    waited_seconds: float = 0.0
    high_water: int = 0


class Throttled(Exception):
    """CyTube dropped the line just sent for flooding; send it again after ``pause`` s."""

    def __init__(self, pause: float) -> None:
        super().__init__(pause)
        self.pause = pause


@dataclass(slots=True)
class _Line:
    command: Command
    future: asyncio.Future[CommandResult]
    attempts: int = 0


#: ``send(command, attempt)`` hands one line to the bridge; ``attempt`` counts from 1.
SendLine = Callable[["Command", int], Awaitable["CommandResult"]]
LimitFor = Callable[["Command"], Limit]
CostOf = Callable[["Command"], int]


@dataclass
class Lane:
    """One ordered, paced, bounded queue (chat+PM, or playlist adds) of one channel."""

    name: str
    channel: str
    send: SendLine
    limit_for: LimitFor
    clock: Clock
    queue_limit: int
    margin: float
    stats: GovernorStats
    pace: bool = True
    cost_of: CostOf = lambda command: 1
    mirror: RateMirror = field(default_factory=RateMirror)
    _queue: deque[_Line] = field(default_factory=deque)
    _pump: asyncio.Task[None] | None = None
    _pause_until: float = 0.0
    _closed: bool = False

    def __len__(self) -> int:
        return len(self._queue)

    def reserve(self, count: int) -> None:
        """Raise ``ChatQueueFull`` unless ``count`` more lines fit."""
        if len(self._queue) + count > self.queue_limit:
            self.stats.queue_full += 1
            raise ChatQueueFull(
                f"{self.channel}: {len(self._queue)} {self.name} lines are already waiting "
                f"(chat.queue_limit={self.queue_limit}); CyTube accepts only so many a "
                "second, so send less or raise chat.queue_limit",
                channel=self.channel,
                limit=self.queue_limit,
            )

    def submit(self, command: Command) -> asyncio.Future[CommandResult]:
        """Queue ``command``; the future resolves when the bridge took it (or it failed)."""
        future: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._queue.append(_Line(command, future))
        self.stats.high_water = max(self.stats.high_water, len(self._queue))
        self._ensure_pump()
        return future

    # --- the pump --------------------------------------------------------------------------
    def _ensure_pump(self) -> None:
        if self._pump is None and not self._closed:
            self._pump = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._queue:
                line = self._queue[0]
                if line.future.done():
                    self._queue.popleft()  # the caller gave up before it was sent
                    continue
                limit = self.limit_for(line.command)
                cost = self.cost_of(line.command)
                now = self.clock.now()
                wait = self.mirror.wait(now, limit, self.margin, cost)
                delay = max(wait, self._pause_until - now)
                if delay > 0 and self.pace:
                    self.stats.waited_seconds += delay
                    await sleep_on(self.clock, delay)
                    continue
                self._queue.popleft()
                await self._send(line, limit, cost)
        finally:
            self._pump = None

    async def _send(self, line: _Line, limit: Limit, cost: int) -> None:
        line.attempts += 1
        self.mirror.accepted(self.clock.now(), limit, self.margin, cost)
        try:
            result = await self.send(line.command, line.attempts)
        except Throttled as throttled:
            now = self.clock.now()
            self.stats.throttled += 1
            self.stats.lines_resent += 1
            self.mirror.refused(now, limit)
            self._pause_until = now + throttled.pause * (1 + self.margin)
            self._queue.appendleft(line)  # again, before any later line
            return
        except Exception as error:  # noqa: BLE001 - handed to the caller that queued it
            if not line.future.done():
                line.future.set_exception(error)
            return
        self.stats.lines_sent += 1
        if not line.future.done():
            line.future.set_result(result)

    async def close(self, timeout: float) -> None:  # noqa: ASYNC109 - a shutdown deadline
        """Send what is queued within ``timeout`` seconds, then cancel what is left."""
        self._closed = True
        pump = self._pump
        if pump is not None:
            try:
                async with asyncio.timeout(timeout):
                    await asyncio.shield(pump)
            except TimeoutError:
                pump.cancel()
                await asyncio.wait((pump,), timeout=1.0)
        for line in self._queue:
            if not line.future.done():
                self.stats.lines_dropped += 1
                line.future.cancel()
        self._queue.clear()
