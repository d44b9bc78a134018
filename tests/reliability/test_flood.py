"""Flood: one channel gets 100x its mailbox capacity while its handler is stuck."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
from tests.reliability.support import Recorder, bot_config, seq_of

CAPACITY = 50
FLOOD_EVENTS = 100 * CAPACITY
OTHER_EVENTS = 500
DOMAIN = "cytu.be"
FLOOD = "flooded"
OTHERS = ["quiet1", "quiet2"]
CHANNELS = [(DOMAIN, name) for name in [FLOOD, *OTHERS]]
SCHEME = scheme_for("seed")
_STEP = (FLOOD_EVENTS - 1) // OTHER_EVENTS  # flood events between two rounds of the others


class GatedActor(ChannelActor):
    """Records sequence numbers; the flooded channel first waits for ``gate``."""

    recorder: ClassVar[Recorder]
    entered: ClassVar[asyncio.Event]
    gate: ClassVar[asyncio.Event]

    @on("chatMsg")
    async def handle(self, event: ChatMessageEvent) -> None:
        if self.channel == FLOOD:
            self.entered.set()
            await self.gate.wait()
        self.recorder.record(self.channel, seq_of(event))


async def _publish(bridge: NatsTransport, channel: str, seqs: range) -> None:
    subject = SCHEME.event_subject(DOMAIN, channel, "chatMsg")
    for seq in seqs:
        await bridge.publish(subject, chat_envelope(DOMAIN, channel, seq))


async def _publish_flood_and_others(bridge: NatsTransport, recorder: Recorder | None) -> None:
    """The rest of the flood, with one event of each other channel after every few.

    With ``recorder``, each round waits until the other channels handled their event:
    their own mailboxes (of the same small capacity) then never hold a burst, so any
    loss there could only come from the flood.
    """
    for n in range(OTHER_EVENTS):
        start = 1 + n * _STEP
        await _publish(bridge, FLOOD, range(start, start + _STEP))
        for other in OTHERS:
            await _publish(bridge, other, range(n, n + 1))
        if recorder is not None:
            await recorder.wait_for(
                _round_done(recorder, n + 1), within=5, what=f"round {n} of the other channels"
            )
    await _publish(bridge, FLOOD, range(1 + OTHER_EVENTS * _STEP, FLOOD_EVENTS))
    await bridge.flush()


def _round_done(recorder: Recorder, count: int) -> Callable[[], bool]:
    return lambda: all(recorder.count(o) == count for o in OTHERS)


def _fresh_actor_state() -> Recorder:
    recorder = GatedActor.recorder = Recorder()
    GatedActor.entered = asyncio.Event()
    GatedActor.gate = asyncio.Event()
    return recorder


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        ("drop_newest", list(range(CAPACITY + 1))),
        ("drop_oldest", [0, *range(FLOOD_EVENTS - CAPACITY, FLOOD_EVENTS)]),
        ("reject", list(range(CAPACITY + 1))),
    ],
)
async def test_flood_is_bounded_and_counted(
    nats_server: NatsServer, policy: str, kept: list[int]
) -> None:
    recorder = _fresh_actor_state()
    config = bot_config(
        nats_server.url, CHANNELS, mailbox={"capacity": CAPACITY, "overflow": policy}
    )
    dropped = FLOOD_EVENTS - len(kept)
    total = FLOOD_EVENTS + OTHER_EVENTS * len(OTHERS)
    async with (
        Bot(config, actor=GatedActor) as bot,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as bridge,
    ):
        # the first flood event occupies the handler, so exactly CAPACITY more fit
        await _publish(bridge, FLOOD, range(1))
        async with asyncio.timeout(5):
            await GatedActor.entered.wait()
        # the other channels keep up while the flooded one is stuck
        await _publish_flood_and_others(bridge, recorder)
        await wait_until(
            lambda: bot.router_stats.received == total, within=20, what="the router to see all"
        )
        flooded = bot.health().actors[f"{DOMAIN}/{FLOOD}"]
        assert flooded.mailbox_depth == CAPACITY
        assert flooded.mailbox_high_water == CAPACITY
        assert flooded.dropped == dropped
        assert recorder.count(FLOOD) == 0
        # bounded memory: the dead-letter ring keeps at most its capacity
        assert len(bot.system.dead_letters.recent) <= 1000

        GatedActor.gate.set()
        await recorder.wait_for(
            lambda: recorder.count(FLOOD) == len(kept), within=10, what="the kept flood events"
        )
        await wait_until(
            lambda: bot.health().actors[f"{DOMAIN}/{FLOOD}"].processed == len(kept),
            within=5,
            what="the flooded actor to finish",
        )
        health = bot.health()

    assert recorder.seen[FLOOD] == kept
    for other in OTHERS:
        assert recorder.seen[other] == list(range(OTHER_EVENTS))
        actor = health.actors[f"{DOMAIN}/{other}"]
        assert (actor.dropped, actor.failed) == (0, 0)
    assert health.dead_letters == {"mailbox_full": dropped}
    router = health.router
    assert router["received"] == total
    assert router["mailbox_full"] == (dropped if policy == "reject" else 0)
    assert router["routed"] == total - router["mailbox_full"]
    assert bot.transport.stats.slow_consumer_drops == 0


async def test_block_policy_is_lossless_backpressure(nats_server: NatsServer) -> None:
    recorder = _fresh_actor_state()
    config = bot_config(
        nats_server.url, CHANNELS, mailbox={"capacity": CAPACITY, "overflow": "block"}
    )
    total = FLOOD_EVENTS + OTHER_EVENTS * len(OTHERS)
    async with (
        Bot(config, actor=GatedActor) as bot,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as bridge,
    ):
        await _publish(bridge, FLOOD, range(1))
        async with asyncio.timeout(5):
            await GatedActor.entered.wait()
        await _publish_flood_and_others(bridge, None)

        # the router holds flood event CAPACITY + 1 until there is room: it stalls (one
        # message in flight), and only the other channels' events before it got through
        flood_key = f"{DOMAIN}/{FLOOD}"
        stats = bot.router_stats
        await wait_until(
            lambda: (
                bot.health().actors[flood_key].mailbox_depth == CAPACITY
                and stats.received == stats.routed + 1
            ),
            within=20,
            what="the router to stall on the full mailbox",
        )
        others_before = len(OTHERS) * (CAPACITY // _STEP)
        assert stats.routed == 1 + CAPACITY + others_before
        await recorder.wait_for(
            lambda: recorder.total == others_before, within=5, what="the earlier events"
        )

        GatedActor.gate.set()
        await recorder.wait_for(lambda: recorder.total == total, within=20, what="every event")
        health = bot.health()

    assert recorder.seen[FLOOD] == list(range(FLOOD_EVENTS))
    for other in OTHERS:
        assert recorder.seen[other] == list(range(OTHER_EVENTS))
    flooded = health.actors[f"{DOMAIN}/{FLOOD}"]
    assert flooded.mailbox_high_water == CAPACITY
    assert flooded.dropped == 0
    assert health.dead_letters == {}
    assert health.router["routed"] == health.router["received"] == total
    assert health.router["mailbox_full"] == 0
