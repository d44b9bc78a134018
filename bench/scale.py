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
from kryten_actors.protocol.events import ChatMessageEvent

NAME = "scale"
SIZES = (0, 1_000, 10_000)
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
    return [{"case": NAME, "actors": n, "idle_seconds": idle} for n in SIZES]


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    n = spec["actors"]
    gc.collect()
    rss_before = _rss_kib()
    started = time.perf_counter()
    config = bot_config(spec["url"], channel_names(n), capacity=CAPACITY, overflow=OVERFLOW)
    bot = Bot(config, actor=IdleActor)
    built = time.perf_counter()
    await bot.start()
    running = time.perf_counter()
    gc.collect()
    rss_after = _rss_kib()
    tasks = len(asyncio.all_tasks())
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    await asyncio.sleep(spec["idle_seconds"])  # the measurement: nothing happens
    idle_cpu = time.process_time() - cpu_before
    idle_wall = time.perf_counter() - wall_before
    stop_started = time.perf_counter()
    await bot.stop()
    return {
        "construct_s": built - started,
        "start_s": running - built,
        "stop_s": time.perf_counter() - stop_started,
        "rss_delta_kib": rss_after - rss_before,
        "rss_kib": rss_after,
        "tasks": tasks,
        "idle_cpu_pct": 100 * idle_cpu / idle_wall,
    }


def summarize(results: list[dict[str, Any]]) -> str:
    base = next((r for r in results if r["actors"] == 0), None)
    rows = []
    for r in sorted(results, key=lambda r: r["actors"]):
        n = r["actors"]
        per_actor = (
            (r["rss_delta_kib"] - base["rss_delta_kib"]) / n if base is not None and n else None
        )
        rows.append(
            [
                n,
                r["construct_s"] + r["start_s"],
                r["construct_s"],
                r["start_s"],
                r["rss_kib"] / 1024,
                r["rss_delta_kib"] / 1024,
                per_actor,
                r["tasks"],
                r["idle_cpu_pct"],
                r["stop_s"],
            ]
        )
    head = (
        f"Bot on NATS (kryten-robot profile, one wildcard subscription), idle channel actors "
        f"with one `@on` handler; mailbox capacity {CAPACITY}, overflow `{OVERFLOW}`. "
        "RSS per actor = (ΔRSS(n) - ΔRSS(0)) / n, including each channel's config entry."
    )
    body = table(
        [
            "actors",
            "start-up s",
            "Bot() s",
            "start() s",
            "RSS MiB",
            "ΔRSS MiB",
            "KiB / actor",
            "asyncio tasks",
            "idle CPU %",
            "stop() s",
        ],
        rows,
    )
    return f"{head}\n\n{body}"
