"""The outbound governor on a virtual clock, against CyTube's own limiter as the oracle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kryten_actors.bot.governor import CHAT_LIMIT, GovernorStats, Lane, Limit, RateMirror, Throttled
from kryten_actors.errors import ChatQueueFull
from kryten_actors.protocol.commands import Command, SendChat
from kryten_actors.protocol.flood import FloodLimit, FloodLimiter
from kryten_actors.protocol.results import CommandResult
from kryten_actors.runtime import VirtualClock


class CyTube:
    """Receives lines as CyTube would: its limiter drops what comes too fast."""

    def __init__(self, clock: VirtualClock, limit: Limit, *, fail_on: str = "") -> None:
        self.clock = clock
        self.limit = FloodLimit(limit.burst, limit.sustained)
        self.limiter = FloodLimiter()
        self.shown: list[str] = []
        self.dropped = 0
        self.attempts: list[int] = []
        self.fail_on = fail_on

    async def send(self, command: Command, attempt: int) -> CommandResult:
        assert isinstance(command, SendChat)
        self.attempts.append(attempt)
        if command.message == self.fail_on:
            raise RuntimeError("bridge broke")
        if self.limiter.throttle(self.clock.now(), self.limit):
            self.dropped += 1
            raise Throttled(1.0 / self.limit.sustained)
        self.shown.append(command.message)
        return CommandResult()


def _lane(cytube: CyTube, limit: Limit, *, queue_limit: int = 200, margin: float = 0.1) -> Lane:
    return Lane(
        name="chat",
        channel="cytu.be/lounge",
        send=cytube.send,
        limit_for=lambda command: limit,
        clock=cytube.clock,
        queue_limit=queue_limit,
        margin=margin,
        stats=GovernorStats(),
    )


async def _run(clock: VirtualClock, done: Callable[[], bool], rounds: int = 100_000) -> None:
    """Let the pump run; move virtual time to the next timer whenever it waits."""
    for _ in range(rounds):
        for _ in range(3):
            await asyncio.sleep(0)
        if done():
            return
        due = clock.next_due
        if due is not None:
            clock.advance(max(0.0, due - clock.now()))
    raise AssertionError("the lane did not finish")


async def test_fifty_lines_all_arrive_in_order_without_one_drop() -> None:
    clock = VirtualClock()
    cytube = CyTube(clock, CHAT_LIMIT)
    lane = _lane(cytube, CHAT_LIMIT)
    lines = [f"line {i}" for i in range(50)]
    lane.reserve(len(lines))
    futures = [lane.submit(SendChat(message=text)) for text in lines]
    await _run(clock, lambda: all(f.done() for f in futures))
    assert cytube.shown == lines
    assert cytube.dropped == 0
    assert lane.stats.lines_sent == 50
    # 20 at once, then 10/s stretched by the 10% margin: within 1.25x of CyTube's limit
    ideal = (50 - CHAT_LIMIT.burst) / CHAT_LIMIT.sustained
    assert ideal <= clock.now() <= ideal * 1.25


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    burst=st.integers(1, 20),
    sustained=st.sampled_from([0.5, 1.0, 2.0, 10.0]),
    gaps=st.lists(st.floats(0, 5), min_size=1, max_size=40),
)
async def test_paced_lines_are_never_dropped_and_keep_their_order(
    burst: int, sustained: float, gaps: list[float]
) -> None:
    clock = VirtualClock()
    limit = Limit(burst, sustained)
    cytube = CyTube(clock, limit)
    lane = _lane(cytube, limit)
    futures = []
    for index, gap in enumerate(gaps):
        clock.advance(gap)  # senders come at any time, the pump catches up
        futures.append(lane.submit(SendChat(message=f"m{index}")))
        await asyncio.sleep(0)
    await _run(clock, lambda: all(f.done() for f in futures))
    assert cytube.shown == [f"m{i}" for i in range(len(gaps))]
    assert cytube.dropped == 0


async def test_a_line_dropped_anyway_is_sent_again_before_any_later_line() -> None:
    clock = VirtualClock()
    cytube = CyTube(clock, CHAT_LIMIT)
    for _ in range(CHAT_LIMIT.burst):  # someone else spent the burst on the same account
        cytube.limiter.throttle(0.0, cytube.limit)
    lane = _lane(cytube, CHAT_LIMIT)
    futures = [lane.submit(SendChat(message=text)) for text in ("a", "b", "c")]
    await _run(clock, lambda: all(f.done() for f in futures))
    assert cytube.shown == ["a", "b", "c"]
    assert cytube.dropped == 1
    assert cytube.attempts[:2] == [1, 2]
    assert (lane.stats.throttled, lane.stats.lines_resent) == (1, 1)


async def test_the_queue_is_bounded_with_a_clear_error() -> None:
    clock = VirtualClock()
    lane = _lane(CyTube(clock, CHAT_LIMIT), CHAT_LIMIT, queue_limit=3)
    lane.reserve(3)
    for text in "abc":
        lane.submit(SendChat(message=text))
    with pytest.raises(ChatQueueFull, match=r"chat.queue_limit=3"):
        lane.reserve(1)
    assert lane.stats.queue_full == 1
    await lane.close(0.0)


async def test_close_cancels_what_is_left_and_counts_it() -> None:
    clock = VirtualClock()
    lane = _lane(CyTube(clock, CHAT_LIMIT), CHAT_LIMIT)
    futures = [lane.submit(SendChat(message=f"m{i}")) for i in range(25)]
    await _run(clock, lambda: sum(f.done() for f in futures) >= 20)
    await lane.close(0.01)  # virtual time stands still: the rest cannot go
    assert sum(f.cancelled() for f in futures) == 5
    assert lane.stats.lines_dropped == 5
    assert len(lane) == 0


async def test_a_bridge_failure_reaches_its_caller_and_later_lines_still_go() -> None:
    clock = VirtualClock()
    cytube = CyTube(clock, CHAT_LIMIT, fail_on="b")
    lane = _lane(cytube, CHAT_LIMIT)
    futures = [lane.submit(SendChat(message=text)) for text in "abc"]
    await _run(clock, lambda: all(f.done() for f in futures))
    assert isinstance(futures[1].exception(), RuntimeError)
    assert cytube.shown == ["a", "c"]


def test_the_mirror_counts_double_cost_lines_and_refusals() -> None:
    mirror = RateMirror()
    limit = Limit(burst=4, sustained=1)
    for now in (0.0, 0.0):
        assert mirror.wait(now, limit, 0.0, cost=2) == 0.0
        mirror.accepted(now, limit, 0.0, cost=2)
    assert mirror.wait(0.0, limit, 0.0, cost=2) == limit.cooldown  # /me after the burst
    assert mirror.wait(0.0, limit, 0.0) == limit.interval
    mirror.refused(3.0, limit)
    assert mirror.wait(3.0, limit, 0.0) == limit.interval
    assert mirror.wait(3.0 + limit.cooldown + 0.01, limit, 0.0) == 0.0  # cooled down
