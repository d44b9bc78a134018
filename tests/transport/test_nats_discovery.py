"""Scatter-gather on a real nats-server: every reply within the window, or the first ``limit``."""

from __future__ import annotations

import time

import pytest

from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import KrytenConnectionError
from kryten_actors.transport.base import InboundMessage
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_discovery import gather
from kryten_actors.transport.server import NatsServer


async def test_gather_collects_every_reply(nats_server: NatsServer) -> None:
    config = NatsConfig(servers=[nats_server.url])
    async with NatsTransport(config) as asker, NatsTransport(config) as responders:
        for name in (b"a", b"b", b"c"):

            async def answer(message: InboundMessage, name: bytes = name) -> None:
                await responders.publish(message.reply, name + b":" + message.data)

            await responders.subscribe("who.is.there", answer)
        replies = await gather(asker, "who.is.there", b"ping", window=2.0)
        assert sorted(replies) == [b"a:ping", b"b:ping", b"c:ping"]

        started = time.monotonic()
        assert len(await gather(asker, "who.is.there", window=30.0, limit=2)) == 2
        assert time.monotonic() - started < 30.0  # returned once it had enough
        assert await gather(asker, "nobody.home", window=0.1) == []


async def test_gather_needs_a_connection(nats_server: NatsServer) -> None:
    transport = NatsTransport(NatsConfig(servers=[nats_server.url]))
    with pytest.raises(KrytenConnectionError, match="connect"):
        await gather(transport, "x", window=0.1)
