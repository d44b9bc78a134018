"""A Bot through the FakeBridge's simulated CyTube over a real nats-server: restart, flood,
refusals — what the real stack does, without it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kryten_actors import (
    Bot,
    BridgeUnavailable,
    ChannelActor,
    ChatMessageEvent,
    CommandRejected,
    KrytenConfig,
    on,
)
from kryten_actors.config import NatsConfig
from kryten_actors.testing import BotHarness, FakeBridge
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.pinger import Pinger, robot_config
from tests.polling import wait_until

DOMAIN, CHANNEL = "cytu.be", "lounge"


def _config(server: NatsServer, **settings: Any) -> KrytenConfig:
    settings.setdefault("bridge", {"probe_on_start": False})
    return robot_config(server.url, DOMAIN, CHANNEL, **settings)


@pytest.fixture
async def bridge(nats_server: NatsServer) -> AsyncIterator[FakeBridge]:
    async with NatsTransport(NatsConfig(servers=[nats_server.url])) as side:
        fake = FakeBridge()
        await fake.attach(side)
        try:
            yield fake
        finally:
            await fake.detach()


async def test_restart_replays_nothing_and_delivers_the_held_line(
    nats_server: NatsServer, bridge: FakeBridge
) -> None:
    Pinger.answered = []
    old = [("alice", f"!ping old{i}") for i in range(5)]
    async with Bot(_config(nats_server), actor=Pinger) as bot:
        binding = bot.channels.binding(DOMAIN, CHANNEL)
        assert binding is not None
        room = await bridge.serve(CHANNEL, history=old)
        await wait_until(lambda: binding.join.settled and binding.state.rank == 5, what="join")
        assert binding.state.username == "KrytenBot"
        assert binding.link.identity is not None
        await bridge.say(CHANNEL, "alice", "!ping live1")
        await wait_until(lambda: "pong live1" in room.shown, what="the first pong")

        await bridge.go_down()
        await wait_until(lambda: binding.link.is_down, what="the bridge to be down")
        held = asyncio.create_task(bot.channel(DOMAIN, CHANNEL).send_chat("held line"))
        await asyncio.sleep(0)
        assert not held.done()
        await bridge.come_back()
        await asyncio.wait_for(held, 15)
        await bridge.say(CHANNEL, "alice", "!ping live2")
        await wait_until(lambda: "pong live2" in room.shown, what="the pong after the rejoin")

        # the history was replayed twice (serve, come_back); none of it was answered
        assert binding.counters.replayed_skipped >= 2 * len(old)
        assert Pinger.answered == ["live1", "live2"]
        assert room.shown == ["pong live1", "held line", "pong live2"]
        actor = bot.health().actors[f"{DOMAIN}/{CHANNEL}"]
        assert (actor.restarts, actor.failed) == (0, 0)


async def test_a_flood_of_fifty_lines_all_arrive_in_order(
    nats_server: NatsServer, bridge: FakeBridge
) -> None:
    async with Bot(_config(nats_server), actor=ChannelActor) as bot:
        room = await bridge.serve(CHANNEL)
        binding = bot.channels.binding(DOMAIN, CHANNEL)
        assert binding is not None
        await wait_until(lambda: binding.join.settled and binding.state.rank == 5, what="join")
        channel = bot.channel(DOMAIN, CHANNEL)
        lines = [f"line {i}" for i in range(50)]
        results = await asyncio.wait_for(
            asyncio.gather(*(channel.send_chat(text) for text in lines)), 60
        )
        assert room.shown == lines
        assert all(result.confirmed for result in results)
        # what CyTube dropped anyway (jitter on a loaded machine) was sent again
        assert binding.outbox.stats.lines_resent == room.dropped


async def test_without_pacing_cytube_drops_the_flood_and_says_cooldown(
    nats_server: NatsServer, bridge: FakeBridge
) -> None:
    config = _config(nats_server, chat={"pace": False})
    async with Bot(config, actor=ChannelActor) as bot:
        room = await bridge.serve(CHANNEL)
        binding = bot.channels.binding(DOMAIN, CHANNEL)
        assert binding is not None
        await wait_until(lambda: binding.join.settled, what="join")
        channel = bot.channel(DOMAIN, CHANNEL)
        await asyncio.gather(*(channel.send_chat(f"line {i}") for i in range(30)))
        # CyTube's limiter: 20 at once, then 10/s; 30 lines sent in far less than a second
        await wait_until(lambda: len(room.shown) + room.dropped == 30, what="all 30 judged")
        assert room.dropped > 0
        assert len(room.shown) >= 20


async def test_cytubes_refusals_raise_command_rejected_with_its_text(
    nats_server: NatsServer, bridge: FakeBridge
) -> None:
    async with Bot(_config(nats_server), actor=ChannelActor) as bot:
        room = await bridge.serve(CHANNEL, guests=["Guesty"])
        binding = bot.channels.binding(DOMAIN, CHANNEL)
        assert binding is not None
        await wait_until(lambda: binding.join.settled, what="join")
        channel = bot.channel(DOMAIN, CHANNEL)
        refusals = [
            (channel.send_pm("ghost", "hi"), "PM failed: ghost isn't connected"),
            (channel.set_channel_rank("Guesty", 2), "not a registered account"),
            (channel.add_filter("bad", "(", replace="x"), "Invalid regex"),
        ]
        for call, text in refusals:
            with pytest.raises(CommandRejected, match=text) as info:
                await call
            assert info.value.source == "cytube"
            assert text in str(info.value.reply)  # the refusal event's payload
        await channel.add_media("yt", "abc")
        with pytest.raises(CommandRejected, match="already on the playlist") as dup:
            await channel.add_media("yt", "abc")
        assert dup.value.source == "cytube"
        # the silent cases are refused before sending, from the tracked state
        await wait_until(lambda: binding.state.playlist.uids == [1], what="the queue event")
        for call, text in [
            (channel.delete_media(99), "uid 99 is not in the playlist"),
            (channel.jump_to(99), "uid 99 is not in the playlist"),
            (channel.kick("nobody"), "'nobody' is not in the channel"),
        ]:
            with pytest.raises(CommandRejected, match=text) as info:
                await call
            assert info.value.source == "bot"
        result = await channel.delete_media(1)
        assert result.confirmed is True
        assert room.playlist == []


# --- the same behaviour in the in-memory harness, on virtual time --------------------------
async def test_in_the_harness_a_restart_answers_no_replayed_line() -> None:
    Pinger.answered = []
    async with BotHarness(Pinger, channels=[CHANNEL], profile="kryten-robot") as h:
        room = await h.bridge.serve(CHANNEL, history=[("alice", "!ping old")])
        await h.idle()
        await h.bridge.say(CHANNEL, "alice", "!ping live")
        await h.idle()
        await h.bridge.restart()
        await h.idle()
        binding = h.bot.channels.binding(DOMAIN, CHANNEL)
        assert binding is not None
        assert binding.join.settled
        # serve: "!ping old"; restart: it, "!ping live" and "pong live"
        assert binding.counters.replayed_skipped == 4
        assert Pinger.answered == ["live"]
        assert room.shown == ["pong live"]


async def test_in_the_harness_fifty_lines_are_paced_exactly_to_cytubes_limit() -> None:
    async with BotHarness(ChannelActor, channels=[CHANNEL], profile="kryten-robot") as h:
        room = await h.bridge.serve(CHANNEL)
        await h.idle()
        channel = h.bot.channel(DOMAIN, CHANNEL)
        lines = [f"line {i}" for i in range(50)]
        flood = asyncio.gather(*(channel.send_chat(text) for text in lines))
        for _ in range(1000):  # time moves to each pacing timer in turn
            if flood.done():
                break
            await asyncio.sleep(0)  # idle() returns without yielding when the bot is quiet
            due = h.clock.next_due
            await h.advance(0.0 if due is None else max(0.0, due - h.now))
        await asyncio.wait_for(flood, 5)
        ideal = (50 - 20) / 10  # CyTube: 20 at once, then 10 a second
        assert ideal <= h.now <= ideal * 1.25
        assert room.shown == lines
        assert room.dropped == 0  # on virtual time the governor mirrors CyTube exactly


class Inviter(ChannelActor):
    """PMs whoever it is told to; reports CyTube's refusal in chat."""

    @on("chatMsg")
    async def invite(self, event: ChatMessageEvent) -> None:
        if event.message.startswith("!invite "):
            try:
                await self.send_pm(event.message.split()[-1], "come over")
            except CommandRejected as error:
                await self.send_chat(f"{error.source}: {error.reason}")


