"""The consumers compared: raw nats-py, a kryten-actors ``Bot``, the ``KrytenClient``.

Each counts events per channel in a :class:`Tally` and, for stamped envelopes,
records the delay from the publisher's ``perf_counter_ns()`` stamp to the moment
its handler starts with the decoded event (after ``json.loads`` for raw nats-py,
the typed ``ChatMessageEvent`` for the others).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import nats

from bench.envelopes import DOMAIN
from bench.peers import PEERS, peer_consumer
from kryten_actors.bot.app import Bot
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.client import KrytenClient
from kryten_actors.bot.handlers import on
from kryten_actors.observability.instrumentation import Instrumentation
from kryten_actors.protocol.events import ChatMessageEvent
from kryten_actors.protocol.subjects import ROBOT_EVENT_PREFIX

__all__ = ["CONSUMERS", "CountingActor", "Tally", "bot_config", "run_consumer"]


class Tally:
    """Events seen per channel; ``done`` is set when ``expected`` have arrived."""

    def __init__(self, channels: list[str], expected: int, *, stamped: bool = False) -> None:
        self.counts = dict.fromkeys(channels, 0)
        self.expected = expected
        self.total = 0
        self.stamped = stamped
        self.first_ns = 0
        self.last_ns = 0
        self.latencies_ns: list[int] = []
        self.done = asyncio.Event()

    def hit(self, channel: str, text: str) -> None:
        now = time.perf_counter_ns()
        if not self.total:
            self.first_ns = now
        self.total += 1
        self.counts[channel] += 1
        if self.stamped:
            self.latencies_ns.append(now - int(text))
        if self.total == self.expected:
            self.last_ns = now
            self.done.set()

    def missing(self, published: Mapping[str, int]) -> dict[str, int]:
        """Channels that received fewer events than were published to them."""
        return {
            ch: n - self.counts.get(ch, 0)
            for ch, n in published.items()
            if self.counts.get(ch, 0) != n
        }


class CountingActor(ChannelActor):
    """A channel actor whose trivial handler receives the typed event and counts it."""

    tally: ClassVar[Tally]

    @on("chatMsg")
    async def count(self, event: ChatMessageEvent) -> None:
        self.tally.hit(self.channel, event.payload.msg)


def bot_config(
    url: str,
    channels: list[str],
    *,
    capacity: int,
    overflow: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A kryten-robot profile config serving ``channels`` on the bench domain."""
    config: dict[str, Any] = {
        "nats": {"servers": [url]},
        "profile": "kryten-robot",
        "channels": [{"domain": DOMAIN, "channel": ch} for ch in channels],
        "mailbox": {"capacity": capacity, "overflow": overflow},
    }
    config.update(extra or {})
    return config


async def _raw(url: str, tally: Tally, ready: asyncio.Event, stop: asyncio.Event) -> dict[str, Any]:
    client = await nats.connect(url)

    async def handle(msg: Any) -> None:
        body = json.loads(msg.data)
        tally.hit(body["channel"], body["payload"]["msg"])

    await client.subscribe(f"{ROBOT_EVENT_PREFIX}.*.*", cb=handle)
    await client.flush()
    ready.set()
    await stop.wait()
    await client.close()
    return {}


async def _bot(
    url: str,
    tally: Tally,
    ready: asyncio.Event,
    stop: asyncio.Event,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    actor = options.get("actor_class", CountingActor)
    actor.tally = tally
    config = bot_config(
        url,
        options.get("channels", list(tally.counts)),
        capacity=options["capacity"],
        overflow=options["overflow"],
        extra=options.get("config"),
    )
    instrumentation: Instrumentation | None = options.get("instrumentation")
    bot = Bot(config, actor=actor, instrumentation=instrumentation)
    async with bot:
        ready.set()
        await stop.wait()
        health = bot.health()
    return {
        "router": health.router,
        "dead_letters": health.dead_letters,
        "restarts": sum(a.restarts for a in health.actors.values()),
        "dropped": sum(a.dropped for a in health.actors.values()),
    }


async def _client(
    url: str, tally: Tally, ready: asyncio.Event, stop: asyncio.Event, options: Mapping[str, Any]
) -> dict[str, Any]:
    channels = options.get("channels", list(tally.counts))
    config = bot_config(url, channels, capacity=options["capacity"], overflow=options["overflow"])
    client = KrytenClient(config)

    @client.on("chatMsg")
    async def count(event: ChatMessageEvent) -> None:
        tally.hit(event.channel, event.payload.msg)

    async with client:
        ready.set()
        await stop.wait()
        health = client.health()
    return {"router": health.router, "dead_letters": health.dead_letters}


CONSUMERS = ("raw", "bot", "client")


async def run_consumer(
    kind: str,
    url: str,
    tally: Tally,
    ready: asyncio.Event,
    stop: asyncio.Event,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """Run consumer ``kind`` until ``stop`` is set; ``ready`` once it receives events."""
    if kind == "raw":
        return await _raw(url, tally, ready, stop)
    if kind == "bot":
        return await _bot(url, tally, ready, stop, options)
    if kind == "client":
        return await _client(url, tally, ready, stop, options)
    if kind in PEERS:
        return await peer_consumer(kind, url, tally, ready, stop, options)
    msg = f"unknown consumer {kind!r}; use one of {CONSUMERS} or {PEERS}"
    raise ValueError(msg)
