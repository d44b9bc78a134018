"""Clocks: the virtual clock fires in time order; the monotonic one uses loop timers."""

from __future__ import annotations

import asyncio

import pytest

from kryten_actors.runtime.clock import Cancellable, MonotonicClock, VirtualClock


def test_virtual_time_only_moves_on_advance() -> None:
    clock = VirtualClock(start=10.0)
    fired: list[tuple[str, float]] = []
    clock.call_later(2.0, lambda: fired.append(("b", clock.now())))
    clock.call_later(1.0, lambda: fired.append(("a", clock.now())))
    clock.call_later(2.0, lambda: fired.append(("c", clock.now())))
    assert clock.now() == 10.0
    assert (clock.pending, clock.next_due) == (3, 11.0)
    clock.advance(1.5)
    assert fired == [("a", 11.0)]
    assert clock.now() == 11.5
    clock.advance(10.0)
    assert fired == [("a", 11.0), ("b", 12.0), ("c", 12.0)]
    assert (clock.now(), clock.pending, clock.next_due) == (21.5, 0, None)


def test_callbacks_scheduled_by_callbacks_fire_within_the_window() -> None:
    clock = VirtualClock()
    fired: list[float] = []

    def tick() -> None:
        fired.append(clock.now())
        if len(fired) < 10:
            clock.call_later(1.0, tick)

    clock.call_later(1.0, tick)
    clock.advance(3.5)
    assert fired == [1.0, 2.0, 3.0]
    clock.advance(0.5)
    assert fired == [1.0, 2.0, 3.0, 4.0]


def test_cancel_and_zero_or_negative_delays() -> None:
    clock = VirtualClock()
    fired: list[str] = []
    handle = clock.call_later(1.0, lambda: fired.append("cancelled"))
    clock.call_later(-5.0, lambda: fired.append("now"))
    assert isinstance(handle, Cancellable)
    handle.cancel()
    handle.cancel()
    clock.advance(0)
    assert fired == ["now"]
    clock.advance(5)
    assert fired == ["now"]
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_a_raising_callback_propagates_and_keeps_the_rest() -> None:
    clock = VirtualClock()
    fired: list[str] = []

    def boom() -> None:
        raise RuntimeError("boom")

    clock.call_later(1.0, boom)
    clock.call_later(2.0, lambda: fired.append("later"))
    with pytest.raises(RuntimeError):
        clock.advance(5)
    assert clock.now() == 1.0
    clock.advance(4)
    assert fired == ["later"]


async def test_monotonic_clock_uses_the_loop() -> None:
    clock = MonotonicClock()
    loop = asyncio.get_running_loop()
    assert abs(clock.now() - loop.time()) < 1.0
    fired = asyncio.Event()
    clock.call_later(0.0, fired.set)
    await asyncio.wait_for(fired.wait(), 1.0)
    never = clock.call_later(0.0, pytest.fail)
    never.cancel()
    await asyncio.sleep(0)
