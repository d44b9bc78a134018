"""Hostile bodies on a real nats-server: bounded memory, nothing escapes the router.

Issue 11, items 1 and 10. Figures these tests reach (2 cores, loaded machine):

- 1,000 poison bodies of 1 MB (500 undecodable, 500 on unroutable subjects) leave
  the dead-letter store holding ≤ 8 MiB (its budget) and the process's traced
  Python memory within a few MiB of the idle bot (was ~1,000 MB);
- 100 queued 1 MB events under ``mailbox.max_bytes: 8 MiB`` hold ≤ 8 events (was
  every one of them), the rest counted as ``mailbox_full``;
- a 100,000-deep JSON body on an unknown channel (``spawn_unknown_channels``) and on a
  served one ends counted (``foreign_channel`` / ``decode_failed``); nothing is raised.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import tracemalloc
from pathlib import Path
from typing import ClassVar

import pytest

from kryten_actors.bot import Bot, ChannelActor, on
from kryten_actors.config.connection import NatsConfig
from kryten_actors.protocol.events import ChatMessageEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.polling import wait_until
from tests.reliability.load import chat_envelope
from tests.reliability.support import bot_config

MB = 1_000_000
MIB = 1024 * 1024
DOMAIN = "cytu.be"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Quiet(ChannelActor):
    """Handles chat lines; the one of text ``hold`` waits for ``gate``."""

    gate: ClassVar[asyncio.Event]
    handled: ClassVar[list[str]] = []

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        if event.msg == "hold":
            await self.gate.wait()
        self.handled.append(event.msg)


def padded_chat(channel: str, size: int, seq: int) -> bytes:
    """A valid chat envelope of exactly ``size`` bytes."""
    base = chat_envelope(DOMAIN, channel, seq, username="")
    return chat_envelope(DOMAIN, channel, seq, username="p" * (size - len(base)))


async def test_a_thousand_poison_megabytes_leave_memory_bounded(nats_server: NatsServer) -> None:
    Quiet.gate = asyncio.Event()
    scheme = scheme_for("seed")
    subject = scheme.event_subject(DOMAIN, "lounge", "chatMsg")
    async with (
        Bot(bot_config(nats_server.url, [(DOMAIN, "lounge")]), actor=Quiet) as bot,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as bridge,
    ):
        letters = bot.system.dead_letters
        gc.collect()
        tracemalloc.start()
        idle_traced = tracemalloc.get_traced_memory()[0]
        idle_rss = rss_mib()
        poison = b"{" + b"x" * (MB - 1)  # not JSON; one megabyte
        for index in range(500):
            await bridge.publish(subject, poison)
            await bridge.publish(f"cytube.events.unroutable{index}", poison)
            if index % 8 == 7:
                # one process publishes and consumes: let the bot read before the server's
                # write deadline calls it a slow consumer
                await bridge.flush()
                await wait_until(lambda i=index: letters.total >= 2 * (i + 1) - 16)
        await bridge.flush()
        await wait_until(lambda: letters.total >= 1000, what="1,000 poison letters")
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0] - idle_traced
        tracemalloc.stop()
        grown = rss_mib() - idle_rss
        counts = dict(letters.counts)
        held, total = letters.bytes_held, letters.bytes_total
        sizes = {letter.size for letter in letters.recent}
        print(f"traced +{traced / MIB:.1f} MiB, RSS +{grown:.1f} MiB, store {held / MIB:.2f} MiB")
    assert counts == {"decode_failed": 500, "unroutable": 500}
    assert total == 1000 * MB
    assert held <= 8 * MIB
    assert sizes == {MB}
    assert traced < 20 * MIB, f"the poison kept {traced / MIB:.0f} MiB of Python memory"
    assert grown < 100, f"RSS grew {grown:.0f} MiB (was ~1,000 MiB before the byte budget)"


async def test_mailbox_max_bytes_bounds_what_a_stuck_channel_holds(nats_server: NatsServer) -> None:
    Quiet.gate = asyncio.Event()
    Quiet.handled = []
    subject = scheme_for("seed").event_subject(DOMAIN, "lounge", "chatMsg")
    config = bot_config(
        nats_server.url,
        [(DOMAIN, "lounge")],
        mailbox={"capacity": 1000, "overflow": "drop_newest", "max_bytes": 8 * MIB},
    )
    async with (
        Bot(config, actor=Quiet) as bot,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as bridge,
    ):
        await bridge.publish(subject, chat_envelope(DOMAIN, "lounge", 0).replace(b'"0"', b'"hold"'))
        for seq in range(1, 101):
            await bridge.publish(subject, padded_chat("lounge", MB, seq))
            if seq % 8 == 0:
                await bridge.flush()
                await wait_until(lambda s=seq: bot.router_stats.received >= s - 8)
        await bridge.flush()
        await wait_until(lambda: bot.router_stats.received == 101, what="every event routed")
        actor = bot.health().actors[f"{DOMAIN}/lounge"]
        depth, dropped = actor.mailbox_depth, actor.dropped
        Quiet.gate.set()
        await wait_until(lambda: len(Quiet.handled) == 1 + depth, what="the kept events")
        letters = bot.system.dead_letters
        full = letters.counts.get("mailbox_full", 0)
        held = letters.bytes_held
    print(f"kept {depth} of 100 one-megabyte events; {dropped} dropped")
    assert 1 <= depth <= 8
    assert dropped == full == 100 - depth
    assert held <= 8 * MIB


@pytest.mark.parametrize("depth", [100_000])
async def test_deeply_nested_bodies_end_counted_and_never_escape_route(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture, depth: int
) -> None:
    Quiet.gate = asyncio.Event()
    Quiet.gate.set()
    Quiet.handled = []
    scheme = scheme_for("kryten-robot")
    config = bot_config(
        nats_server.url,
        [("localhost", "lounge")],
        profile="kryten-robot",
        spawn_unknown_channels=True,
    )
    nested = b"[" * depth
    nested_domain = b'{"domain": ' + b"[" * depth
    async with (
        Bot(config, actor=Quiet) as bot,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as bridge,
    ):
        caplog.set_level(logging.WARNING)
        for body in (nested, nested_domain):
            await bridge.publish(scheme.event_subject("localhost", "stranger", "chatMsg"), body)
            await bridge.publish(scheme.event_subject("localhost", "lounge", "chatMsg"), body)
        await bridge.publish(
            scheme.event_subject("localhost", "lounge", "chatMsg"),
            chat_envelope("localhost", "lounge", 7),
        )
        await bridge.flush()
        await wait_until(lambda: Quiet.handled == ["7"], what="the good event after the bad")
        stats = bot.router_stats
        letters = dict(bot.system.dead_letters.counts)
    ended = (
        stats.routed
        + stats.unroutable
        + stats.foreign_channel
        + stats.oversized
        + stats.mailbox_full
        + stats.spawn_failed
    )
    assert stats.received == ended == 5
    assert stats.foreign_channel == 2  # no domain can be read from the bodies
    assert letters == {"decode_failed": 2}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
