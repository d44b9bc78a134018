"""The JetStream pieces of the transport on a real nats-server: stream, consumers, leases."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from types import SimpleNamespace
from typing import Any

import nats
import pytest

from kryten_actors.config import NatsConfig
from kryten_actors.errors import KrytenConnectionError
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_jetstream import (
    ChannelConsumer,
    JetStreamLink,
    StreamSettings,
    check_server,
)
from kryten_actors.transport.nats_shards import LeaseLost, ShardLeases
from kryten_actors.transport.server import NatsServer
from tests.conftest import NatsServerFactory
from tests.polling import wait_until

SUBJECTS = ("t.events.>",)


def settings(**overrides: Any) -> StreamSettings:
    values: dict[str, Any] = {
        "name": "TEST",
        "subjects": SUBJECTS,
        "manage": True,
        "max_age": 60.0,
        "max_bytes": 1_000_000,
        "ack_wait": 30.0,
        "max_ack_pending": 100,
        "fetch_batch": 10,
    }
    return StreamSettings(**{**values, **overrides})


@pytest.fixture
async def server(nats_server_factory: NatsServerFactory) -> NatsServer:
    return await nats_server_factory(jetstream=True)


@pytest.fixture
async def transport(server: NatsServer) -> AsyncIterator[NatsTransport]:
    async with NatsTransport(NatsConfig(servers=[server.url])) as transport:
        yield transport


class Inbox:
    """A consumer handler that records events and acks only when told to."""

    def __init__(self, link: JetStreamLink, *, ack: bool) -> None:
        self.link = link
        self.ack = ack
        self.events: list[tuple[bytes, bool]] = []

    def __call__(
        self, subject: str, data: bytes, headers: Mapping[str, str] | None, reply: str, seen: bool
    ) -> None:
        self.events.append((data, seen))
        if self.ack:
            self.link.ack(reply)


async def publish(transport: NatsTransport, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        await transport.publish("t.events.a", str(n).encode())
    await transport.flush()


def test_an_old_server_is_refused_with_the_version_it_needs() -> None:
    old = SimpleNamespace(connected_server_version=SimpleNamespace(major=2, minor=9, patch=25))
    with pytest.raises(KrytenConnectionError, match=r">= 2\.10\.0.*runs 2\.9\.25"):
        check_server(old)  # type: ignore[arg-type]


async def test_nothing_works_before_start_or_without_a_connection(server: NatsServer) -> None:
    transport = NatsTransport(NatsConfig(servers=[server.url]))
    link = JetStreamLink(transport, settings())
    with pytest.raises(KrytenConnectionError, match="start"):
        _ = link.js
    with pytest.raises(KrytenConnectionError, match="connected"):
        await link.start()
    leases = ShardLeases(transport, "b", 5.0)
    with pytest.raises(KrytenConnectionError, match="connected"):
        await leases.start()
    with pytest.raises(KrytenConnectionError, match="start"):
        _ = leases.kv


async def test_a_stream_that_misses_the_subjects_is_refused_when_not_managed(
    transport: NatsTransport, server: NatsServer
) -> None:
    nc = await nats.connect(server.url)
    await nc.jetstream().add_stream(name="TEST", subjects=["t.other.>"])
    await nc.close()
    with pytest.raises(KrytenConnectionError, match=r"does not capture \['t\.events\.>'\]"):
        await JetStreamLink(transport, settings(manage=False)).start()
    # managed, the bot brings it up to date instead
    link = JetStreamLink(transport, settings())
    await link.start()
    await link.close()
    unmanaged = JetStreamLink(transport, settings(manage=False))
    await unmanaged.start()
    await unmanaged.close()


async def test_subjects_another_stream_captures_are_a_clear_error(
    transport: NatsTransport, server: NatsServer
) -> None:
    nc = await nats.connect(server.url)
    await nc.jetstream().add_stream(name="OTHER", subjects=["t.events.>"])
    await nc.close()
    with pytest.raises(KrytenConnectionError, match="another stream may already capture"):
        await JetStreamLink(transport, settings()).start()


async def test_a_taken_over_consumer_starts_again_after_its_ack_floor(
    transport: NatsTransport,
) -> None:
    link = JetStreamLink(transport, settings())
    await link.start()
    first = Inbox(link, ack=False)
    consumer = ChannelConsumer(
        link, name="c1", subjects=["t.events.a"], from_start=True, handler=first
    )
    await consumer.start()
    await publish(transport, 5)
    await wait_until(lambda: len(first.events) == 5)
    await consumer.stop()
    assert not consumer.rewound
    second = Inbox(link, ack=True)
    again = ChannelConsumer(
        link, name="c1", subjects=["t.events.a", "t.events.b"], from_start=True, handler=second
    )
    await again.start()
    await publish(transport, 2, start=5)
    await wait_until(lambda: len(second.events) == 7)
    assert again.rewound
    # in stream order, the unacknowledged ones flagged as possibly seen
    assert second.events == [(str(n).encode(), n < 5) for n in range(7)]
    await link.flush_acks()
    await again.stop()
    await link.close()


async def test_fetching_survives_a_deleted_consumer_and_says_so(
    transport: NatsTransport, server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    link = JetStreamLink(transport, settings())
    await link.start()
    consumer = ChannelConsumer(
        link, name="gone", subjects=["t.events.a"], from_start=False, handler=Inbox(link, ack=True)
    )
    await consumer.start()
    nc = await nats.connect(server.url)
    await nc.jetstream().delete_consumer("TEST", "gone")
    await nc.close()
    with caplog.at_level(logging.WARNING, logger="kryten_actors.transport.nats_jetstream"):
        await wait_until(lambda: "fetching events of consumer gone failed" in caplog.text)
    await consumer.stop()
    await consumer.stop()  # idempotent
    await link.close()


async def test_leases_are_exclusive_and_lost_to_a_newer_holder(transport: NatsTransport) -> None:
    nc_leases = ShardLeases(transport, "leases", 30.0)
    await nc_leases.start()
    again = ShardLeases(transport, "leases", 10.0)  # the bucket exists: bound as it is
    await again.start()
    revision = await nc_leases.claim("ch", "a")
    assert revision is not None
    assert await again.claim("ch", "b") is None
    renewed = await nc_leases.renew("ch", "a", revision)
    with pytest.raises(LeaseLost):
        await again.renew("ch", "b", revision)  # an outdated revision
    await again.release("ch", "b")  # not b's: kept
    assert await again.claim("ch", "b") is None
    await nc_leases.release("ch", "a")
    assert await again.claim("ch", "b") is not None
    with pytest.raises(LeaseLost):
        await nc_leases.renew("ch", "a", renewed)
    await nc_leases.renew_member("a", {"channels": ["ch"]})
    assert (await again.members())["a"] == {"channels": ["ch"]}
    await nc_leases.leave("a")
    assert await again.members() == {}
