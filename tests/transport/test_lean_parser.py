"""The lean inbound path: frames of a routed subscription straight to a sync handler.

The parser is fed hand-made protocol bytes (split anywhere, mixed with PING, INFO,
headers, replies and other subscriptions' frames) on a client connected to a real
nats-server; then the same traffic is sent through the server end to end.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kryten_actors.config.connection import NatsConfig
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_client import LEAN_PARSER_SUPPORTED, LeanClient
from kryten_actors.transport.server import NatsServer

pytestmark = pytest.mark.skipif(not LEAN_PARSER_SUPPORTED, reason="nats-py parser changed")

Seen = list[tuple[str, bytes, dict[str, str] | None]]


def msg(subject: str, sid: int, body: bytes, reply: str = "") -> bytes:
    head = f"MSG {subject} {sid} {reply + ' ' if reply else ''}{len(body)}\r\n".encode()
    return head + body + b"\r\n"


def hmsg(subject: str, sid: int, headers: dict[str, str], body: bytes) -> bytes:
    block = "NATS/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    raw = block.encode()
    total = len(raw) + len(body)
    return f"HMSG {subject} {sid} {len(raw)} {total}\r\n".encode() + raw + body + b"\r\n"


class Routed:
    def __init__(self, client: LeanClient, sid: int) -> None:
        self.seen: Seen = []
        assert client.add_frame_route(sid, self)

    def __call__(self, subject: str, data: bytes, headers: Mapping[str, str] | None) -> None:
        self.seen.append((subject, data, dict(headers) if headers else None))


@pytest.fixture
async def client(nats_server: NatsServer) -> AsyncIterator[LeanClient]:
    lean = LeanClient()
    await lean.connect(servers=[nats_server.url], allow_reconnect=False)
    yield lean
    await lean.close()


def traffic() -> tuple[bytes, Seen]:
    """A byte stream for routed sid 7 with what its handler must see, in order."""
    frames = [
        msg("ev.a", 7, b"one"),
        b"PING\r\n",
        msg("ev.b", 7, b"two words"),
        hmsg("ev.c", 7, {"traceparent": "00-abc-def-01"}, b"three"),
        msg("ev.d", 7, b"four", reply="_INBOX.x"),
        b"+OK\r\n",
        msg("ev.e", 7, b""),
        msg("ev.f", 7, b"\x00\xff"),
    ]
    expected: Seen = [
        ("ev.a", b"one", None),
        ("ev.b", b"two words", None),
        ("ev.c", b"three", {"traceparent": "00-abc-def-01"}),
        ("ev.d", b"four", None),
        ("ev.e", b"", None),
        ("ev.f", b"\x00\xff", None),
    ]
    return b"".join(frames), expected


async def test_routed_frames_reach_the_handler_in_order(client: LeanClient) -> None:
    routed = Routed(client, 7)
    pings: list[int] = []

    async def ping() -> None:
        pings.append(1)

    client._process_ping = ping  # type: ignore[method-assign]
    stream, expected = traffic()
    msgs, nbytes = client.stats["in_msgs"], client.stats["in_bytes"]
    await client._ps.parse(stream)
    assert routed.seen == expected
    assert pings == [1]
    assert client._ps.buf == bytearray()
    assert all(type(data) is bytes for _, data, _ in routed.seen)
    # counted as nats-py counts them (once per read on the lean path)
    assert client.stats["in_msgs"] - msgs == len(expected)
    assert client.stats["in_bytes"] - nbytes == sum(len(data) for _, data, _ in expected)


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=30))
def test_frames_split_anywhere_arrive_whole(cuts: list[int]) -> None:
    async def run() -> Seen:
        server = NatsServer()
        await server.start()
        lean = LeanClient()
        try:
            await lean.connect(servers=[server.url], allow_reconnect=False)
            routed = Routed(lean, 7)

            async def ping() -> None:
                return None

            lean._process_ping = ping  # type: ignore[method-assign]
            stream, _ = traffic()
            points = sorted({c % len(stream) for c in cuts} | {0, len(stream)})
            for start, end in itertools.pairwise(points):
                await lean._ps.parse(stream[start:end])
            return routed.seen
        finally:
            await lean.close()
            await server.stop()

    assert asyncio.run(run()) == traffic()[1]


async def test_frames_of_other_subscriptions_take_nats_py_path(client: LeanClient) -> None:
    routed = Routed(client, 7)
    plain: list[bytes] = []

    async def cb(message: object) -> None:
        plain.append(message.data)  # type: ignore[attr-defined]

    other = await client.subscribe("other.*", cb=cb)
    await client._ps.parse(msg("other.x", other._id, b"stock") + msg("ev.a", 7, b"lean"))
    assert routed.seen == [("ev.a", b"lean", None)]
    for _ in range(100):
        if plain:
            break
        await asyncio.sleep(0)
    assert plain == [b"stock"]


async def test_a_handler_that_raises_is_counted_and_delivery_goes_on(client: LeanClient) -> None:
    seen: list[bytes] = []

    def handler(subject: str, data: bytes, headers: Mapping[str, str] | None) -> None:
        if data == b"boom":
            raise RuntimeError("handler bug")
        seen.append(data)

    client.add_frame_route(7, handler)
    await client._ps.parse(msg("ev", 7, b"boom") + msg("ev", 7, b"after"))
    assert seen == [b"after"]
    assert client.frame_errors == 1


async def test_end_to_end_through_the_server_with_headers(nats_server: NatsServer) -> None:
    got: Seen = []
    arrived = asyncio.Event()

    def handler(subject: str, data: bytes, headers: Mapping[str, str] | None) -> None:
        got.append((subject, data, dict(headers) if headers else None))
        if len(got) == 3:
            arrived.set()

    config = NatsConfig(servers=[nats_server.url])
    async with NatsTransport(config) as consumer, NatsTransport(config) as producer:
        subscription = await consumer.subscribe_frames("ev.>", handler)
        await producer.publish("ev.one", b"1")
        await producer.publish("ev.two", b"2", headers={"traceparent": "00-x-y-01"})
        await producer.publish("ev.three", b"3" * 100_000)
        await asyncio.wait_for(arrived.wait(), 10)
        await subscription.unsubscribe()
    assert got == [
        ("ev.one", b"1", None),
        ("ev.two", b"2", {"traceparent": "00-x-y-01"}),
        ("ev.three", b"3" * 100_000, None),
    ]
