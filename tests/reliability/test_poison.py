"""Poison input at rate: bad bodies and hostile subjects among good traffic.

The router must never fail, every bad message must be counted under exactly one
reason, and the good events interleaved with them must all arrive, in order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ClassVar

import pytest

from kryten_actors.bot import Bot, ChannelActor, on
from kryten_actors.config.connection import NatsConfig
from kryten_actors.protocol.events import ChatMessageEvent, RawEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.polling import wait_until
from tests.reliability.load import chat_envelope
from tests.reliability.support import Recorder, SubjectCounter, bot_config, seq_of

GOOD_PER_CHANNEL = 1000
ROUNDS = 20  # the poison set is published this many times, spread over the good traffic
SERVER_MAX_PAYLOAD = 1024 * 1024  # nats-server's default max_payload
PROFILES = {"seed": "cytu.be", "kryten-robot": "localhost"}
CHANNELS = ["lounge", "den"]


class CountingActor(ChannelActor):
    """Records the sequence number of every chat event it handles."""

    recorder: ClassVar[Recorder]

    @on("chatMsg")
    async def handle(self, event: ChatMessageEvent) -> None:
        self.recorder.record(self.channel, seq_of(event))


def envelope(domain: str, channel: str, event_name: str, payload: object) -> bytes:
    return RawEvent(
        event_name=event_name, payload=payload, channel=channel, domain=domain
    ).to_bytes()


def padded_chat(domain: str, channel: str, size: int, *, seq: int) -> bytes:
    """A valid chat envelope of exactly ``size`` bytes (the username is the padding)."""
    base = chat_envelope(domain, channel, seq, username="")
    body = chat_envelope(domain, channel, seq, username="p" * (size - len(base)))
    assert len(body) == size
    return body


def bad_bodies(domain: str, channel: str) -> list[bytes]:
    """Bodies that must each end as one ``decode_failed`` dead letter."""
    chat = json.loads(chat_envelope(domain, channel, 0))
    return [
        b"",
        b"not json at all",
        b'{"event_name": "chatMsg", "payload": {',  # truncated
        b"null",
        b"[]",
        b'"a string"',
        b"12345",
        b"{}",  # an object, but no envelope fields
        b'{"event_name": 5, "channel": [], "domain": {}}',  # envelope fields of wrong types
        json.dumps({**chat, "payload": "a string"}).encode(),
        json.dumps({**chat, "payload": {"username": 5, "msg": []}}).encode(),
        json.dumps({**chat, "payload": None}).encode(),
        json.dumps({**chat, "timestamp": "yesterday"}).encode(),
        envelope(domain, channel, "rank", "high"),  # body's event disagrees with the subject
        b"\xff\xfe\xfd\x00invalid utf-8",
        chat_envelope(domain, channel, 0).replace(b'"msg": "0"', b'"msg": "\xc3\x28"'),
        b"[" * 100_000,  # nesting far beyond any parser's recursion limit
        b'{"event_name": "chatMsg", "payload": 1e999999, "channel": "x", "domain": "y"}',
        b"{" + b" " * (SERVER_MAX_PAYLOAD - 200) + b"}",  # just under max_payload, not JSON
    ]


@dataclass(frozen=True)
class Hostile:
    """A subject no bridge would publish on, and what the router must count it as."""

    subject: str
    outcome: str  # "unroutable" | "foreign_channel" | "decode_failed" | "not_delivered"


def hostile_subjects(profile: str) -> list[Hostile]:
    if profile == "seed":
        prefix = "cytube.events"
        served = f"{prefix}.cytu.be.lounge"
        extra = [
            Hostile(f"{prefix}.x", "unroutable"),
            Hostile(f"{prefix}.x.y", "unroutable"),
            Hostile(f"{prefix}.a.b.c", "foreign_channel"),
            Hostile(f"{prefix}.evil.cytu.be.lounge.chatmsg", "foreign_channel"),
            Hostile(f"{prefix}.{'d' * 120}.lounge.chatmsg", "foreign_channel"),
        ]
    else:
        prefix = "kryten.events.cytube"
        served = f"{prefix}.lounge"
        extra = [
            Hostile(f"{prefix}.lounge", "not_delivered"),
            Hostile(f"{prefix}.a.b.c", "not_delivered"),
            Hostile(f"{prefix}.x.y", "foreign_channel"),
        ]
    return [
        *extra,
        Hostile(f"{served}.chat$msg", "unroutable"),
        Hostile(f"{served}.chat\x01msg", "unroutable"),
        Hostile(f"{served}.chat\x7fmsg", "unroutable"),
        Hostile(f"{served}.chat\u200bmsg", "unroutable"),  # a zero-width (format) character
        Hostile(f"{served}.chat*", "unroutable"),  # the server delivers wildcards literally
        Hostile(f"{served}.>", "unroutable"),
        Hostile(f"{served}.{'e' * 101}", "unroutable"),  # token longer than 100
        Hostile(f"{served}.{'e' * 300}", "unroutable"),  # subject longer than 255
        Hostile(f"{served}.чат", "decode_failed"),  # routable unicode event, junk body
        Hostile(served.replace("lounge", "lóunge") + ".chatmsg", "foreign_channel"),
        Hostile(f"{served}..chatmsg", "not_delivered"),  # empty token: the server drops it
        Hostile(f"{served}.", "not_delivered"),
        Hostile(f"wrong.{served}.chatmsg", "not_delivered"),
        Hostile(served.replace("events", "event") + ".chatmsg", "not_delivered"),
    ]


@pytest.mark.parametrize("profile", list(PROFILES))
async def test_poison_at_rate_is_counted_and_good_traffic_arrives(
    nats_server: NatsServer, profile: str
) -> None:
    domain = PROFILES[profile]
    scheme = scheme_for(profile)
    recorder = CountingActor.recorder = Recorder()
    config = bot_config(
        nats_server.url,
        [(domain, c) for c in CHANNELS],
        profile=profile,
        mailbox={"capacity": 100_000},
    )
    bodies = {c: bad_bodies(domain, c) for c in CHANNELS}
    hostile = hostile_subjects(profile)
    big = {c: padded_chat(domain, c, SERVER_MAX_PAYLOAD - 100, seq=0) for c in CHANNELS}
    subjects = {c: scheme.event_subject(domain, c, "chatMsg") for c in CHANNELS}
    every_event = scheme.event_subscriptions()
    assert len(every_event) == 1
    step = GOOD_PER_CHANNEL // ROUNDS
    async with (
        Bot(config, actor=CountingActor) as bot,
        SubjectCounter(nats_server.url, every_event[0]) as delivered,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as bridge,
    ):
        published = 0
        for seq in range(GOOD_PER_CHANNEL):
            for channel in CHANNELS:
                # the first good event of each channel is just under max_payload
                body = big[channel] if seq == 0 else chat_envelope(domain, channel, seq)
                await bridge.publish(subjects[channel], body)
                published += 1
            if seq % step == step - 1:
                for channel in CHANNELS:
                    for bad in bodies[channel]:
                        await bridge.publish(subjects[channel], bad)
                        published += 1
                for item in hostile:
                    await bridge.publish(item.subject, b"{}")
                    published += item.outcome != "not_delivered"
        await bridge.flush()
        await delivered.wait_for(published, within=20)

        good = GOOD_PER_CHANNEL * len(CHANNELS)
        await recorder.wait_for(lambda: recorder.total == good, within=20, what="the good events")
        expected = {
            reason: ROUNDS * sum(h.outcome == reason for h in hostile)
            for reason in ("unroutable", "foreign_channel", "decode_failed")
        }
        expected["decode_failed"] += ROUNDS * sum(len(b) for b in bodies.values())
        await wait_until(
            lambda: bot.health().dead_letters.get("decode_failed", 0) == expected["decode_failed"],
            within=20,
            what="every bad body to be decoded and dead-lettered",
        )
        health = bot.health()
        router_ref = bot.system.root.child("router")
        assert router_ref is not None
        router = router_ref.stats()

    assert len(delivered.messages) == published
    for channel in CHANNELS:
        assert recorder.seen[channel] == list(range(GOOD_PER_CHANNEL))
    assert health.dead_letters == {
        "unroutable": expected["unroutable"],
        "decode_failed": expected["decode_failed"],
    }
    assert health.router == {
        "received": published,
        "routed": published - expected["unroutable"] - expected["foreign_channel"],
        "unroutable": expected["unroutable"],
        "foreign_channel": expected["foreign_channel"],
        "oversized": 0,
        "mailbox_full": 0,
        "replayed_skipped": 0,
    }
    assert sum(a.failed + a.restarts + a.dropped for a in health.actors.values()) == 0
    assert (router.failed, router.restarts, str(router.state)) == (0, 0, "running")
    assert health.errors == expected["decode_failed"] + expected["unroutable"]
    assert bot.transport.stats.slow_consumer_drops == 0


async def test_bodies_over_max_event_bytes_are_dead_lettered_oversized(
    nats_server_factory: Callable[..., Awaitable[NatsServer]],
) -> None:
    server = await nats_server_factory(max_payload=8 * 1024 * 1024)
    domain, limit = PROFILES["seed"], 1024 * 1024
    scheme = scheme_for("seed")
    recorder = CountingActor.recorder = Recorder()
    config = bot_config(server.url, [(domain, "lounge")], max_event_bytes=limit)
    subject = scheme.event_subject(domain, "lounge", "chatMsg")
    oversized = [
        padded_chat(domain, "lounge", limit + 1, seq=1),
        padded_chat(domain, "lounge", 4 * limit, seq=1),
        b"x" * (8 * limit - 1024),  # just under the server's max_payload
    ]
    async with (
        Bot(config, actor=CountingActor) as bot,
        NatsTransport(NatsConfig(servers=[server.url])) as bridge,
    ):
        await bridge.publish(subject, padded_chat(domain, "lounge", limit, seq=0))  # the limit
        for body in oversized:
            await bridge.publish(subject, body)
            await bridge.publish(scheme.event_subject(domain, "elsewhere", "chatMsg"), body)
            await bridge.publish(f"{subject}$", body)
        await bridge.publish(subject, chat_envelope(domain, "lounge", 1))
        await bridge.flush()
        await recorder.wait_for(lambda: recorder.total == 2, within=10, what="both good events")
        health = bot.health()

    assert recorder.seen["lounge"] == [0, 1]
    n = len(oversized)
    # the channel lookup comes first: foreign and unroutable ones count as such
    assert health.dead_letters == {"oversized": n, "unroutable": n}
    assert health.router == {
        "received": 2 + 3 * n,
        "routed": 2,
        "unroutable": n,
        "foreign_channel": n,
        "oversized": n,
        "mailbox_full": 0,
        "replayed_skipped": 0,
    }


async def _raw_publish(server: NatsServer, subject: bytes, body: bytes) -> None:
    """Publish with a hand-written PUB: nats-py cannot send a subject that is not UTF-8."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        await reader.readline()  # INFO
        writer.write(b'CONNECT {"verbose":false}\r\n')
        writer.write(b"PUB %s %d\r\n%s\r\nPING\r\n" % (subject, len(body), body))
        await writer.drain()
        async with asyncio.timeout(5):
            assert await reader.readline() == b"PONG\r\n"
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_subject_that_is_not_utf8_does_not_deafen_the_bot(
    nats_server: NatsServer,
) -> None:
    domain = PROFILES["seed"]
    scheme = scheme_for("seed")
    recorder = CountingActor.recorder = Recorder()
    config = bot_config(nats_server.url, [(domain, "lounge")])
    # the bot's transport is ours, closed with a short timeout: a deaf connection would
    # otherwise hold close() for the whole default close_timeout
    transport = NatsTransport(NatsConfig(servers=[nats_server.url]), close_timeout=1.0)
    subject = scheme.event_subject(domain, "lounge", "chatMsg")
    async with transport, Bot(config, actor=CountingActor, transport=transport) as bot:
        await _raw_publish(nats_server, b"cytube.events.cytu.be.lounge.\xff\xfe", b"{}")
        async with NatsTransport(NatsConfig(servers=[nats_server.url])) as bridge:
            for seq in range(10):
                await bridge.publish(subject, chat_envelope(domain, "lounge", seq))
        await recorder.wait_for(
            lambda: recorder.total == 10, within=3, what="the events after the bad subject"
        )
        assert recorder.seen["lounge"] == list(range(10))
        assert bot.health().actors[f"{domain}/lounge"].failed == 0
