"""KrytenClient: the seed's decorator API on a real nats-server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kryten_actors import ChatMessageEvent, KrytenClient, RawEvent
from kryten_actors.config import NatsConfig
from kryten_actors.protocol.commands import SendPM
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.bot.support import Collector, chat
from tests.conftest import NatsServerFactory
from tests.polling import wait_until


def config(server: NatsServer) -> dict[str, Any]:
    return {
        "nats": {"servers": [server.url]},
        "shutdown_timeout": 5.0,
        "channels": [
            {"domain": "cytu.be", "channel": "lounge"},
            {"domain": "example.org", "channel": "lounge"},
            {"domain": "cytu.be", "channel": "movies"},
        ],
    }


def connected(client: KrytenClient) -> bool:
    """``client.is_connected``, read through a call so type narrowing does not stick."""
    return client.is_connected


@pytest.fixture
async def server(nats_server_factory: NatsServerFactory) -> NatsServer:
    return await nats_server_factory()


@pytest.fixture
async def observer(server: NatsServer) -> Any:
    transport = NatsTransport(NatsConfig(servers=[server.url]))
    await transport.connect()
    collector = Collector()
    await transport.subscribe("cytube.commands.>", collector)
    yield transport, collector
    await transport.close()


async def test_async_with_handlers_filters_and_channel_first_commands(
    server: NatsServer, observer: Any
) -> None:
    bus, commands = observer
    client = KrytenClient(config(server))
    seen: list[tuple[str, str, str]] = []

    @client.on("chatMsg")
    async def every_chat(event: ChatMessageEvent) -> None:
        seen.append(("any", event.domain, event.channel))
        if event.message == "!hi":
            await client.send_chat(event.channel, f"hi {event.username}", domain=event.domain)

    @client.on("CHATMSG", channel="MOVIES")
    async def movies_only(event: ChatMessageEvent) -> None:
        seen.append(("movies", event.domain, event.channel))

    @client.on("chatmsg", channel="lounge", domain="example.org")
    async def org_lounge(event: ChatMessageEvent) -> None:
        seen.append(("org", event.domain, event.channel))

    was_connected = client.is_connected
    async with client:
        assert not was_connected
        assert client.is_connected
        assert {(c.domain, c.channel) for c in client.channels} == {
            ("cytu.be", "lounge"),
            ("example.org", "lounge"),
            ("cytu.be", "movies"),
        }
        await bus.publish(*chat("seed", "!hi", channel="lounge"))
        await bus.publish(*chat("seed", "x", channel="movies"))
        await bus.publish(*chat("seed", "y", domain="example.org", channel="lounge"))
        await wait_until(lambda: len(seen) == 5 and len(commands) == 1, what="handlers")
        await client.send_pm("movies", "alice", "psst")
        await wait_until(lambda: len(commands) == 2, what="the pm")
        health = client.health()
        assert health.handlers_registered == 3
        assert health.events_received == 3
        assert health.commands_sent == 2
    assert not connected(client)

    assert sorted(seen) == sorted(
        [
            ("any", "cytu.be", "lounge"),
            ("any", "cytu.be", "movies"),
            ("movies", "cytu.be", "movies"),
            ("any", "example.org", "lounge"),
            ("org", "example.org", "lounge"),
        ]
    )
    first, second = commands.bodies()
    assert commands.messages[0].subject == "cytube.commands.lounge.sendchat"
    assert (first["action"], first["payload"], first["domain"]) == (
        "sendChat",
        {"message": "hi alice"},
        "cytu.be",
    )
    assert (second["action"], second["payload"]["to"], second["channel"]) == (
        SendPM.action,
        "alice",
        "movies",
    )


async def test_an_ambiguous_channel_needs_a_domain(server: NatsServer) -> None:
    from kryten_actors.errors import KrytenValidationError  # noqa: PLC0415

    client = KrytenClient(config(server))
    await client.connect()
    try:
        with pytest.raises(KrytenValidationError, match="domain="):
            await client.send_chat("lounge", "which one?")
    finally:
        await client.disconnect()
    assert client.bot.state == "stopped"


async def test_run_until_stop(server: NatsServer, observer: Any) -> None:
    bus, commands = observer
    client = KrytenClient(config(server))
    got: list[RawEvent] = []

    @client.on("*", channel="lounge", domain="cytu.be")
    async def record(event: RawEvent) -> None:
        got.append(event)
        await client.send_chat("lounge", "seen", domain="cytu.be")

    task = asyncio.create_task(client.run())
    await wait_until(lambda: client.is_connected, what="connected")
    await bus.publish(*chat("seed", "ping"))
    await wait_until(lambda: len(commands) == 1, what="the answer")
    await client.stop()
    async with asyncio.timeout(10):
        await task
    assert not client.is_connected
    assert [e.event_name for e in got] == ["chatMsg"]


async def test_stop_without_run_disconnects(server: NatsServer) -> None:
    client = KrytenClient(config(server))
    await client.connect()
    assert connected(client)
    await client.stop()
    assert not connected(client)
    assert client.bot.state == "stopped"
