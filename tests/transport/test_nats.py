"""NatsTransport on a real nats-server: registration, lossless close, limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from nats.errors import MaxPayloadError

from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import KrytenValidationError, PublishError
from kryten_actors.transport.base import ConnectionState
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.transport.inbox import Events, Inbox

NatsServerFactory = Callable[..., Awaitable[NatsServer]]


def config_for(server: NatsServer, **overrides: object) -> NatsConfig:
    return NatsConfig(servers=[server.url], **overrides)  # type: ignore[arg-type]


async def test_subscription_is_registered_when_subscribe_returns(nats_server: NatsServer) -> None:
    count = 2_000
    async with (
        NatsTransport(config_for(nats_server)) as subscriber,
        NatsTransport(config_for(nats_server)) as publisher,
    ):
        for round_ in range(3):
            inbox = Inbox()
            await subscriber.subscribe(f"fresh.{round_}", inbox)
            # A different connection publishes at once: only a server-side
            # registration can make these arrive.
            for n in range(count):
                await publisher.publish(f"fresh.{round_}", str(n).encode())
            await inbox.wait_for(count, within=10)
            assert inbox.data == [str(n).encode() for n in range(count)]


async def test_close_is_lossless(nats_server: NatsServer) -> None:
    count = 20_000
    payload = b"x" * 64
    async with NatsTransport(config_for(nats_server)) as counter:
        inbox = Inbox()
        await counter.subscribe("bulk", inbox)
        publisher = NatsTransport(config_for(nats_server))
        await publisher.connect()
        for _ in range(count):
            await publisher.publish("bulk", payload)
        await publisher.close()
        await inbox.wait_for(count, within=20)
        assert len(inbox.messages) == count
        assert publisher.stats.published == count


async def test_close_drains_in_flight_handlers_and_their_publishes(
    nats_server: NatsServer,
) -> None:
    async with NatsTransport(config_for(nats_server)) as counter:
        results = Inbox()
        await counter.subscribe("results", results)
        worker = NatsTransport(config_for(nats_server))
        await worker.connect()

        async def work(message: object) -> None:
            await worker.publish("results", b"done")

        await worker.subscribe("jobs", work)
        for _ in range(200):
            await counter.publish("jobs", b"")
        await counter.flush()
        await worker.close()
        await results.wait_for(200)
        assert len(results.messages) == 200


async def test_oversized_publish_fails_at_once(nats_server_factory: NatsServerFactory) -> None:
    server = await nats_server_factory(max_payload=1024)
    async with NatsTransport(config_for(server)) as transport:
        with pytest.raises(PublishError, match="max_payload") as caught:
            await transport.publish("big", b"x" * 4096)
        assert caught.value.attempts == 1
        assert isinstance(caught.value.__cause__, MaxPayloadError)
        assert transport.stats.publish_retries == 0
        await transport.publish("small", b"x" * 512)


async def test_invalid_subscription_subject(nats_server: NatsServer) -> None:
    async with NatsTransport(config_for(nats_server)) as transport:
        with pytest.raises(KrytenValidationError, match="invalid subscription subject"):
            await transport.subscribe("a b", Inbox())


async def test_lifecycle_events(nats_server: NatsServer) -> None:
    transport = NatsTransport(config_for(nats_server))
    events = Events()
    transport.add_listener(events)
    async with transport:
        connected = await events.wait_for(ConnectionState.CONNECTED)
        assert nats_server.url in connected.detail
        assert transport.is_connected
    assert events.states == [ConnectionState.CONNECTED, ConnectionState.CLOSED]
