"""Scale: start-up time, RSS and idle CPU with 1k and 10k idle channel actors.

Each size runs in a fresh process on NATS: RSS (``VmRSS``) is read before the
config is built and after ``Bot.start()`` returned (after a ``gc.collect()``); a
0-channel run gives the fixed cost, so "per actor" is
``(Δrss(n) - Δrss(0)) / n``. Idle CPU is the process CPU time over a few seconds
in which no event arrives.
"""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any

from bench.consumers import bot_config
from bench.envelopes import channel_names
from bench.report import table
from kryten_actors.bot.app import Bot
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.handlers import on
from kryten_actors.config import load_config
from kryten_actors.protocol.events import ChatMessageEvent

NAME = "scale"
SIZES = (0, 1_000, 10_000, 100_000)
PASSIVATE_AFTER = 300.0
CAPACITY = 1000
OVERFLOW = "drop_newest"


class IdleActor(ChannelActor):
    """A channel actor with one handler that never runs during the measurement."""

    @on("chatMsg")
    async def ignore(self, event: ChatMessageEvent) -> None:
        del event


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def plan(quick: bool) -> list[dict[str, Any]]:
    idle = 2.0 if quick else 5.0
    return [
        {"case": NAME, "actors": n, "idle_seconds": idle, "passivate": passivate}
        for passivate in (False, True)
        for n in SIZES
        if passivate or n <= 10_000
    ]


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    n = spec["actors"]
    gc.collect()
    rss_before = _rss_kib()
    started = time.perf_counter()
    # No bridge runs here, so the start-up probes (bridge.probe_on_start) would go
    # unanswered and keep the bot busy for probe_timeout * channels / 32 seconds: that is
    # start-up work, measured apart (docs/performance.md#scale), not the idle cost
    extra: dict[str, Any] = {"bridge": {"probe_on_start": False}}
    if spec.get("passivate"):
        extra["passivate_after"] = PASSIVATE_AFTER
    config = load_config(
        bot_config(spec["url"], channel_names(n), capacity=CAPACITY, overflow=OVERFLOW, extra=extra)
    )
    bot = Bot(config, actor=IdleActor)
    built = time.perf_counter()
    gc.collect()
    rss_config = _rss_kib()
    configured = time.perf_counter()
    await bot.start()
    running = time.perf_counter()
    gc.collect()
    rss_after = _rss_kib()
    health_started = time.perf_counter()
    bot.health()
    health_s = time.perf_counter() - health_started
    tasks = len(asyncio.all_tasks())
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    await asyncio.sleep(spec["idle_seconds"])  # the measurement: nothing happens
    idle_cpu = time.process_time() - cpu_before
    idle_wall = time.perf_counter() - wall_before
    stop_started = time.perf_counter()
    await bot.stop()
    return {
        "construct_s": built - started,
        "start_s": running - configured,
        "health_s": health_s,
        "rss_config_kib": rss_config - rss_before,
        "passivated": bot.channels.passivated,
        "stop_s": time.perf_counter() - stop_started,
        "rss_delta_kib": rss_after - rss_before,
        "rss_kib": rss_after,
        "tasks": tasks,
        "idle_cpu_pct": 100 * idle_cpu / idle_wall,
    }


def summarize(results: list[dict[str, Any]]) -> str:
    rows = []
    for passivate in (False, True):
        runs = sorted((r for r in results if bool(r.get("passivate")) == passivate), key=_size)
        base = next((r for r in runs if r["actors"] == 0), None)
        for r in runs:
            n = r["actors"]
            per = beyond = None
            if base is not None and n:
                per = (r["rss_delta_kib"] - base["rss_delta_kib"]) / n
                config = r["rss_config_kib"] - base["rss_config_kib"]
                beyond = (r["rss_delta_kib"] - base["rss_delta_kib"] - config) / n
            rows.append(
                [
                    "passivated" if passivate else "running",
                    n,
                    r["construct_s"] + r["start_s"],
                    r["construct_s"],
                    r["start_s"],
                    r["rss_kib"] / 1024,
                    per,
                    beyond,
                    r["health_s"],
                    r["tasks"],
                    r["idle_cpu_pct"],
                    r["stop_s"],
                ]
            )
    head = (
        "Bot on NATS (kryten-robot profile, one wildcard subscription), channel actors with "
        f"one `@on` handler and no traffic; mailbox capacity {CAPACITY}, overflow `{OVERFLOW}`. "
        "*running*: every configured channel's actor started (today's default); "
        f"*passivated*: `passivate_after: {PASSIVATE_AFTER:g}` — channels start passivated "
        "and an actor exists only once its channel has traffic. KiB per channel = "
        "(ΔRSS(n) - ΔRSS(0)) / n with the config entry; *beyond config* subtracts what "
        "building the config grew RSS by. Start-up probes of the bridge off (no bridge "
        "runs; unanswered probes are start-up work, see below)."
    )
    body = table(
        [
            "mode",
            "channels",
            "start-up s",
            "Bot() s",
            "start() s",
            "RSS MiB",
            "KiB / channel",
            "KiB beyond config",
            "health() s",
            "asyncio tasks",
            "idle CPU %",
            "stop() s",
        ],
        rows,
    )
    return f"{head}\n\n{body}"


def _size(result: dict[str, Any]) -> int:
    return int(result["actors"])
