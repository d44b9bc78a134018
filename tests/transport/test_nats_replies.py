"""Request/reply of NatsTransport (``nats_replies.ReplyMux``) against a real nats-server."""

from __future__ import annotations

import asyncio

import pytest

from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import KrytenConnectionError, KrytenTimeoutError
from kryten_actors.transport.base import ConnectionState, InboundMessage
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_client import LeanClient
from kryten_actors.transport.server import NatsServer
from tests.transport.inbox import Events, Inbox


async def test_concurrent_requests_each_get_their_own_reply_whatever_the_order(
    nats_server: NatsServer,
) -> None:
    count = 50
    async with (
        NatsTransport(NatsConfig(servers=[nats_server.url])) as client,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as service,
    ):
        held: list[InboundMessage] = []
        all_in = asyncio.Event()

        async def hold(message: InboundMessage) -> None:
            held.append(message)
            if len(held) == count:
                all_in.set()

        await service.subscribe("svc.later", hold)
        requests = [
            asyncio.create_task(client.request("svc.later", str(n).encode(), timeout=10.0))
            for n in range(count)
        ]
        await asyncio.wait_for(all_in.wait(), 10.0)
        for message in reversed(held):  # answered newest first
            await service.publish(message.reply, b"re:" + message.data)
        replies = await asyncio.gather(*requests)

    assert [r.data for r in replies] == [f"re:{n}".encode() for n in range(count)]
    assert client._replies.in_flight == 0


async def test_a_reply_after_the_deadline_is_dropped_and_nothing_is_kept(
    nats_server: NatsServer,
) -> None:
    async with (
        NatsTransport(NatsConfig(servers=[nats_server.url])) as client,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as service,
    ):
        asked = Inbox()
        await service.subscribe("svc.slow", asked)
        with pytest.raises(KrytenTimeoutError):
            await client.request("svc.slow", b"first", timeout=0.2)
        await asked.wait_for(1)
        assert client._replies.in_flight == 0
        await service.publish(asked.messages[0].reply, b"too late")  # reaches no one

        async def answer(message: InboundMessage) -> None:
            await service.publish(message.reply, b"on time")

        await service.subscribe("svc.quick", answer)
        reply = await client.request("svc.quick", b"second", timeout=5.0)
        assert reply.data == b"on time"
        assert client._replies.in_flight == 0
        assert client.stats.request_timeouts == 1


async def test_requests_work_again_after_the_server_restarts(nats_server: NatsServer) -> None:
    config = NatsConfig(servers=[nats_server.url], reconnect_wait=0.1)
    events = Events()
    client = NatsTransport(config)
    client.add_listener(events)
    async with client:
        await nats_server.kill()
        await events.wait_for(ConnectionState.DISCONNECTED)
        await nats_server.start()
        await events.wait_for(ConnectionState.RECONNECTED, within=10)
        async with NatsTransport(config) as service:

            async def echo(message: InboundMessage) -> None:
                await service.publish(message.reply, message.data[::-1])

            await service.subscribe("svc.echo", echo)
            # the reply inbox was subscribed again at the new server process
            reply = await client.request("svc.echo", b"abc", timeout=5.0)
    assert reply.data == b"cba"


async def test_a_request_waiting_when_reconnecting_is_given_up_fails_at_once(
    nats_server: NatsServer,
) -> None:
    config = NatsConfig(servers=[nats_server.url], reconnect_wait=0.1, max_reconnect_attempts=1)
    events = Events()
    client = NatsTransport(config)
    client.add_listener(events)
    async with client:
        async with NatsTransport(config) as service:
            asked = Inbox()
            await service.subscribe("svc.mute", asked)
            waiting = asyncio.create_task(client.request("svc.mute", b"cmd", timeout=60.0))
            await asked.wait_for(1)
        await nats_server.kill()
        await events.wait_for(ConnectionState.DISCONNECTED)
        flushing = asyncio.create_task(client.flush(timeout=60.0))  # buffered, unconfirmed
        await events.wait_for(ConnectionState.CLOSED, within=20)
        with pytest.raises(KrytenConnectionError, match="closed while waiting"):
            await asyncio.wait_for(waiting, 10.0)
        with pytest.raises(KrytenConnectionError, match="closed before the server confirmed"):
            await asyncio.wait_for(flushing, 10.0)
        assert client._replies.in_flight == 0


async def test_replies_come_through_nats_py_where_its_frames_cannot_be_routed(
    nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(LeanClient, "add_frame_route", lambda self, sid, handler: False)
    async with (
        NatsTransport(NatsConfig(servers=[nats_server.url])) as client,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as service,
    ):

        async def echo(message: InboundMessage) -> None:
            await service.publish(message.reply, message.data, headers={"k": "v"})

        await service.subscribe("svc.echo", echo)
        reply = await client.request("svc.echo", b"plain", timeout=5.0)
    assert (reply.data, reply.headers) == (b"plain", {"k": "v"})
