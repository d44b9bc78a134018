"""What only the memory transport does: recording, settling, reply inboxes."""

from __future__ import annotations

import asyncio

import pytest

from kryten_actors.errors import KrytenConnectionError, KrytenValidationError, PublishError
from kryten_actors.transport.base import ConnectionState, InboundMessage, RetryPolicy
from kryten_actors.transport.memory import MemoryTransport, PublishedMessage
from tests.transport.inbox import Events, Inbox

NO_WAIT = RetryPolicy(attempts=2, initial_backoff=0.0, max_backoff=0.0)


async def test_records_every_publish_in_order_and_clears() -> None:
    async with MemoryTransport() as bus:
        await bus.publish("a.b", b"1", headers={"h": "v"})
        await bus.publish("c", b"2")
        assert bus.published == [
            PublishedMessage("a.b", b"1", {"h": "v"}, ""),
            PublishedMessage("c", b"2", None, ""),
        ]
        bus.clear()
        assert bus.published == []


async def test_requests_and_replies_are_recorded_with_inbox() -> None:
    async with MemoryTransport() as bus:

        async def answer(message: InboundMessage) -> None:
            await bus.publish(message.reply, b"ok")

        await bus.subscribe("svc", answer)
        reply = await bus.request("svc", b"q", timeout=1.0)
        request, response = bus.published
        assert request.subject == "svc"
        assert request.reply.startswith("_INBOX.")
        assert response == PublishedMessage(request.reply, b"ok", None, "")
        assert reply.subject == request.reply
        assert reply.data == b"ok"


async def test_duplicate_replies_return_the_first() -> None:
    async with MemoryTransport() as bus:

        async def answer_twice(message: InboundMessage) -> None:
            await bus.publish(message.reply, b"first")
            await bus.publish(message.reply, b"second")

        await bus.subscribe("svc", answer_twice)
        reply = await bus.request("svc", b"q", timeout=1.0)
        assert reply.data == b"first"


async def test_no_responders_records_each_attempt() -> None:
    async with MemoryTransport(retry=NO_WAIT) as bus:
        with pytest.raises(PublishError, match="no responders"):
            await bus.request("nobody", b"q", timeout=1.0)
        assert [m.subject for m in bus.published] == ["nobody", "nobody"]


async def test_delivery_is_asynchronous() -> None:
    async with MemoryTransport() as bus:
        inbox = Inbox()
        await bus.subscribe("x", inbox)
        await bus.publish("x", b"1")
        assert inbox.messages == []  # not delivered inside publish()
        await bus.settle()
        assert inbox.data == [b"1"]


async def test_settle_waits_for_cascades_and_times_out_on_a_blocked_handler() -> None:
    async with MemoryTransport(close_timeout=0.1) as bus:
        final = Inbox()
        release = asyncio.Event()

        async def relay(message: InboundMessage) -> None:
            await bus.publish("second", message.data)

        async def blocked(message: InboundMessage) -> None:
            await release.wait()

        await bus.subscribe("first", relay)
        await bus.subscribe("second", final)
        await bus.publish("first", b"x")
        await bus.settle()
        assert final.data == [b"x"]

        await bus.subscribe("stuck", blocked)
        await bus.publish("stuck", b"")
        with pytest.raises(TimeoutError, match="did not finish"):
            await bus.settle(timeout=0.05)
        release.set()
        await bus.settle()


async def test_invalid_subjects_are_rejected() -> None:
    async with MemoryTransport() as bus:
        with pytest.raises(PublishError, match="invalid subject") as caught:
            await bus.publish("a.*", b"")
        assert caught.value.attempts == 1
        with pytest.raises(KrytenValidationError):
            await bus.subscribe("a..b", Inbox())
        assert bus.published == []


async def test_unconnected_transport_refuses_work_and_reports_connect() -> None:
    bus = MemoryTransport()
    events = Events()
    bus.add_listener(events)
    with pytest.raises(KrytenConnectionError, match="not connected"):
        await bus.publish("x", b"")
    await bus.connect()
    await bus.connect()  # no-op
    assert events.states == [ConnectionState.CONNECTED]
    await bus.close()
    assert events.states == [ConnectionState.CONNECTED, ConnectionState.CLOSED]


async def test_close_lets_queued_messages_be_handled() -> None:
    bus = MemoryTransport()
    await bus.connect()
    inbox = Inbox()
    await bus.subscribe("x", inbox)
    for n in range(100):
        await bus.publish("x", str(n).encode())
    await bus.close()
    assert len(inbox.messages) == 100


async def test_a_broken_listener_does_not_stop_the_others() -> None:
    bus = MemoryTransport()
    events = Events()

    def broken(_: object) -> None:
        raise RuntimeError("listener bug")

    bus.add_listener(broken)
    bus.add_listener(events)
    await bus.connect()
    await bus.close()
    assert events.states == [ConnectionState.CONNECTED, ConnectionState.CLOSED]
