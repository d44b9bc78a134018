"""``python -m bench`` still runs: every benchmark's cases at a toy size.

Not a measurement (speed is measured by ``python -m bench``, never asserted here). The
harnesses reach into the code they measure (the lean parser's frame routes, the router's
table, the tracing relay), so a change there can leave a benchmark that no longer fits:
the per-stage profile once fed its frames to the connection's reply inbox and spun
forever. Each case runs through the bench's own worker process (``bench.worker``, as
``python -m bench`` runs it) on a nats-server of the test's, and its table is rendered.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import BENCHMARKS, _run_case
from bench.consumers import CONSUMERS
from bench.tracing_overhead import SETTINGS
from kryten_actors.transport.server import NatsServer
from tests.conftest import NatsServerFactory
from tests.polling import wait_until

_EVENTS = 600

#: Each benchmark's kinds of case, shrunk (the peers' cases need the bench's own
#: environment with kryten-py and FastStream installed, and are left to ``python -m bench``).
SMOKE: dict[str, list[dict[str, Any]]] = {
    "throughput": [{"consumer": kind, "channels": 3, "events": _EVENTS} for kind in CONSUMERS],
    "profile": [{"channel_counts": [1, 3], "events": _EVENTS, "rounds": 1}],
    "latency": [
        {"consumer": kind, "offered": 1_000, "channels": 3, "events": 300}
        for kind in ("raw", "bot", "command")
    ],
    "scale": [
        {"actors": 20, "idle_seconds": 0.2, "passivate": passivate} for passivate in (False, True)
    ],
    "supervision": [
        {"kind": "restart", "restarts": 3},
        {"kind": "baseline", "events": _EVENTS},
        {"kind": "storm", "events": _EVENTS},
    ],
    "tracing_overhead": [{"tracing": name, "events": _EVENTS, "rep": 0} for name in SETTINGS],
    "health": [{"channels": 20, "repeats": 1}],
    "jetstream": [
        {"delivery": "core", "channels": 3, "events": _EVENTS},
        {"delivery": "jetstream", "channels": 3, "events": _EVENTS},
        {"delivery": "failover", "channels": 3},
    ],
}


def test_every_benchmark_has_a_smoke_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    # planned without the peers: their environment is installed from the network on first use
    monkeypatch.setattr("bench.throughput.peer_python", lambda: None)
    assert set(SMOKE) == set(BENCHMARKS)
    for name in BENCHMARKS:  # the shrunk cases name the keys the real plan uses
        planned = importlib.import_module(f"bench.{name}").plan(quick=True)
        keys = set().union(*(case.keys() for case in planned)) - {"python"}
        for case in SMOKE[name]:
            assert set(case) | {"case"} <= keys, (name, case)


@pytest.mark.parametrize("name", BENCHMARKS)
async def test_the_benchmark_runs_at_a_toy_size(
    name: str, nats_server_factory: NatsServerFactory
) -> None:
    module = importlib.import_module(f"bench.{name}")
    server = await nats_server_factory(**getattr(module, "SERVER", {}))
    results = []
    async with asyncio.timeout(240):
        for case in SMOKE[name]:
            result = await _run_case({"case": name, **case, "url": server.url, "quick": True})
            assert "error" not in result, result
            results.append(result)
    text = module.summarize(results)
    assert "LOST" not in text, text
    assert "FAILED" not in text, text
    assert "\n|" in text  # a table


def _workers(marker: str) -> list[int]:
    """Processes whose command line holds ``marker`` (bench workers of one test)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue  # ended meanwhile
    return found


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
async def test_a_cancelled_case_leaves_no_worker_behind(nats_server: NatsServer) -> None:
    marker = f"bench-smoke-{time.time_ns()}"
    # a case that sits idle for two minutes (scale's idle window)
    spec = {"case": "scale", "actors": 0, "idle_seconds": 120.0, "passivate": False}
    task = asyncio.create_task(_run_case({**spec, "url": nats_server.url, "marker": marker}))
    await wait_until(lambda: bool(_workers(marker)), what="the worker to start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not _workers(marker)