async def test_in_the_harness_a_handler_sees_cytubes_refusal() -> None:
    async with BotHarness(Inviter, channels=[CHANNEL], profile="kryten-robot") as h:
        room = await h.bridge.serve(CHANNEL)
        await h.idle()
        await h.bridge.say(CHANNEL, "alice", "!invite ghost")
        await h.idle()
        assert room.shown == ["cytube: PM failed: ghost isn't connected to this channel."]


async def test_in_the_harness_state_queries_read_the_served_channel() -> None:
    async with BotHarness(ChannelActor, channels=[CHANNEL], profile="kryten-robot") as h:
        await h.bridge.serve(CHANNEL, users={"alice": 1, "bob": 0})
        await h.idle()
        channel = h.bot.channel(DOMAIN, CHANNEL)
        await channel.add_media("yt", "abc")
        users = await channel.state.userlist()
        playlist = await channel.state.playlist()
        assert sorted(u.name for u in users.users) == ["KrytenBot", "alice", "bob"]
        assert [item.media.id for item in playlist.items] == ["abc"]
        h.reply_with("state.playlist", {"playlist": []})  # a configured reply still wins
        assert (await channel.state.playlist()).items == []


async def test_in_the_harness_an_outage_degrades_health_and_follows_down_policy() -> None:
    settings = {"bridge": {"probe_on_start": False, "announce": False, "down_policy": "fail"}}
    async with BotHarness(
        ChannelActor, channels=[CHANNEL], profile="kryten-robot", settings=settings
    ) as h:
        await h.bridge.serve(CHANNEL)
        await h.idle()
        key = f"{DOMAIN}/{CHANNEL}"
        assert h.health().healthy
        await h.bridge.go_down()
        await h.idle()
        assert h.health().degraded == {key: "bridge down"}
        assert not h.health().healthy
        with pytest.raises(BridgeUnavailable, match="its bridge is down"):
            await h.bot.channel(DOMAIN, CHANNEL).send_chat("not now")
        await h.bridge.come_back()
        await h.idle()
        assert h.health().degraded == {}
        assert h.health().healthy
        await h.bot.channel(DOMAIN, CHANNEL).send_chat("now")
        assert [c.payload for c in h.sent if c.action == "say"] == [{"message": "now"}]


async def test_in_the_harness_a_line_sent_while_the_bridge_crashed_goes_after_the_rejoin() -> None:
    async with BotHarness(ChannelActor, channels=[CHANNEL], profile="kryten-robot") as h:
        room = await h.bridge.serve(CHANNEL)
        await h.idle()
        binding = h.bot.channels.binding(DOMAIN, CHANNEL)
        assert binding is not None
        await h.bridge.crash()
        held = asyncio.create_task(h.bot.channel(DOMAIN, CHANNEL).send_chat("held"))
        await wait_until(lambda: binding.link.is_down, what="no responder")
        await h.bridge.come_back(rejoin=False)  # announced, not yet in the channel
        await h.idle()
        assert binding.link.state == "up"
        assert not held.done()  # CyTube would ignore it before the bridge's login
        assert [r.command for r in h.bridge.requests if r.command == "say"] == []
        await h.bridge.rejoin()
        await asyncio.wait_for(held, 5)
        assert room.shown == ["held"]
        assert binding.join.settled
