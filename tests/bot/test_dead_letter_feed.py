"""Dead letters published on NATS (issue 14, item 7), against a real nats-server."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import Any

import pytest

from kryten_actors.bot import Bot, ChannelActor, on
from kryten_actors.bot.dead_letter_feed import PREVIEW_BYTES, DeadLetterFeed, dead_letter_subject
from kryten_actors.config import NatsConfig
from kryten_actors.protocol.events import ChatMessageEvent
from kryten_actors.protocol.raw_event import RawEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.runtime import DeadLetters
from kryten_actors.transport.base import InboundMessage
from kryten_actors.transport.memory import MemoryTransport
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.polling import wait_until

BOT = "letters-bot"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
CID = "1d8c2a0e-8b34-4b61-9f66-2a5f3c7d9e10"


class Idle(ChannelActor):
    """Dead letters come from the router and the decoder.

    It handles chat (doing nothing), so chat bodies are decoded: an event no handler
    wants is never parsed at all (lazy decoding), and so never fails to decode.
    """

    @on("chatmsg")
    async def ignore(self, event: ChatMessageEvent) -> None:
        del event


def bot_config(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "service_name": BOT,
        "nats": {"servers": [url]},
        "channels": [{"domain": "cytu.be", "channel": "lounge"}],
        "max_event_bytes": 4096,
        "profile_check_after": None,
        **extra,
    }


class Letters:
    """Collects what arrives on ``kryten.deadletters.>``."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    async def on_message(self, message: InboundMessage) -> None:
        self.received.append((message.subject, json.loads(message.data), message.headers or {}))

    def by_reason(self, reason: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        return next(item for item in self.received if item[1]["reason"] == reason)


async def test_each_dead_letter_is_published_with_a_bounded_preview(
    nats_server: NatsServer,
) -> None:
    letters = Letters()
    seed = scheme_for("seed")
    lounge = seed.event_subject("cytu.be", "lounge", "chatMsg")
    oversized = RawEvent(
        event_name="chatMsg",
        payload={"username": "ann", "msg": "x" * 6000, "meta": {}, "time": 1},
        channel="lounge",
        domain="cytu.be",
        correlation_id=CID,
    ).to_bytes()
    async with (
        NatsTransport(NatsConfig(servers=[nats_server.url])) as watcher,
        Bot(bot_config(nats_server.url, publish_dead_letters=True), actor=Idle) as bot,
    ):
        await watcher.subscribe("kryten.deadletters.>", letters.on_message)
        await watcher.publish(lounge, b"this is not json", headers={"traceparent": TRACEPARENT})
        await watcher.publish(lounge, oversized)
        await watcher.publish("cytube.events.nowhere", b"{}")
        await wait_until(lambda: len(letters.received) == 3, what="three published letters")
        assert bot.dead_letter_feed is not None
        assert bot.dead_letter_feed.published == 3
        assert bot.system.dead_letters.total == 3

    subject, undecodable, headers = letters.by_reason("decode_failed")
    assert subject == f"kryten.deadletters.{BOT}.lounge"
    assert undecodable["channel"] == "lounge"
    assert undecodable["domain"] == "cytu.be"
    assert undecodable["bot"] == BOT
    assert undecodable["preview"] == "this is not json"
    assert undecodable["size"] == len(b"this is not json")
    assert undecodable["error"]
    assert undecodable["traceparent"] == TRACEPARENT
    assert undecodable["trace_id"] == TRACEPARENT.split("-")[1]
    assert headers.get("traceparent") == TRACEPARENT  # the letter joins the event's trace

    subject, big, _ = letters.by_reason("oversized")
    assert subject == f"kryten.deadletters.{BOT}.lounge"
    assert big["size"] == len(oversized)
    assert len(big["preview"].encode()) <= PREVIEW_BYTES
    assert big["truncated"] is True
    assert big["event"] == "chatmsg"
    # the trace context of the event: its correlation ID, and the trace it maps to
    assert big["correlation_id"] == CID
    assert big["trace_id"] == CID.replace("-", "")

    subject, unroutable, _ = letters.by_reason("unroutable")
    assert subject == f"kryten.deadletters.{BOT}._unrouted"
    assert unroutable["channel"] is None
    assert unroutable["subject"] == "cytube.events.nowhere"


async def test_off_by_default(nats_server: NatsServer) -> None:
    async with Bot(bot_config(nats_server.url), actor=Idle) as bot:
        assert bot.dead_letter_feed is None


async def test_a_full_buffer_drops_publications_not_letters() -> None:
    store = DeadLetters(capacity=100)
    async with MemoryTransport() as transport:
        feed = DeadLetterFeed(
            transport=transport, letters=store, bot=BOT, scheme=scheme_for("seed"), queue_limit=3
        )
        await feed.start()
        for n in range(10):  # recorded in one go: the feed's task has not run yet
            store.record(f"message {n}", recipient="/root/cytu.be:lounge", reason="test")
        await feed.stop()
    assert store.total == 10
    assert feed.published == 3
    assert feed.dropped == 7
    sent = [m for m in transport.published if m.subject.startswith("kryten.deadletters.")]
    assert [json.loads(m.data)["preview"] for m in sent] == [f"'message {n}'" for n in range(3)]


def test_subject_tokens_are_safe() -> None:
    assert dead_letter_subject("my-bot", "Lounge") == "kryten.deadletters.my-bot.lounge"
    assert dead_letter_subject("my-bot", None) == "kryten.deadletters.my-bot._unrouted"
    assert dead_letter_subject("my-bot", "a.b*>") == "kryten.deadletters.my-bot.ab"


@pytest.mark.slow
async def test_cli_follow_prints_letters_live(nats_server: NatsServer) -> None:
    lounge = scheme_for("seed").event_subject("cytu.be", "lounge", "chatMsg")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kryten_actors.cli",
        "deadletters",
        "--follow",
        "--nats",
        nats_server.url,
        "--name",
        BOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        async with asyncio.timeout(30):
            started = (await proc.stderr.readline()).decode()
            assert started.startswith(f"following kryten.deadletters.{BOT}.> at"), started
            async with (
                NatsTransport(NatsConfig(servers=[nats_server.url])) as bridge,
                Bot(bot_config(nats_server.url, publish_dead_letters=True), actor=Idle),
            ):
                await bridge.publish(lounge, b"garbage one")
                first = (await proc.stdout.readline()).decode()
                preview = (await proc.stdout.readline()).decode()
                await bridge.publish(lounge, b"garbage two")
                second = (await proc.stdout.readline()).decode()
            proc.send_signal(signal.SIGINT)
            await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    assert "cytu.be/lounge  decode_failed  11 B" in first
    assert preview.strip() == "garbage one"
    assert "decode_failed" in second


def test_cli_names_a_bad_url_by_its_option(capsys: pytest.CaptureFixture[str]) -> None:
    from kryten_actors.cli.main import main  # noqa: PLC0415

    assert main(["deadletters", "--nats", "bad", "--seconds", "1"]) == 1
    assert "--nats: must start with nats:// or tls://" in capsys.readouterr().err


def test_cli_without_follow_listens_for_seconds(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from kryten_actors.cli.main import main  # noqa: PLC0415

    assert main(["deadletters", "--nats", nats_server.url, "--seconds", "0.2"]) == 0
    assert "0 dead letter(s) in 0.2 s" in capsys.readouterr().err
