"""``delivery: jetstream`` against ``core``, and the failover time of a sharded bot.

Throughput: the throughput benchmark's method (a backlog drained by a ``Bot`` with a
counting actor, 100 channels) with ``delivery: core`` and ``delivery: jetstream``
interleaved in one run on one JetStream-enabled server; the stream is deleted after
each JetStream run so the core runs never pay for storing events. Failover: two shard
members (processes) share 100 channels; one is killed with SIGKILL and the time until
the survivor has started every one of its channels is measured (``lease_ttl`` 4 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nats

from bench.envelopes import channel_names
from bench.measurement import measure
from bench.processes import ROOT
from bench.report import table
from kryten_actors.bot.jetstream import consumer_name
from kryten_actors.bot.sharding import rendezvous_owner

NAME = "jetstream"
SERVER = {"jetstream": True}
CHANNELS = 100
TTL = 4.0
_SERVICE = "kryten-actors"


def plan(quick: bool) -> list[dict[str, Any]]:
    events = 20_000 if quick else 100_000
    repeats = 1 if quick else 3
    cases: list[dict[str, Any]] = [
        {"case": NAME, "delivery": delivery, "channels": CHANNELS, "events": events}
        for _ in range(repeats)
        for delivery in ("core", "jetstream")
    ]
    cases += [{"case": NAME, "delivery": "failover", "channels": CHANNELS}] * repeats
    return cases


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    if spec["delivery"] == "failover":
        return await _failover(spec["url"], spec["channels"])
    config: dict[str, Any] = {"delivery": spec["delivery"], "profile_check_after": None}
    try:
        return await measure(
            "bot",
            spec["url"],
            channels=spec["channels"],
            events=spec["events"],
            options={"capacity": 1000, "overflow": "block", "config": config},
            backlog=True,
        )
    finally:
        if spec["delivery"] == "jetstream":
            client = await nats.connect(spec["url"])
            with contextlib.suppress(Exception):
                await client.jetstream().delete_stream("KRYTEN_EVENTS")
            await client.close()


async def _member(url: str, record: Path, member: str) -> asyncio.subprocess.Process:
    plan = {"url": url, "channels": CHANNELS, "record": str(record), "member": member, "ttl": TTL}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.shard_member",
        json.dumps(plan),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    assert line.strip() == b"ready", line
    return process


def _owners(record: Path) -> dict[str, float]:
    """channel -> the time of its last start."""
    text = record.read_text() if record.exists() else ""
    return {ch: float(t) for ch, t in (line.split() for line in text.splitlines())}


async def _until(condition: Any, bound: float) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.01)


async def _failover(url: str, channels: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="kryten-bench-"))
    records = {m: folder / f"{m}.txt" for m in ("a", "b")}
    names = channel_names(channels)
    of_b = [ch for ch in names if rendezvous_owner(_lease(ch), ["a", "b"]) == "b"]
    members = [await _member(url, records["a"], "a"), await _member(url, records["b"], "b")]
    try:
        await _until(lambda: set(of_b) <= set(_owners(records["b"])), 60)
        members[1].send_signal(signal.SIGKILL)
        killed = time.time()
        await members[1].wait()
        await _until(lambda: all(_owners(records["a"]).get(ch, 0) > killed for ch in of_b), 60)
        taken = max(_owners(records["a"])[ch] for ch in of_b) - killed
    finally:
        for process in members:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 60)
        shutil.rmtree(folder, ignore_errors=True)
    return {"moved": len(of_b), "failover_seconds": taken}


def _lease(channel: str) -> str:
    return consumer_name(_SERVICE, channel)  # kryten-robot keys carry no domain


def summarize(results: list[dict[str, Any]]) -> str:
    best: dict[str, float] = {}
    lost = 0
    for r in results:
        if r["delivery"] in ("core", "jetstream") and r.get("rate"):
            best[r["delivery"]] = max(best.get(r["delivery"], 0.0), r["rate"])
        lost += r.get("lost", 0)
    cpu = {
        d: min(r["cpu_us_per_event"] for r in results if r["delivery"] == d)
        for d in ("core", "jetstream")
        if any(r["delivery"] == d for r in results)
    }
    failovers = [r["failover_seconds"] for r in results if r["delivery"] == "failover"]
    moved = max((r["moved"] for r in results if r["delivery"] == "failover"), default=0)
    ratio = best["jetstream"] / best["core"] if best.get("core") and best.get("jetstream") else None
    rows = [
        ["core", best.get("core"), cpu.get("core"), 1.0],
        ["jetstream", best.get("jetstream"), cpu.get("jetstream"), ratio],
    ]
    text = table(["delivery", "ev/s (best)", "CPU µs/ev", "x core"], rows)
    text += f"\n\n{CHANNELS} channels, backlog drained by a `Bot` (best of the runs). "
    text += "No run lost an event." if not lost else f"LOST {lost} events."
    if failovers:
        text += (
            f"\n\nFailover (two members, SIGKILL one; `lease_ttl` {TTL:g} s): its {moved} "
            f"channels were served again after {min(failovers):.2f} to {max(failovers):.2f} s "
            f"({len(failovers)} run(s))."
        )
    return text
