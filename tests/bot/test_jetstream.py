"""``delivery: jetstream`` on a real nats-server with JetStream: acks, redelivery, dedupe."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import nats
import pytest

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, KrytenConnectionError, on
from kryten_actors.bot.handled_journal import DuplicateWindow
from kryten_actors.bot.jetstream import consumer_name
from kryten_actors.config import NatsConfig
from kryten_actors.transport.nats import NatsTransport
from tests.bot.conftest import bot_config
from tests.bot.support import chat
from tests.conftest import NatsServerFactory
from tests.polling import wait_until

STREAM = "KRYTEN_EVENTS"


def js_config(url: str, channels: list[tuple[str, str]], **jetstream: Any) -> Any:
    return bot_config(
        "seed",
        channels,
        nats={"servers": [url]},
        delivery="jetstream",
        jetstream=jetstream,
        profile_check_after=None,
    )


class Recorder(ChannelActor):
    """Records (channel, text, redelivered) of every chat line; fails on ``boom``."""

    seen: ClassVar[list[tuple[str, str, bool]]] = []

    @on("chatMsg")
    async def record(self, event: ChatMessageEvent) -> None:
        if event.message == "boom":
            raise RuntimeError("boom")
        type(self).seen.append((self.channel, event.message, event.redelivered))


async def publish(url: str, messages: list[tuple[str, bytes]]) -> None:
    async with NatsTransport(NatsConfig(servers=[url])) as transport:
        for subject, body in messages:
            await transport.publish(subject, body)
        await transport.flush()


async def consumer_state(url: str, name: str) -> Any:
    nc = await nats.connect(url)
    try:
        return await nc.jetstream().consumer_info(STREAM, name)
    finally:
        await nc.close()


async def test_events_are_handled_in_order_and_acknowledged(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(jetstream=True)
    actor: type[Recorder] = type("R1", (Recorder,), {"seen": []})  # type: ignore[assignment]
    channels = [("cytu.be", f"room{i}") for i in range(5)]
    async with Bot(js_config(server.url, channels), actor=actor) as bot:
        messages = [
            chat("seed", text, channel=room)
            for n in range(40)
            for _, room in channels
            for text in ([str(n)] if n != 20 or room != "room2" else ["boom", str(n)])
        ]
        await publish(server.url, messages)
        await wait_until(lambda: len(actor.seen) == 200, what="all events handled")
        assert bot.jetstream is not None
        await wait_until(lambda: bot.jetstream is not None and bot.jetstream.stats.acked == 200)
        stats = bot.jetstream.stats
        assert stats.dead_lettered == 1  # the failed handler's event: acknowledged as dead
    for _, room in channels:
        texts = [text for channel, text, _ in actor.seen if channel == room]
        assert texts == [str(n) for n in range(40)]
        info = await consumer_state(server.url, consumer_name("kryten-actors", f"cytu.be/{room}"))
        assert info.num_ack_pending == 0
        assert info.num_pending == 0
    assert not any(redelivered for *_, redelivered in actor.seen)


async def test_a_restart_resumes_after_the_last_acknowledged_event(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(jetstream=True)
    actor: type[Recorder] = type("R2", (Recorder,), {"seen": []})  # type: ignore[assignment]
    config = js_config(server.url, [("cytu.be", "lounge")])
    async with Bot(config, actor=actor):
        await publish(server.url, [chat("seed", f"a{n}") for n in range(10)])
        await wait_until(lambda: len(actor.seen) == 10)
    # published while no bot runs: kept by the stream, delivered on the next start
    await publish(server.url, [chat("seed", f"b{n}") for n in range(10)])
    async with Bot(config, actor=actor):
        await wait_until(lambda: len(actor.seen) == 20)
    assert [text for _, text, _ in actor.seen] == [f"a{n}" for n in range(10)] + [
        f"b{n}" for n in range(10)
    ]


async def test_a_channel_joined_at_runtime_gets_its_consumer(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(jetstream=True)
    actor: type[Recorder] = type("R3", (Recorder,), {"seen": []})  # type: ignore[assignment]
    async with Bot(js_config(server.url, []), actor=actor) as bot:
        await bot.join_channel("cytu.be", "late")
        await publish(server.url, [chat("seed", "hi", channel="late")])
        await wait_until(lambda: len(actor.seen) == 1)
        await bot.leave_channel("cytu.be", "late")
        assert bot.jetstream is not None
        assert not bot.jetstream.consumers


async def test_unknown_channels_are_spotted_and_served_from_their_first_event(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(jetstream=True)
    actor: type[Recorder] = type("R4", (Recorder,), {"seen": []})  # type: ignore[assignment]
    config = js_config(server.url, [])
    config = config.model_copy(update={"spawn_unknown_channels": True})
    async with Bot(config, actor=actor):
        await publish(server.url, [chat("seed", str(n), channel="new") for n in range(30)])
        await wait_until(lambda: len(actor.seen) == 30)
    assert [text for _, text, _ in actor.seen] == [str(n) for n in range(30)]


async def test_a_server_without_jetstream_is_a_clear_error(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory()
    bot = Bot(js_config(server.url, [("cytu.be", "lounge")]), actor=Recorder)
    with pytest.raises(KrytenConnectionError, match="JetStream enabled"):
        await bot.start()


async def test_a_missing_stream_without_manage_stream_is_a_clear_error(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(jetstream=True)
    config = js_config(server.url, [("cytu.be", "lounge")], manage_stream=False)
    with pytest.raises(KrytenConnectionError, match="manage_stream"):
        await Bot(config, actor=Recorder).start()


async def test_the_stream_gets_the_configured_retention(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(jetstream=True)
    config = js_config(server.url, [("cytu.be", "lounge")], max_age=60.0, max_bytes=10_000_000)
    async with Bot(config, actor=Recorder):
        nc = await nats.connect(server.url)
        try:
            info = await nc.jetstream().stream_info(STREAM)
        finally:
            await nc.close()
    assert info.config.max_age == 60.0
    assert info.config.max_bytes == 10_000_000
    assert info.config.subjects == ["cytube.events.>"]


def test_the_duplicate_window_is_bounded_and_forgets_the_oldest() -> None:
    window = DuplicateWindow(3)
    for name in ("a", "b", "c", "b", "d"):
        window.add(name)
    assert len(window) == 3
    assert "a" not in window
    assert all(name in window for name in "bcd")


def test_consumer_names_are_valid_and_distinct() -> None:
    names = {consumer_name("bot", key) for key in ("cytu.be/a.b", "cytu.be/a_b", "x/a b")}
    assert len(names) == 3
    assert all(json.dumps(name).isascii() and "." not in name for name in names)


class Slow(ChannelActor):
    """Takes longer than ``ack_wait`` over its first event, so JetStream sends it again."""

    seen: ClassVar[list[tuple[str, bool]]] = []

    @on("chatMsg")
    async def record(self, event: ChatMessageEvent) -> None:
        type(self).seen.append((event.message, event.redelivered))
        if len(type(self).seen) == 1:
            await asyncio.sleep(1.6)  # the work itself: longer than ack_wait (1 s)


@pytest.mark.parametrize("policy", ["skip", "mark"])
async def test_a_redelivery_of_a_handled_event_is_skipped_or_marked(
    nats_server_factory: NatsServerFactory, policy: str
) -> None:
    server = await nats_server_factory(jetstream=True)
    actor: type[Slow] = type("S", (Slow,), {"seen": []})  # type: ignore[assignment]
    config = js_config(server.url, [("cytu.be", "lounge")], ack_wait=1.0, redelivery=policy)
    async with Bot(config, actor=actor) as bot:
        await publish(server.url, [chat("seed", "once")])
        js = bot.jetstream
        assert js is not None
        await wait_until(lambda: js.stats.redelivered == 1, what="the redelivery")
        await wait_until(lambda: js.stats.acked + js.stats.duplicates_skipped == 2)
    if policy == "skip":
        assert actor.seen == [("once", False)]
        assert js.stats.duplicates_skipped == 1
    else:
        assert actor.seen == [("once", False), ("once", True)]
        assert js.stats.duplicates_skipped == 0
