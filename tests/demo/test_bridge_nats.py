"""SimulatedBridge over a real nats-server: events arrive, and a ``say`` request is answered."""

from __future__ import annotations

import json

from kryten_actors.config.connection import NatsConfig
from kryten_actors.demo import SimulatedBridge
from kryten_actors.protocol.events import decode_event
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.demo.conftest import record


async def test_bridge_over_a_real_server(nats_server: NatsServer) -> None:
    config = NatsConfig(servers=[nats_server.url])
    async with NatsTransport(config) as bridge_side, NatsTransport(config) as bot_side:
        recorder = await record(bot_side, "kryten.events.>")
        bridge = SimulatedBridge(
            bridge_side,
            profile="kryten-robot",
            channels=[("cytu.be", "Lounge"), ("cytu.be", "Cinema")],
            events_per_second=200,
            crash_channel="Cinema",
            crash_every=0.05,
        )
        async with bridge:
            await recorder.wait_for(
                lambda: (
                    len(recorder.messages) >= 150
                    and any(
                        b["payload"]["msg"] == "!crash" for b in recorder.bodies(".cinema.chatmsg")
                    )
                )
            )
            body = {
                "service": "robot",
                "command": "say",
                "args": {"message": "over NATS & back"},
                "meta": {"source": "t", "timestamp": "x", "domain": "cytu.be", "channel": "cinema"},
            }
            reply = await bot_side.request(
                "kryten.robot.command", json.dumps(body).encode(), timeout=5
            )
            assert json.loads(reply.data)["data"] == {"success": True}
            await recorder.wait_for(
                lambda: any(
                    b["payload"]["msg"] == "over NATS &amp; back"
                    for b in recorder.bodies(".cinema.chatmsg")
                )
            )
        for subject, data in recorder.messages:
            _, error = decode_event(data, event_hint=subject.rsplit(".", 1)[-1])
            assert error is None
        assert {b["channel"] for b in recorder.bodies()} == {"Lounge", "Cinema"}
        assert not any(b["payload"]["msg"] == "!crash" for b in recorder.bodies(".lounge.chatmsg"))
        assert bridge.stats.channels["Cinema"].commands_answered == 1
