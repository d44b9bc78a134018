"""Supervision: restart latency, and healthy channels' throughput during a crash storm.

*Restart latency*: a channel's handler raises on a ``crash`` event; the next event,
already queued behind it, is handled by the new instance. Measured from the raise
to ``on_start`` of the new instance and to its handler starting, over many
restarts, with the backoff set to 1 µs so the runtime's own cost shows (the
configured backoff — 0.1 s doubling by default — adds to it by design).

*Crash storm*: 100 channels drain a backlog published by a separate process while
``ch0000`` raises on every event (restarting each time, without limit); the other
99 channels must receive every event. Compared, in the same run, with the same
actor when nothing crashes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import nats

from bench.consumers import Tally, bot_config
from bench.envelopes import chat_envelope, subject_for
from bench.measurement import measure
from bench.report import percentile, table
from kryten_actors.bot.app import Bot
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.handlers import on
from kryten_actors.protocol.events import ChatMessageEvent

NAME = "supervision"
CAPACITY = 1000
OVERFLOW = "drop_newest"  # under `block` a crashing channel's full mailbox would stall the router
CRASHER = "ch0000"
NO_BACKOFF = {
    "max_restarts": 1_000_000_000,
    "within_seconds": 1.0,
    "min_backoff": 1e-6,
    "max_backoff": 1e-6,
    "jitter": 0.0,
}


class StormActor(ChannelActor):
    """Counts events; the ``CRASHER`` channel raises on every one instead (or, in the
    baseline, handles it without counting: it is not one of the healthy channels)."""

    tally: ClassVar[Tally]
    crash: ClassVar[bool] = True

    @on("chatMsg")
    async def count(self, event: ChatMessageEvent) -> None:
        if self.channel == CRASHER:
            if self.crash:
                raise RuntimeError("crash storm")
            return
        self.tally.hit(self.channel, event.payload.msg)


class RestartProbe(ChannelActor):
    """Raises on ``crash``; notes when a new instance starts and handles ``ok``."""

    failed_ns: ClassVar[int] = 0
    started_ns: ClassVar[int] = 0
    handled_ns: ClassVar[int] = 0
    handled: ClassVar[asyncio.Event]

    async def on_start(self) -> None:
        RestartProbe.started_ns = time.perf_counter_ns()

    @on("chatMsg")
    async def probe(self, event: ChatMessageEvent) -> None:
        if event.payload.msg == "crash":
            RestartProbe.failed_ns = time.perf_counter_ns()
            raise RuntimeError("restart probe")
        RestartProbe.handled_ns = time.perf_counter_ns()
        self.handled.set()


def plan(quick: bool) -> list[dict[str, Any]]:
    events = 20_000 if quick else 100_000
    restarts = 50 if quick else 300
    repeats = 1 if quick else 3
    storm = [
        {"case": NAME, "kind": kind, "events": events}
        for _ in range(repeats)
        for kind in ("baseline", "storm")
    ]
    return [{"case": NAME, "kind": "restart", "restarts": restarts}, *storm]


async def _restart_latency(url: str, count: int) -> dict[str, Any]:
    RestartProbe.handled = asyncio.Event()
    config = bot_config(
        url, [CRASHER], capacity=CAPACITY, overflow=OVERFLOW, extra={"supervision": NO_BACKOFF}
    )
    crash = chat_envelope(CRASHER, 0).replace(b'"msg": "hello', b'"msg": "crash', 1)
    crash = crash.replace(b'"msg": "crash from user 0 (0)"', b'"msg": "crash"')
    ok = chat_envelope(CRASHER, 1)
    subject = subject_for(CRASHER)
    to_start, to_handled = [], []
    async with Bot(config, actor=RestartProbe) as bot:
        client = await nats.connect(url)
        for _ in range(count):
            RestartProbe.handled.clear()
            await client.publish(subject, crash)
            await client.publish(subject, ok)
            await asyncio.wait_for(RestartProbe.handled.wait(), 10)
            to_start.append((RestartProbe.started_ns - RestartProbe.failed_ns) / 1e6)
            to_handled.append((RestartProbe.handled_ns - RestartProbe.failed_ns) / 1e6)
        await client.close()
        restarts = sum(a.restarts for a in bot.health().actors.values())
    to_start.sort()
    to_handled.sort()
    return {
        "restarts_seen": restarts,
        "start_ms": [percentile(to_start, q) for q in (0.5, 0.99)] + [to_start[-1]],
        "handled_ms": [percentile(to_handled, q) for q in (0.5, 0.99)] + [to_handled[-1]],
    }


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    if spec["kind"] == "restart":
        return await _restart_latency(spec["url"], spec["restarts"])
    StormActor.crash = spec["kind"] == "storm"
    return await measure(
        "bot",
        spec["url"],
        channels=100,
        events=spec["events"],
        options={
            "capacity": CAPACITY,
            "overflow": OVERFLOW,
            "actor_class": StormActor,
            "config": {"supervision": NO_BACKOFF},
        },
        backlog=True,
        excluded=(CRASHER,),
    )


def summarize(results: list[dict[str, Any]]) -> str:
    parts = []
    restart = next((r for r in results if r["kind"] == "restart"), None)
    if restart is not None:
        parts.append(
            f"Restart latency over {restart['restarts']} restarts "
            f"({restart['restarts_seen']} counted by the supervisor), backoff 1 µs, ms:"
        )
        parts.append(
            table(
                ["failure →", "p50", "p99", "max"],
                [
                    ["new instance's on_start", *restart["start_ms"]],
                    ["new instance handling the next event", *restart["handled_ms"]],
                ],
            )
        )
    rows = []
    best: dict[str, tuple[float | None, float | None]] = {}
    for kind in ("baseline", "storm"):
        runs = [r for r in results if r["kind"] == kind]
        if not runs:
            continue
        lost = sum(r["lost"] for r in runs)
        rates = [r["rate"] for r in runs if r["rate"]]
        cpus = [r["cpu_us_per_event"] for r in runs if not r["lost"]]
        best[kind] = (max(rates) if rates else None, min(cpus) if cpus else None)
        last = runs[-1]
        rows.append(
            [
                "ch0000 crashes on every event" if kind == "storm" else "nothing crashes",
                best[kind][0],
                best[kind][1],
                lost,
                last.get("restarts", 0),
                sum(last.get("dead_letters", {}).values()),
            ]
        )
    if rows:
        events = results[-1]["events"]
        parts.append(
            f"Crash storm: {events:,} events over 100 channels (99 healthy), best of "
            f"{len(results) // 2} run(s); mailbox capacity {CAPACITY}, overflow `{OVERFLOW}`, "
            "restarts unlimited with 1 µs backoff. Healthy channels must get every event."
        )
        parts.append(
            table(
                [
                    "run",
                    "healthy ev/s",
                    "CPU µs/healthy ev",
                    "healthy lost",
                    "restarts (last run)",
                    "dead letters (last run)",
                ],
                rows,
            )
        )
        b, s = best.get("baseline", (None, None)), best.get("storm", (None, None))
        if b[0] and s[0]:
            parts.append(
                f"Healthy throughput during the storm: {s[0] / b[0]:.2f} times the baseline."
            )
    return "\n\n".join(parts)
