"""The start-up probes of the bridges start spread out, so hanging ones never end together."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable

import pytest

from kryten_actors.bot.binding import ChannelBinding
from kryten_actors.bot.lifecycle import BridgeMonitor
from kryten_actors.bot.probe_spread import ProbeSpread
from kryten_actors.demo import SimulatedBridge
from kryten_actors.runtime import VirtualClock
from kryten_actors.transport.memory import MemoryTransport
from tests.bot.units.kit import DOMAIN, binding, config
from tests.polling import wait_until

CHANNELS = ("lounge", "den", "attic")
PROBING = {"probe_on_start": True, "announce": False}


async def test_the_gate_opens_when_the_probe_finished_or_after_the_spread() -> None:
    clock = VirtualClock()
    spread = ProbeSpread(clock, timeout=2.0, at_once=4)
    assert spread.spread == 0.5
    await spread.wait()  # nothing started yet: open
    finished = spread.started()
    waiting = asyncio.ensure_future(spread.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    clock.advance(0.49)
    await asyncio.sleep(0)
    assert not waiting.done()
    clock.advance(0.01)  # the spread passed while the probe still runs
    await asyncio.wait_for(waiting, 5)
    finished(False)  # a late finish changes nothing

    finished = spread.started()
    waiting = asyncio.ensure_future(spread.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    finished(False)  # the probe ended before the spread: the next may start at once
    await asyncio.wait_for(waiting, 5)
    spread.close()
    assert clock.pending == 0


async def test_the_gate_stays_open_while_probes_are_answered() -> None:
    clock = VirtualClock()
    spread = ProbeSpread(clock, timeout=2.0, at_once=4)
    spread.started()(True)  # a bridge answered: the next probes need not wait
    unanswered = spread.started()
    await asyncio.wait_for(spread.wait(), 5)  # a probe still runs, the gate is open
    spread.started()
    unanswered(False)  # one went unanswered: spreading again
    waiting = asyncio.ensure_future(spread.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    clock.advance(0.5)
    await asyncio.wait_for(waiting, 5)
    spread.close()


def _pings(transport: MemoryTransport) -> list[str]:
    """The channels named by the ``system.ping`` requests published so far, in order."""
    named = []
    for sent in transport.published:
        body = json.loads(sent.data) if sent.subject == "kryten.robot.command" else {}
        if body.get("command") == "system.ping":
            named.append(body["meta"]["channel"])
    return named


def _monitor(
    transport: MemoryTransport, clock: VirtualClock, bindings: list[ChannelBinding], timeout: float
) -> BridgeMonitor:
    return BridgeMonitor(
        transport=transport,
        config=config(bridge={**PROBING, "probe_timeout": timeout}),
        bindings=lambda: bindings,
        clock=clock,
        version="0",
    )


async def _first_probe_unanswered(transport: MemoryTransport) -> tuple[VirtualClock, BridgeMonitor]:
    """A started monitor probing ``CHANNELS``; no bridge answers, and the window outlasts
    the test, so only the spread starts the next probe. Returns once the first started."""
    clock = VirtualClock()
    bindings = [binding(transport=transport, channel=ch, bridge=PROBING) for ch in CHANNELS]
    monitor = _monitor(transport, clock, bindings, timeout=3600.0)
    await monitor.start()
    await wait_until(lambda: _pings(transport) == ["lounge"], what="the first probe")
    return clock, monitor


async def test_probes_no_bridge_answers_start_one_spread_apart() -> None:
    transport = MemoryTransport()
    await transport.connect()
    clock, monitor = await _first_probe_unanswered(transport)
    try:
        assert len(monitor._queued) == 2  # the others wait for the gate, not the window
        assert monitor._spread.spread == 3600.0 / 32
        clock.advance(monitor._spread.spread)
        await wait_until(lambda: _pings(transport) == ["lounge", "den"], what="the second")
        assert len(monitor._queued) == 1
        clock.advance(monitor._spread.spread)
        await wait_until(lambda: len(_pings(transport)) == len(CHANNELS), what="the third")
    finally:
        await monitor.stop()
    assert clock.pending == 0  # stop cancelled the gate's timer
    await transport.close()


async def test_probes_a_bridge_answers_run_back_to_back_without_waiting() -> None:
    transport = MemoryTransport()
    await transport.connect()
    transport.kv = {}
    clock = VirtualClock()  # never advanced: no probe may wait for the spread
    bindings = [binding(transport=transport, channel=ch, bridge=PROBING) for ch in CHANNELS]
    bridge = SimulatedBridge(
        transport, profile="kryten-robot", channels=[(DOMAIN, ch) for ch in CHANNELS]
    )
    async with bridge:
        monitor = _monitor(transport, clock, bindings, timeout=3600.0)
        await monitor.start()
        try:
            await wait_until(
                lambda: all(b.link.state == "up" for b in bindings), what="every probe"
            )
        finally:
            await monitor.stop()
    assert _pings(transport) == list(CHANNELS)
    await transport.close()


@pytest.mark.parametrize("turns", range(6))
async def test_stopping_while_the_next_probe_waits_for_the_gate_leaves_no_error(
    turns: int, caplog: pytest.LogCaptureFixture
) -> None:
    transport = MemoryTransport()
    await transport.connect()
    clock, monitor = await _first_probe_unanswered(transport)
    # The gate opens and the monitor stops 0-5 loop turns later. One of those lands
    # where the prober's wake-up is scheduled but has not run when stop() empties the
    # queue: the prober then took from an empty deque (IndexError, logged by aiojobs).
    clock.advance(monitor._spread.spread)
    for _ in range(turns):
        await asyncio.sleep(0)
    await monitor.stop()
    assert _pings(transport) in (["lounge"], ["lounge", "den"])
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
    await transport.close()


async def test_probes_that_need_not_wait_start_one_per_loop_turn() -> None:
    # A bridge answering keeps the gate open, so nothing suspends the prober: spawning
    # every queued probe in one step held the event loop (~7 µs a channel).
    transport = MemoryTransport()
    await transport.connect()
    clock = VirtualClock()
    names = [f"room{i}" for i in range(40)]
    bindings = [binding(transport=transport, channel=ch, bridge=PROBING) for ch in names]
    monitor = _monitor(transport, clock, bindings, timeout=3600.0)
    monitor._spread.started()(True)  # a bridge answered: the gate stays open
    left: list[int] = []

    async def watch() -> None:
        while True:
            left.append(len(monitor._queued))
            await asyncio.sleep(0)

    watcher = asyncio.create_task(watch())
    try:
        await monitor.start()
        await wait_until(lambda: not monitor._queued and left[-1] == 0, what="all started")
    finally:
        watcher.cancel()
        await monitor.stop()
    started_per_turn = [a - b for a, b in itertools.pairwise(left)]
    assert max(started_per_turn) <= 1, started_per_turn
    await transport.close()


async def test_a_probe_no_bridge_answers_stays_unanswered_when_events_marked_the_bridge_up() -> (
    None
):
    # Events flowing mark a channel's bridge up; a probe that waited out its window must
    # still count as unanswered, or it opens the gate and the next probes (hanging as
    # well) start — and end — together again.
    transport = MemoryTransport()
    await transport.connect()
    clock = VirtualClock()
    bindings = [binding(transport=transport, channel=ch, bridge=PROBING) for ch in CHANNELS]
    monitor = _monitor(transport, clock, bindings, timeout=0.2)
    results: list[bool] = []
    start = monitor._spread.started

    def recording() -> Callable[[bool], None]:
        finished = start()

        def record(answered: bool) -> None:
            results.append(answered)
            finished(answered)

        return record

    monitor._spread.started = recording  # type: ignore[method-assign]
    for b in bindings:
        b.link.mark_up()  # as the channel's events do
    await monitor.start()
    try:
        await wait_until(lambda: results, within=10, what="the first probe's end")
    finally:
        await monitor.stop()
    assert results[0] is False
    assert not monitor._spread.answering
    await transport.close()
