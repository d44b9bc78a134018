"""Health at scale: what a health request costs and weighs with 1k, 10k and 100k channels.

Each size runs in a fresh process: a bot with that many configured (idle) channels on
NATS, asked over NATS by a second connection for its summary (the snapshot cache
emptied before each request, so each pays the full cost), a page of up to 10,000
channel rows, a page sorted by restarts (stats for every channel), and ``$SRV.STATS``;
then ``bot.health()``, the full in-process report.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from bench.consumers import bot_config
from bench.envelopes import channel_names
from bench.report import table
from kryten_actors.bot.app import Bot
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.handlers import on
from kryten_actors.config.connection import NatsConfig
from kryten_actors.protocol.events import ChatMessageEvent
from kryten_actors.transport.base import RetryPolicy
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_service import health_subject

NAME = "health"
SIZES = (1_000, 10_000, 100_000)
REPEATS = 5


class IdleActor(ChannelActor):
    """A channel actor with one handler that never runs during the measurement."""

    @on("chatMsg")
    async def ignore(self, event: ChatMessageEvent) -> None:
        del event


def plan(quick: bool) -> list[dict[str, Any]]:
    sizes = SIZES[:2] if quick else SIZES
    return [{"case": NAME, "channels": n, "repeats": 3 if quick else REPEATS} for n in sizes]


async def _timed(bot: Bot, nats: NatsTransport, subject: str, body: dict[str, Any] | None) -> Any:
    bot.health_reporter.invalidate()
    started = time.perf_counter()
    reply = await nats.request(subject, json.dumps(body).encode() if body else b"", timeout=30)
    return time.perf_counter() - started, len(reply.data)


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    n = spec["channels"]
    config = bot_config(
        spec["url"], channel_names(n), capacity=1000, overflow="drop_newest",
        extra={"service_name": "bench-health", "max_channels": n},
    )  # fmt: skip
    async with Bot(config, actor=IdleActor) as bot:
        service = bot.health_service
        assert service is not None
        nats = NatsTransport(NatsConfig(servers=[spec["url"]]), retry=RetryPolicy(attempts=1))
        async with nats:
            subject = health_subject("bench-health")
            summaries = [await _timed(bot, nats, subject, None) for _ in range(spec["repeats"])]
            page = await _timed(bot, nats, subject, {"view": "channels", "limit": 10_000})
            ranked = await _timed(bot, nats, subject, {"view": "channels", "sort": "restarts"})
            stats = await _timed(bot, nats, f"$SRV.STATS.bench-health.{service.id}", None)
            max_payload = nats._client.max_payload if nats._client else 0
        started = time.perf_counter()
        full = bot.health()
        full_s = time.perf_counter() - started
    return {
        "summary_ms": 1000 * statistics.median(t for t, _ in summaries),
        "summary_best_ms": 1000 * min(t for t, _ in summaries),
        "summary_bytes": summaries[0][1],
        "page_ms": 1000 * page[0],
        "page_bytes": page[1],
        "ranked_ms": 1000 * ranked[0],
        "stats_bytes": stats[1],
        "max_payload": max_payload,
        "full_s": full_s,
        "full_channels": len(full.channels),
    }


def summarize(results: list[dict[str, Any]]) -> str:
    rows = [
        [
            r["channels"],
            r["summary_ms"],
            r["summary_best_ms"],
            r["summary_bytes"],
            r["page_ms"],
            r["page_bytes"],
            r["ranked_ms"],
            r["stats_bytes"],
            r["max_payload"],
            r["full_s"],
        ]
        for r in sorted(results, key=lambda r: r["channels"])
    ]
    head = (
        "A bot with N configured idle channels on NATS, asked by a second connection in the "
        "same process (so each time includes the bot's work). Summary: median and best of "
        "the repeats, snapshot cache emptied each time. Page: up to 10,000 rows in name order "
        "(cut at max_payload). Ranked: a 100-row page sorted by restarts. `bot.health()`: the "
        "full in-process report of every channel."
    )
    body = table(
        [
            "channels",
            "summary ms",
            "best ms",
            "summary bytes",
            "page ms",
            "page bytes",
            "ranked ms",
            "$SRV.STATS bytes",
            "max_payload",
            "bot.health() s",
        ],
        rows,
    )
    return f"{head}\n\n{body}"
