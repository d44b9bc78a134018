"""One measured run of a consumer against the publisher process, shared by the cases."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from bench.consumers import Tally, run_consumer
from bench.envelopes import channel_names
from bench.processes import publisher

__all__ = ["measure", "wait_for_tally"]

_STALL_SECONDS = 5.0  # no new event for this long after publishing ended: the rest is lost


async def wait_for_tally(tally: Tally, bound: float) -> None:
    """Return when every expected event arrived, progress stalls, or ``bound`` passes."""
    deadline = time.monotonic() + bound
    seen, since = tally.total, time.monotonic()
    while not tally.done.is_set() and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.done.wait(), 0.5)
        if tally.total != seen:
            seen, since = tally.total, time.monotonic()
        elif time.monotonic() - since > _STALL_SECONDS:
            return


def _hold_loop_until(marker: Path, bound: float) -> None:
    deadline = time.monotonic() + bound
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.005)  # blocking on purpose: nothing in this process may read the socket


async def measure(
    kind: str,
    url: str,
    *,
    channels: int,
    events: int,
    rate: float = 0.0,
    options: Mapping[str, Any] | None = None,
    backlog: bool = False,
    excluded: tuple[str, ...] = (),
    bound: float = 120.0,
    settle: Callable[[], Awaitable[object]] | None = None,
) -> dict[str, Any]:
    """Publish ``events`` over ``channels`` from a separate process into consumer ``kind``.

    The result says what was published and received per channel (``lost``), the
    receive rate (first to last event), consumer CPU time per event and, when
    ``rate`` is set, the publish → handler latencies.

    ``backlog``: hold this process's event loop (a blocking wait, on purpose) until the
    server confirmed every publish, so the events queue up in the server and the
    socket; the consumer then drains them without the publisher competing for a core.

    ``excluded`` channels get events but are not expected to handle them (a channel
    crashing on purpose); every other channel must receive all of its events.

    ``settle``: awaited after the last event arrived and before the CPU time is read,
    for work the events left behind that belongs to their cost (exporting spans).
    """
    names = channel_names(channels)
    stamped = rate > 0
    counted = [name for name in names if name not in excluded]
    expected = sum(1 for seq in range(events) if names[seq % channels] not in excluded)
    tally = Tally(counted, expected, stamped=stamped)
    ready, stop = asyncio.Event(), asyncio.Event()
    opts = {"channels": names, **(options or {})}
    marker = Path(tempfile.mkdtemp(prefix="kryten-bench-")) / "published"
    consumer = asyncio.create_task(run_consumer(kind, url, tally, ready, stop, opts))
    try:
        done_file = str(marker) if backlog else None
        async with publisher(
            url, names, events, rate=rate, stamped=stamped, done_file=done_file
        ) as pub:
            await asyncio.wait_for(
                asyncio.wait(
                    {consumer, asyncio.ensure_future(ready.wait())},
                    return_when=asyncio.FIRST_COMPLETED,
                ),
                60,
            )
            if consumer.done():
                consumer.result()  # raises what the consumer failed with
            cpu_before = time.process_time()
            pub.go()
            if backlog:
                await asyncio.sleep(0)  # let the pipe write the go line
                _hold_loop_until(marker, bound)
            sent = await pub.result(timeout=bound)
            await wait_for_tally(tally, bound)
            if settle is not None:
                await settle()
            cpu = time.process_time() - cpu_before
    finally:
        stop.set()
        shutil.rmtree(marker.parent, ignore_errors=True)
        extra = await asyncio.wait_for(consumer, 60)
    published: dict[str, int] = sent["published"]
    missing = tally.missing({ch: n for ch, n in published.items() if ch not in excluded})
    span = (tally.last_ns - tally.first_ns) / 1e9 if tally.done.is_set() else 0.0
    result: dict[str, Any] = {
        "consumer": kind,
        "channels": channels,
        "events": events,
        "published": sum(published.values()),
        "received": tally.total,
        "lost": sum(missing.values()),
        "rate": expected / span if span > 0 and not missing else None,
        "cpu_us_per_event": cpu / max(tally.total, 1) * 1e6,
        "publish_seconds": sent["seconds"],
        **extra,
    }
    if stamped:
        result["latencies_ns"] = tally.latencies_ns
    return result
