"""NatsTransport under faults: server crash and restart, slow consumers."""

from __future__ import annotations

import asyncio

from kryten_actors.config.connection import NatsConfig
from kryten_actors.transport.base import ConnectionState, InboundMessage
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.transport.inbox import Events, Inbox


async def test_survives_server_restart_and_delivers_outage_publishes(
    nats_server: NatsServer,
) -> None:
    config = NatsConfig(servers=[nats_server.url], reconnect_wait=0.1)
    transport = NatsTransport(config)
    events = Events()
    transport.add_listener(events)
    async with transport:
        inbox = Inbox()
        await transport.subscribe("stream.>", inbox)
        for n in range(100):
            await transport.publish("stream.before", str(n).encode())
        await inbox.wait_for(100)

        await nats_server.kill()
        await events.wait_for(ConnectionState.DISCONNECTED)
        assert not transport.is_connected
        for n in range(100):  # buffered in nats.pending_bytes while disconnected
            await transport.publish("stream.outage", str(n).encode())

        await nats_server.start()
        reconnected = await events.wait_for(ConnectionState.RECONNECTED, within=10)
        assert str(nats_server.port) in reconnected.detail
        await inbox.wait_for(200)
        outage = [m.data for m in inbox.messages if m.subject == "stream.outage"]
        assert outage == [str(n).encode() for n in range(100)]
        assert transport.stats.reconnects == 1

        # The subscription is registered again at the new server process: another
        # connection's publishes reach it.
        async with NatsTransport(config) as other:
            await other.publish("stream.after", b"late")
        await inbox.wait_for(201)
        assert inbox.messages[-1].subject == "stream.after"


async def test_slow_consumer_drops_are_counted(nats_server: NatsServer) -> None:
    limit, sent = 10, 200
    config = NatsConfig(servers=[nats_server.url], sub_pending_msgs_limit=limit)
    release = asyncio.Event()
    handled = Inbox()

    async def blocked(message: InboundMessage) -> None:
        await release.wait()
        await handled(message)

    async with NatsTransport(config) as consumer, NatsTransport(config) as producer:
        await consumer.subscribe("flood", blocked)
        for n in range(sent):
            await producer.publish("flood", str(n).encode())
        await producer.flush()
        # The probe arrives after every flood message on this connection, so by
        # now each of them was queued or dropped.
        await consumer.flush()
        drops = consumer.stats.slow_consumer_drops
        assert drops >= sent - limit - 1
        release.set()
        await handled.wait_for(sent - drops)
        await consumer.flush()
        assert len(handled.messages) + drops == sent
        assert consumer.stats.errors == 0
