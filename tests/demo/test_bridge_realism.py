"""A Bot through the demo's simulated bridge over a real nats-server: lifecycle and restart,
CyTube's flood control, CyTube's refusals — what the real bridge does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kryten_actors import Bot, ChannelActor, CommandRejected, KrytenConfig
from kryten_actors.config import NatsConfig
from kryten_actors.demo import SimulatedBridge
from kryten_actors.demo.scenario import SimUser
from kryten_actors.transport.memory import MemoryTransport
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.demo.conftest import Recorder, record
from tests.pinger import Pinger, robot_config
from tests.polling import wait_until

DOMAIN, CHANNEL, BOT = "cytu.be", "lounge", "KrytenBot"


def _config(server: NatsServer, **settings: Any) -> KrytenConfig:
    return robot_config(server.url, DOMAIN, CHANNEL, **settings)


@pytest.fixture
async def side(nats_server: NatsServer) -> AsyncIterator[NatsTransport]:
    async with NatsTransport(NatsConfig(servers=[nats_server.url])) as transport:
        yield transport


def _bot_lines(recorder: Recorder) -> list[str]:
    bodies = recorder.bodies(".chatmsg")
    return [b["payload"]["msg"] for b in bodies if b["payload"]["username"] == BOT]


async def test_restart_replays_history_no_line_is_answered_twice(
    nats_server: NatsServer, side: NatsTransport
) -> None:
    Pinger.answered = []
    recorder = await record(side, "kryten.>")
    bridge = SimulatedBridge(
        side, profile="kryten-robot", channels=[(DOMAIN, CHANNEL)], events_per_second=0.01
    )
    async with Bot(_config(nats_server), actor=Pinger) as bot, bridge:
        binding = bot.channels.binding(DOMAIN, CHANNEL)
        assert binding is not None
        await wait_until(lambda: binding.link.identity is not None and binding.state.rank == 5)
        await bridge.say(CHANNEL, "alice", "!ping one")
        await wait_until(lambda: "pong one" in _bot_lines(recorder), what="the first pong")

        await bridge.go_down()
        await wait_until(lambda: binding.link.is_down, what="the bridge to be down")
        held = asyncio.create_task(bot.channel(DOMAIN, CHANNEL).send_chat("held line"))
        await bridge.come_back()
        await asyncio.wait_for(held, 15)
        await wait_until(lambda: "held line" in _bot_lines(recorder), what="the held line")
        await bridge.say(CHANNEL, "alice", "!ping two")
        await wait_until(lambda: "pong two" in _bot_lines(recorder), what="the second pong")

        # "!ping one" was in the replayed history: skipped, not answered again
        assert Pinger.answered == ["one", "two"]
        assert binding.counters.replayed_skipped >= 1
        kinds = [
            subject.rsplit(".", 1)[-1]
            for subject, _ in recorder.messages
            if ".lifecycle.robot." in subject
        ]
        assert kinds[:3] == ["startup", "connected", "startup"]
        assert "shutdown" in kinds
        actor = bot.health().actors[f"{DOMAIN}/{CHANNEL}"]
        assert (actor.restarts, actor.failed) == (0, 0)


async def test_fifty_lines_all_arrive_in_order_through_cytubes_flood_control(
    nats_server: NatsServer, side: NatsTransport
) -> None:
    recorder = await record(side, "kryten.events.>")
    bridge = SimulatedBridge(
        side, profile="kryten-robot", channels=[(DOMAIN, CHANNEL)], events_per_second=0.01
    )
    async with Bot(_config(nats_server), actor=ChannelActor) as bot, bridge:
        binding = bot.channels.binding(DOMAIN, CHANNEL)
        assert binding is not None
        await wait_until(lambda: binding.join.settled and binding.state.rank == 5)
        channel = bot.channel(DOMAIN, CHANNEL)
        lines = [f"line {i}" for i in range(50)]
        await asyncio.wait_for(asyncio.gather(*(channel.send_chat(t) for t in lines)), 60)
        await wait_until(lambda: _bot_lines(recorder)[-1:] == ["line 49"])
        assert _bot_lines(recorder) == lines
        state = bridge.states[CHANNEL]
        assert binding.outbox.stats.lines_resent == state.flood_dropped


async def test_an_unpaced_flood_is_dropped_with_cooldown(side: NatsTransport) -> None:
    recorder = await record(side, "kryten.events.>")
    bridge = SimulatedBridge(
        side, profile="kryten-robot", channels=[(DOMAIN, CHANNEL)], events_per_second=0.01
    )
    async with bridge:
        state = bridge.states[CHANNEL]
        for i in range(30):
            body = {
                "service": "robot",
                "command": "say",
                "args": {"message": f"flood {i}"},
                "meta": {"domain": DOMAIN, "channel": CHANNEL},
            }
            await side.request("kryten.robot.command", json.dumps(body).encode(), timeout=5)
        await wait_until(lambda: len(recorder.bodies(".cooldown")) == state.flood_dropped > 0)
        assert (
            len([m for m in _bot_lines(recorder) if m.startswith("flood")])
            == 30 - state.flood_dropped
        )


async def test_cytubes_refusals_raise_command_rejected(
    nats_server: NatsServer, side: NatsTransport
) -> None:
    bridge = SimulatedBridge(
        side, profile="kryten-robot", channels=[(DOMAIN, CHANNEL)], events_per_second=0.01
    )
    async with Bot(_config(nats_server), actor=ChannelActor) as bot, bridge:
        binding = bot.channels.binding(DOMAIN, CHANNEL)
        assert binding is not None
        await wait_until(lambda: binding.join.settled and binding.state.rank == 5)
        bridge.states[CHANNEL].users["Guesty"] = SimUser("Guesty", 0, "x.y.z.w")
        channel = bot.channel(DOMAIN, CHANNEL)
        for call, text in [
            (channel.send_pm("ghost", "hi"), "PM failed: ghost isn't connected"),
            (channel.set_channel_rank("Guesty", 2), "not a registered account"),
            (channel.add_filter("bad", "(", replace="x"), "Invalid regex"),
        ]:
            with pytest.raises(CommandRejected, match=text) as info:
                await call
            assert info.value.source == "cytube"


async def test_in_the_seed_profile_a_restart_replays_nothing_either() -> None:
    Pinger.answered = []
    memory = MemoryTransport()
    await memory.connect()
    config = KrytenConfig.from_dict(
        {"profile": "seed", "channels": [{"domain": DOMAIN, "channel": CHANNEL}]}
    )
    bridge = SimulatedBridge(
        memory, profile="seed", channels=[(DOMAIN, CHANNEL)], events_per_second=0.01
    )
    recorder = await record(memory, "cytube.events.>")
    async with Bot(config, actor=Pinger, transport=memory) as bot, bridge:
        binding = bot.channels.binding(DOMAIN, CHANNEL)
        assert binding is not None
        await wait_until(lambda: binding.state.rank == 5 and binding.join.settled)
        await bridge.say(CHANNEL, "alice", "!ping one")
        await wait_until(lambda: "pong one" in _bot_lines(recorder), what="the first pong")
        skipped = binding.counters.replayed_skipped
        await bridge.restart()
        await wait_until(lambda: binding.counters.replayed_skipped > skipped, what="the replay")
        await bridge.say(CHANNEL, "alice", "!ping two")
        await wait_until(lambda: "pong two" in _bot_lines(recorder), what="the second pong")
        assert Pinger.answered == ["one", "two"]
    await memory.close()
