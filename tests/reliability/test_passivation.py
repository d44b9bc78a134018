"""Passivation on a real nats-server: idle channels leave memory, and lose nothing.

With ``passivate_after``, configured channels start passivated (a binding and a
routing slot, no actor); a channel's event re-activates it; an actor idle that long
is passivated again, keeping what ``on_passivate`` returned for ``on_activate`` and
the binding's tracked bridge state (rank ...). Events that arrive while it passivates
are handled by the instance that takes over, in order.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from kryten_actors.bot import Bot, ChannelActor, on
from kryten_actors.bot.binding import ChannelBinding
from kryten_actors.config.connection import NatsConfig
from kryten_actors.protocol.events import ChatMessageEvent, RawEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.runtime import VirtualClock
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.polling import wait_until
from tests.reliability.load import chat_envelope
from tests.reliability.support import bot_config, seq_of

DOMAIN = "cytu.be"
SCHEME = scheme_for("seed")
AFTER = 60.0


class Tally(ChannelActor):
    """Counts its chat lines across passivations, through on_passivate/on_activate."""

    seen: ClassVar[dict[str, list[int]]] = {}
    activations: ClassVar[list[tuple[str, Any]]] = []
    hold: ClassVar[asyncio.Event | None] = None
    passivating: ClassVar[asyncio.Event] = asyncio.Event()

    def __init__(self) -> None:
        self.total = 0

    async def on_activate(self, state: Any) -> None:
        self.activations.append((self.channel, state))
        self.total = state["total"]

    async def on_passivate(self) -> Any:
        Tally.passivating.set()
        if Tally.hold is not None:
            await Tally.hold.wait()
        return {"total": self.total}

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        self.total += 1
        self.seen.setdefault(self.channel, []).append(seq_of(event))


def parts(binding: ChannelBinding) -> list[object]:
    """The binding's lazy parts, None for each not made."""
    b = binding
    return [b.existing_state(), b.existing_join(), b.existing_link(), b.existing_outbox()]


def line(channel: str, seq: int) -> tuple[str, bytes]:
    return SCHEME.event_subject(DOMAIN, channel, "chatMsg"), chat_envelope(DOMAIN, channel, seq)


def rank(channel: str, value: int) -> tuple[str, bytes]:
    body = RawEvent(event_name="rank", payload=value, channel=channel, domain=DOMAIN).to_bytes()
    return SCHEME.event_subject(DOMAIN, channel, "rank"), body


async def test_idle_channels_passivate_and_come_back_with_their_state(
    nats_server: NatsServer,
) -> None:
    Tally.seen, Tally.activations, Tally.hold = {}, [], None
    clock = VirtualClock()
    config = bot_config(
        nats_server.url, [(DOMAIN, "lounge"), (DOMAIN, "den")], passivate_after=AFTER
    )
    async with (
        Bot(config, actor=Tally, clock=clock) as bot,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as bridge,
    ):
        root = bot.system.root
        assert bot.channels.passivated == 2
        assert root.children() == [root.child("router")]  # no channel actor in memory

        for subject, body in (rank("lounge", 3), line("lounge", 0), line("lounge", 1)):
            await bridge.publish(subject, body)
        await wait_until(lambda: Tally.seen.get("lounge") == [0, 1], what="lounge's lines")
        assert bot.router_stats.activated == 1
        assert bot.channels.passivated == 1
        binding = bot.channels.binding(DOMAIN, "lounge")
        assert binding is not None
        assert binding.rank == 3

        clock.advance(AFTER + AFTER / 2)  # idle past passivate_after, and a sweep is due
        await wait_until(lambda: bot.channels.passivated == 2, what="lounge passivated")
        assert bot.channels.passivations == 1

        for seq in range(2, 52):
            subject, body = line("lounge", seq)
            await bridge.publish(subject, body)
        await wait_until(lambda: len(Tally.seen["lounge"]) == 52, what="every later line")
        assert Tally.seen["lounge"] == list(range(52))
        assert Tally.activations == [("lounge", {"total": 2})]
        assert binding.rank == 3  # tracked state outlived the instances
        assert bot.router_stats.activated == 2
        assert "den" not in Tally.seen

        # den never had an event: health, the backlog and a lifecycle notice only look, so
        # its binding still holds no tracked state, join tracker, bridge link or outbox
        den = bot.channels.binding(DOMAIN, "den")
        assert den is not None
        bot.health()
        bot.health_summary()
        assert bot.channels.backlog() == "0 queued events and 0 queued chat lines"
        assert parts(den) == [None] * 4
        assert None not in parts(binding)
    assert parts(den) == [None] * 4  # nor does stopping


async def test_events_arriving_while_passivating_are_handled_in_order(
    nats_server: NatsServer,
) -> None:
    Tally.seen, Tally.activations = {}, []
    Tally.hold = asyncio.Event()
    Tally.passivating = asyncio.Event()
    clock = VirtualClock()
    config = bot_config(nats_server.url, [(DOMAIN, "lounge")], passivate_after=AFTER)
    async with (
        Bot(config, actor=Tally, clock=clock) as bot,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as bridge,
    ):
        await bridge.publish(*line("lounge", 0))
        await wait_until(lambda: Tally.seen.get("lounge") == [0], what="the first line")
        clock.advance(AFTER + AFTER / 2)
        await asyncio.wait_for(Tally.passivating.wait(), 15)
        for seq in range(1, 21):
            await bridge.publish(*line("lounge", seq))
        await bridge.flush()
        await wait_until(lambda: bot.router_stats.routed == 21, what="the lines queued")
        Tally.hold.set()
        await wait_until(lambda: len(Tally.seen["lounge"]) == 21, what="the lines handled")
        assert Tally.seen["lounge"] == list(range(21))
        assert Tally.activations == [("lounge", {"total": 1})]  # taken over in place
        assert bot.channels.passivated == 0
        assert bot.system.dead_letters.total == 0
