"""Misbehaving handlers on a real nats-server: no channel stalls the others unnoticed.

Issue 11, items 4, 6, 7 and 8. What these tests show (figures printed with ``-s``):

- 10 unknown channels whose ``on_start`` takes 0.5 s each no longer stall a healthy
  channel for 5 s: its event is handled while most of those starts are still pending;
- after a handler swallowed the watchdog's cancellation, the next message is still cut
  off at ``handler_timeout`` (it hung 8.5 s with a 1 s timeout before);
- a handler awaiting 10,000 ``send_chat`` (seed profile: publishes never suspend) lets
  another channel's event through long before it is done;
- a blocking ``time.sleep`` in one handler is counted as an event-loop stall, logged
  once with the channel's actor and handler, and emitted as a ``stalled`` event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import ClassVar

import pytest

from kryten_actors.bot import Bot, ChannelActor, on
from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import HandlerError
from kryten_actors.protocol.events import ChatMessageEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.runtime import RuntimeEvent
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.polling import wait_until
from tests.reliability.load import chat_envelope
from tests.reliability.support import bot_config

DOMAIN = "cytu.be"
SCHEME = scheme_for("seed")


def chat(channel: str, text: str) -> tuple[str, bytes]:
    body = chat_envelope(DOMAIN, channel, 0).replace(b'"msg": "0"', f'"msg": "{text}"'.encode())
    return SCHEME.event_subject(DOMAIN, channel, "chatMsg"), body


async def publish(url: str, *messages: tuple[str, bytes]) -> None:
    async with NatsTransport(NatsConfig(servers=[url])) as bridge:
        for subject, body in messages:
            await bridge.publish(subject, body)
        await bridge.flush()


class SlowStarter(ChannelActor):
    """Channels named ``slow*`` take 0.5 s to start; every handled line is logged."""

    log: ClassVar[list[tuple[str, int]]] = []
    starts_done: ClassVar[int] = 0

    async def on_start(self) -> None:
        if self.channel.startswith("slow"):
            await asyncio.sleep(0.5)
            SlowStarter.starts_done += 1

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        self.log.append((self.channel, SlowStarter.starts_done))


async def test_new_channels_start_off_the_routing_path(nats_server: NatsServer) -> None:
    SlowStarter.log = []
    SlowStarter.starts_done = 0
    config = bot_config(nats_server.url, [(DOMAIN, "lounge")], spawn_unknown_channels=True)
    async with Bot(config, actor=SlowStarter) as bot:
        started = time.monotonic()
        await publish(
            nats_server.url,
            *(chat(f"slow{i}", "hi") for i in range(10)),
            chat("lounge", "healthy"),
        )
        await wait_until(
            lambda: any(channel == "lounge" for channel, _ in SlowStarter.log),
            what="the healthy channel's line",
        )
        healthy_after = time.monotonic() - started
        pending = 10 - next(done for channel, done in SlowStarter.log if channel == "lounge")
        await wait_until(lambda: len(SlowStarter.log) == 11, what="every channel's line")
        assert bot.router_stats.spawned == 10
    print(
        f"healthy channel handled after {healthy_after:.3f} s with {pending} of 10 starts pending"
    )
    assert pending >= 5, "the healthy channel waited for the new channels' on_start"


class Stubborn(ChannelActor):
    """``swallow`` swallows the watchdog's cancellation; ``hang`` never finishes."""

    cut: ClassVar[dict[str, float]] = {}

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cut[event.msg] = time.monotonic()
            if event.msg == "swallow":
                return
            raise


async def test_the_watchdog_survives_a_swallowed_cancellation(nats_server: NatsServer) -> None:
    Stubborn.cut = {}
    timeout = 0.5
    config = bot_config(
        nats_server.url,
        [(DOMAIN, "lounge")],
        handler_timeout=timeout,
        supervision={"min_backoff": 0.01, "max_backoff": 0.02},
    )
    async with Bot(config, actor=Stubborn) as bot:
        sent = time.monotonic()
        await publish(nats_server.url, chat("lounge", "swallow"), chat("lounge", "hang"))
        await wait_until(lambda: "hang" in Stubborn.cut, what="the second line cut off")
        letters = [d for d in bot.system.dead_letters.recent if d.reason == "handler_failed"]
    hang_cut = Stubborn.cut["hang"] - Stubborn.cut["swallow"]
    print(f"first cut {Stubborn.cut['swallow'] - sent:.2f} s, next cut {hang_cut:.2f} s later")
    assert len(letters) == 2
    assert all(isinstance(letter.error, HandlerError) for letter in letters)
    assert hang_cut < 10 * timeout


class Flooder(ChannelActor):
    """``flood`` sends 10,000 chat lines; another channel notes how far it got."""

    sent: ClassVar[int] = 0
    seen_at: ClassVar[list[int]] = []

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        if event.msg == "flood":
            for index in range(10_000):
                await self.send_chat(f"line {index}")
                Flooder.sent = index + 1
        else:
            Flooder.seen_at.append(Flooder.sent)


async def test_a_send_loop_yields_to_other_channels(nats_server: NatsServer) -> None:
    Flooder.sent = 0
    Flooder.seen_at = []
    config = bot_config(nats_server.url, [(DOMAIN, "lounge"), (DOMAIN, "den")])
    async with Bot(config, actor=Flooder):
        await publish(nats_server.url, chat("lounge", "flood"), chat("den", "quiet"))
        await wait_until(lambda: Flooder.seen_at and Flooder.sent == 10_000, what="both done")
    print(f"the other channel was handled after {Flooder.seen_at[0]} of 10,000 sends")
    assert Flooder.seen_at[0] < 10_000


class Blocker(ChannelActor):
    """``block`` blocks the event loop for 1.5 s (what not to do)."""

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        if event.msg == "block":
            time.sleep(1.5)  # noqa: ASYNC251 -- the misbehaviour under test


async def test_a_blocking_handler_is_detected_and_named(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kryten_actors.runtime.stall")
    stalls: list[RuntimeEvent] = []
    async with Bot(bot_config(nats_server.url, [(DOMAIN, "lounge")]), actor=Blocker) as bot:
        bot.system.subscribe(lambda e: stalls.append(e) if e.kind == "stalled" else None)
        await publish(nats_server.url, chat("lounge", "block"))
        await wait_until(lambda: bool(stalls), what="a stall reported")
        monitor = bot.system.stall_monitor
        assert monitor is not None
        count, longest = monitor.stalls, monitor.longest_stall
        assert bot.health_summary().stalls == bot.health().stalls == count  # health shows it
    named = [r.getMessage() for r in caplog.records if "blocked" in r.getMessage()]
    print(f"{count} stall(s), longest {longest:.2f} s: {named[0]}")
    assert count == 1
    assert longest >= 0.5
    assert stalls[0].path == f"/root/{DOMAIN}:lounge"
    assert any(f"{DOMAIN}:lounge" in text and "Blocker.chat" in text for text in named)
