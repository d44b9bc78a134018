"""The Transport contract, run against MemoryTransport and NatsTransport alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import KrytenConnectionError, KrytenTimeoutError, PublishError
from kryten_actors.transport.base import (
    ConnectionState,
    InboundMessage,
    MessageHandler,
    RetryPolicy,
    Subscription,
    Transport,
)
from kryten_actors.transport.memory import MemoryTransport
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.transport.inbox import Events, Inbox

FAST_RETRY = RetryPolicy(attempts=3, initial_backoff=0.01, max_backoff=0.02)

NatsServerFactory = Callable[..., Awaitable[NatsServer]]


@pytest.fixture(params=["memory", "nats"])
async def transport(
    request: pytest.FixtureRequest, nats_server_factory: NatsServerFactory
) -> AsyncIterator[Transport]:
    made: Transport
    if request.param == "memory":
        made = MemoryTransport(retry=FAST_RETRY)
    else:
        server = await nats_server_factory()
        made = NatsTransport(NatsConfig(servers=[server.url]), retry=FAST_RETRY)
    async with made:
        yield made


async def test_publish_reaches_wildcard_subscribers_with_headers(transport: Transport) -> None:
    star, tail, other = Inbox(), Inbox(), Inbox()
    await transport.subscribe("room.*.chat", star)
    await transport.subscribe("room.>", tail)
    await transport.subscribe("elsewhere.>", other)

    await transport.publish("room.lounge.chat", b"hi", headers={"X-Trace": "abc"})
    await transport.publish("room.lounge.media.add", b"vid")

    await tail.wait_for(2)
    await star.wait_for(1)
    await transport.flush()
    assert star.data == [b"hi"]
    assert star.messages[0].subject == "room.lounge.chat"
    assert star.messages[0].headers == {"X-Trace": "abc"}
    assert tail.data == [b"hi", b"vid"]
    assert other.messages == []
    assert transport.stats.published == 2


async def test_delivery_is_ordered_per_subscription(transport: Transport) -> None:
    inbox = Inbox()
    await transport.subscribe("seq", inbox)
    for n in range(500):
        await transport.publish("seq", str(n).encode())
    await inbox.wait_for(500)
    assert inbox.data == [str(n).encode() for n in range(500)]


async def test_request_reply(transport: Transport) -> None:
    async def echo(message: InboundMessage) -> None:
        await transport.publish(message.reply, message.data.upper(), headers=message.headers)

    await transport.subscribe("svc.echo", echo)
    reply = await transport.request("svc.echo", b"ping", headers={"k": "v"}, timeout=2.0)
    assert reply.data == b"PING"
    assert reply.headers == {"k": "v"}
    assert transport.stats.requests == 1


async def test_reply_timeout_is_outcome_unknown_and_never_resent(transport: Transport) -> None:
    seen = Inbox()
    await transport.subscribe("svc.silent", seen)

    with pytest.raises(KrytenTimeoutError) as caught:
        await transport.request("svc.silent", b"cmd", timeout=0.2)

    assert caught.value.outcome_unknown is True
    assert transport.stats.request_timeouts == 1
    # Per-connection order: a resend would arrive before this marker.
    await transport.publish("svc.silent", b"marker")
    await seen.wait_for(2)
    assert seen.data == [b"cmd", b"marker"]


async def test_a_request_waiting_when_the_transport_closes_fails_at_once(
    transport: Transport,
) -> None:
    asked = Inbox()
    await transport.subscribe("svc.mute", asked)  # takes the request, never answers
    waiting = asyncio.create_task(transport.request("svc.mute", b"cmd", timeout=60.0))
    await asked.wait_for(1)

    await asyncio.wait_for(transport.close(), 10.0)

    # not after its 60 s deadline, and not as a cancellation of the caller's task
    with pytest.raises(KrytenConnectionError, match="closed while waiting") as caught:
        await asyncio.wait_for(waiting, 10.0)
    assert "do not resend it blindly" in str(caught.value)
    assert transport.stats.request_timeouts == 0
    assert asked.data == [b"cmd"]  # sent once, never again


async def test_no_responders_is_retried_then_publish_error(transport: Transport) -> None:
    with pytest.raises(PublishError, match="no responders") as caught:
        await transport.request("svc.nobody", b"cmd", timeout=1.0)
    assert caught.value.attempts == 3
    assert caught.value.subject == "svc.nobody"
    assert caught.value.__cause__ is not None
    assert transport.stats.publish_retries == 2
    assert transport.stats.publish_failures == 1


async def test_unsubscribe_stops_delivery(transport: Transport) -> None:
    kept, dropped = Inbox(), Inbox()
    await transport.subscribe("u", kept)
    subscription = await transport.subscribe("u", dropped)
    assert isinstance(subscription, Subscription)
    assert subscription.subject == "u"
    await subscription.unsubscribe()
    await subscription.unsubscribe()  # idempotent

    await transport.publish("u", b"x")
    await kept.wait_for(1)
    await transport.flush()
    assert dropped.messages == []


async def test_a_failing_handler_is_counted_and_delivery_goes_on(transport: Transport) -> None:
    inbox = Inbox()

    async def flaky(message: InboundMessage) -> None:
        if message.data == b"bad":
            raise RuntimeError("boom")
        await inbox(message)

    await transport.subscribe("f", flaky)
    await transport.publish("f", b"bad")
    await transport.publish("f", b"good")
    await inbox.wait_for(1)
    assert inbox.data == [b"good"]
    assert transport.stats.errors == 1


async def test_close_is_idempotent_and_reported(transport: Transport) -> None:
    events = Events()
    transport.add_listener(events)
    await transport.close()
    await transport.close()
    assert events.states.count(ConnectionState.CLOSED) == 1
    assert not transport.is_connected
    with pytest.raises(KrytenConnectionError, match="closed"):
        await transport.publish("x", b"")
    with pytest.raises(KrytenConnectionError):
        await transport.connect()


async def test_queue_group_delivers_each_message_once(transport: Transport) -> None:
    both = Inbox()
    seen_by: dict[str, list[bytes]] = {"first": [], "second": []}

    def member(name: str) -> MessageHandler:
        async def handle(message: InboundMessage) -> None:
            seen_by[name].append(message.data)
            await both(message)

        return handle

    await transport.subscribe("work", member("first"), queue="workers")
    await transport.subscribe("work", member("second"), queue="workers")
    for n in range(40):
        await transport.publish("work", str(n).encode())
    await both.wait_for(40)
    await transport.flush()
    assert sorted(both.data, key=int) == [str(n).encode() for n in range(40)]
    assert len(seen_by["first"]) + len(seen_by["second"]) == 40
