"""The moderation, DJ, tracing and simulated-bridge examples, run briefly as programs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from kryten_actors.config import NatsConfig
from kryten_actors.transport.base import InboundMessage
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.bot.support import Collector, chat
from tests.bot.test_examples import publish_until_answered, start, stop
from tests.conftest import NatsServerFactory
from tests.polling import wait_until

# every example runs as a program in a subprocess
pytestmark = pytest.mark.slow


class FakeBridge:
    """Answers ``kryten.robot.command`` like kryten-robot: success, ``uid`` for addvideo."""

    def __init__(self, transport: NatsTransport) -> None:
        self.transport = transport
        self.requests: list[dict[str, object]] = []

    async def __call__(self, message: InboundMessage) -> None:
        body = json.loads(message.data)
        if str(body["command"]).startswith(("state.", "system.")):
            return  # the bot's start-up probes: this bridge has no state to tell
        self.requests.append(body)
        data: dict[str, object] = {"success": True}
        if body["command"] == "addvideo":
            data["uid"] = 7
        reply = {"service": "robot", "command": body["command"], "success": True, "data": data}
        await self.transport.publish(message.reply, json.dumps(reply).encode())

    def said(self) -> list[str]:
        return [str(r["args"]["message"]) for r in self.requests if r["command"] == "say"]  # type: ignore[index]


@pytest.fixture
async def server(nats_server_factory: NatsServerFactory) -> NatsServer:
    return await nats_server_factory()


@pytest.fixture
async def bridge(server: NatsServer) -> AsyncIterator[tuple[NatsTransport, FakeBridge]]:
    transport = NatsTransport(NatsConfig(servers=[server.url]))
    await transport.connect()
    fake = FakeBridge(transport)
    await transport.subscribe("kryten.robot.command", fake)
    yield transport, fake
    await transport.close()


async def test_moderation_bot_kicks_on_a_banned_word(
    server: NatsServer, bridge: tuple[NatsTransport, FakeBridge]
) -> None:
    transport, fake = bridge
    process = await start("moderation_bot.py", NATS_URL=server.url, BANNED_WORDS="spamword")
    try:
        async with asyncio.timeout(30):
            while not fake.requests:
                await transport.publish(*chat("kryten-robot", "buy spamword now", user="mallory"))
                try:
                    await wait_until(lambda: bool(fake.requests), within=0.5)
                except AssertionError:
                    continue
    finally:
        await stop(process)
    kick = fake.requests[0]
    assert kick["command"] == "kick"
    assert kick["args"] == {"name": "mallory", "reason": "banned word"}
    assert kick["meta"]["channel"] == "lounge"  # type: ignore[index]


async def test_dj_bot_reports_the_uid_the_bridge_returned(
    server: NatsServer, bridge: tuple[NatsTransport, FakeBridge]
) -> None:
    transport, fake = bridge
    process = await start("dj_bot.py", NATS_URL=server.url)
    try:
        async with asyncio.timeout(30):
            while "queued as #7" not in fake.said():
                await transport.publish(*chat("kryten-robot", "!queue yt dQw4w9WgXcQ"))
                try:
                    await wait_until(lambda: "queued as #7" in fake.said(), within=0.5)
                except AssertionError:
                    continue
    finally:
        await stop(process)
    add = next(r for r in fake.requests if r["command"] == "addvideo")
    assert add["args"] == {"type": "yt", "id": "dQw4w9WgXcQ", "pos": "end", "temp": True}


async def test_tracing_bot_answers_with_trace_headers(server: NatsServer) -> None:
    transport = NatsTransport(NatsConfig(servers=[server.url]))
    await transport.connect()
    collector = Collector()
    await transport.subscribe("cytube.commands.>", collector)
    # no collector listens on this port: exports fail quietly, the bot carries on
    process = await start(
        "tracing_bot.py",
        NATS_URL=server.url,
        KRYTEN_PROFILE="seed",
        OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9",
    )
    try:
        await publish_until_answered(transport, collector, chat("seed", "!hi"))
    finally:
        await stop(process)
        await transport.close()
    command = collector.messages[0]
    assert json.loads(command.data)["payload"]["message"].startswith("hi alice (trace ")
    assert command.headers is not None
    assert command.headers["traceparent"].startswith("00-")


async def test_simulated_bridge_publishes_events(server: NatsServer) -> None:
    transport = NatsTransport(NatsConfig(servers=[server.url]))
    await transport.connect()
    collector = Collector()
    await transport.subscribe("kryten.events.cytube.>", collector)
    process = await start(
        "simulated_bridge.py",
        NATS_URL=server.url,
        KRYTEN_PROFILE="kryten-robot",
        CYTUBE_CHANNELS="cytu.be/lounge,cytu.be/movies",
        EVENTS_PER_SECOND="50",
    )
    try:
        await wait_until(
            lambda: {m.subject.split(".")[3] for m in collector.messages} >= {"lounge", "movies"},
            within=30,
            what="events from both channels",
        )
    finally:
        await stop(process)
        await transport.close()
    assert all(json.loads(m.data)["domain"] == "cytu.be" for m in collector.messages)
