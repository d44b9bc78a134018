"""nats-server restart under load: reconnect, resubscribe, deliver what was queued meanwhile."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from kryten_actors.bot import Bot, ChannelActor, on
from kryten_actors.config.connection import NatsConfig
from kryten_actors.protocol.events import ChatMessageEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.polling import wait_until
from tests.reliability.load import chat_envelope
from tests.reliability.proxy import TcpProxy
from tests.reliability.support import Recorder, SubjectCounter, bot_config, seq_of

DOMAIN = "cytu.be"
CHANNELS = ["lounge", "den", "attic"]
BEFORE, DURING, AFTER = 200, 100, 200  # events per channel in each phase
SCHEME = scheme_for("seed")


class EchoActor(ChannelActor):
    """Answers every chat event with one chat command ``echo <seq>``, once ``gate`` is open."""

    recorder: ClassVar[Recorder]
    gate: ClassVar[asyncio.Event]

    @on("chatMsg")
    async def handle(self, event: ChatMessageEvent) -> None:
        await self.gate.wait()
        seq = seq_of(event)
        await self.send_chat(f"echo {seq}")
        self.recorder.record(self.channel, seq)


async def _publish(bridge: NatsTransport, seqs: range) -> None:
    for seq in seqs:
        for channel in CHANNELS:
            subject = SCHEME.event_subject(DOMAIN, channel, "chatMsg")
            await bridge.publish(subject, chat_envelope(DOMAIN, channel, seq))
    await bridge.flush()


def _echoed(commands: SubjectCounter, channel: str) -> list[int]:
    subject = SCHEME.command_subject(DOMAIN, channel, "sendChat")
    return [
        int(data.split(b'"echo ', 1)[1].split(b'"', 1)[0])
        for subj, data in commands.messages
        if subj == subject
    ]


async def test_restart_under_load_reconnects_and_delivers_queued_commands(
    nats_server: NatsServer,
) -> None:
    recorder = EchoActor.recorder = Recorder()
    gate = EchoActor.gate = asyncio.Event()
    gate.set()
    bridge_config = NatsConfig(servers=[nats_server.url], reconnect_wait=0.05)
    n = len(CHANNELS)
    async with (
        TcpProxy(nats_server.host, nats_server.port) as proxy,
        SubjectCounter(nats_server.url, "cytube.commands.>") as commands,
        NatsTransport(bridge_config) as bridge,
        Bot(bot_config(proxy.url, [(DOMAIN, c) for c in CHANNELS]), actor=EchoActor) as bot,
    ):
        # 1. load before the outage
        await _publish(bridge, range(BEFORE))
        await commands.wait_for(n * BEFORE, within=20)

        # 2. events queued in the mailboxes, then the server dies
        gate.clear()
        await _publish(bridge, range(BEFORE, BEFORE + DURING))
        routed = n * (BEFORE + DURING)
        await wait_until(lambda: bot.router_stats.routed == routed, within=10, what="routing")
        await proxy.pause()
        await nats_server.kill()
        await wait_until(lambda: not bot.transport.is_connected, within=10, what="disconnect")

        # 3. the handlers send their commands during the outage (buffered by the client)
        gate.set()
        await recorder.wait_for(lambda: recorder.total == routed, within=10, what="handlers")
        assert bot.sender.stats.sent == routed
        assert bot.sender.stats.failed == 0
        assert not bot.transport.is_connected

        # 4. the server comes back; the bot reconnects only once the counter listens again
        await nats_server.start()
        await wait_until(
            lambda: commands.transport.stats.reconnects == 1 and bridge.stats.reconnects == 1,
            within=15,
            what="the test's own connections to reconnect",
        )
        await commands.transport.flush()  # its subscription is registered again
        await proxy.resume()
        await wait_until(lambda: bot.transport.is_connected, within=15, what="bot reconnect")
        await commands.wait_for(routed, within=20)

        # 5. subscriptions were restored: new events reach the bot and are answered
        await _publish(bridge, range(BEFORE + DURING, BEFORE + DURING + AFTER))
        total = n * (BEFORE + DURING + AFTER)
        await commands.wait_for(total, within=20)
        await commands.transport.flush()
        health = bot.health()

    for channel in CHANNELS:
        expected = list(range(BEFORE + DURING + AFTER))
        assert recorder.seen[channel] == expected
        assert _echoed(commands, channel) == expected
    assert len(commands.messages) == total
    assert health.commands_sent == total
    assert health.router["received"] == health.router["routed"] == total
    assert health.dead_letters == {}
    assert bot.transport.stats.reconnects == 1
