"""The control endpoint on a real nats-server: restart, stop, join, leave; off by default."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on
from kryten_actors.config.connection import NatsConfig
from kryten_actors.transport.base import RetryPolicy
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_service import control_subject
from kryten_actors.transport.server import NatsServer
from tests.bot.support import chat
from tests.polling import wait_until

NAME = "controlled"
SUBJECT = control_subject(NAME)


class Crashing(ChannelActor):
    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        if event.message == "crash":
            raise RuntimeError("asked to crash")


def config(server: NatsServer, **control: Any) -> dict[str, Any]:
    return {
        "service_name": NAME,
        "nats": {"servers": [server.url]},
        "channels": [
            {"domain": "cytu.be", "channel": "lounge"},
            {"domain": "cytu.be", "channel": "movies"},
            {"domain": "example.org", "channel": "movies"},
        ],
        "supervision": {"max_restarts": 0},
        "max_channels": 4,
        "control": control,
    }


@pytest.fixture
async def operator(nats_server: NatsServer) -> AsyncIterator[NatsTransport]:
    transport = NatsTransport(NatsConfig(servers=[nats_server.url]), retry=RetryPolicy(attempts=1))
    async with transport:
        yield transport


async def control(
    operator: NatsTransport, body: dict[str, Any] | bytes, subject: str = SUBJECT
) -> tuple[int, Any]:
    """(status, reply): 200 and the JSON reply, or the micro error code and its text."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = await operator.request(subject, data, timeout=10)
    headers = reply.headers or {}
    if "Nats-Service-Error-Code" in headers:
        return int(headers["Nats-Service-Error-Code"]), headers["Nats-Service-Error"]
    return 200, json.loads(reply.data)


def state_of(bot: Bot, key: str) -> str:
    bot.health_reporter.invalidate()
    rows = {e.key: e.state for e in bot.health_reporter.entries()}
    return rows.get(key, "absent")


async def test_control_is_off_unless_configured(
    nats_server: NatsServer, operator: NatsTransport
) -> None:
    async with Bot(config(nats_server), actor=Crashing) as bot:
        assert bot.health_service is not None
        assert not bot.health_service.control
        assert bot.health_summary().control is False
        with pytest.raises(Exception, match="no responders"):
            await operator.request(SUBJECT, b"{}", timeout=2)


async def test_restart_revives_a_failed_channel_and_keeps_its_binding(
    nats_server: NatsServer, operator: NatsTransport
) -> None:
    async with Bot(config(nats_server, enabled=True), actor=Crashing) as bot:
        assert bot.health_summary().control is True
        await operator.publish(*chat("seed", "hello", channel="lounge"))
        await operator.publish(*chat("seed", "crash", channel="lounge"))
        await wait_until(lambda: state_of(bot, "cytu.be/lounge") == "failed", what="lounge fails")
        binding = bot.channels.binding("cytu.be", "lounge")

        status, reply = await control(operator, {"action": "restart", "channel": "lounge"})
        assert status == 200
        assert reply == {
            "ok": True,
            "action": "restart",
            "channel": "cytu.be/lounge",
            "state": "running",
        }
        assert state_of(bot, "cytu.be/lounge") == "running"
        assert bot.channels.binding("cytu.be", "lounge") is binding
        assert binding is not None
        assert binding.counters.events_received == 2
        assert bot.health_summary().healthy


async def test_stop_keeps_serving_the_channel_as_dead_letters(
    nats_server: NatsServer, operator: NatsTransport
) -> None:
    async with Bot(config(nats_server, enabled=True), actor=Crashing) as bot:
        status, reply = await control(operator, {"action": "stop", "channel": "cytu.be/lounge"})
        assert (status, reply["state"]) == (200, "stopped")
        assert state_of(bot, "cytu.be/lounge") == "stopped"
        await operator.publish(*chat("seed", "anyone?", channel="lounge"))
        await wait_until(
            lambda: bot.system.dead_letters.counts.get("actor_stopped") == 1,
            what="a dead letter for the stopped channel",
        )
        assert bot.health_summary().healthy  # stopped on purpose is not degraded
        status, reply = await control(operator, {"action": "restart", "channel": "lounge"})
        assert (status, reply["state"]) == (200, "running")


async def test_join_and_leave(nats_server: NatsServer, operator: NatsTransport) -> None:
    async with Bot(config(nats_server, enabled=True), actor=Crashing) as bot:
        service = bot.health_service
        assert service is not None
        join = {"action": "join", "domain": "cytu.be", "channel": "music"}
        status, reply = await control(operator, join, f"{SUBJECT}.{service.id}")
        assert (status, reply["channel"], reply["state"]) == (200, "cytu.be/music", "running")
        assert state_of(bot, "cytu.be/music") == "running"
        assert await control(operator, join) == (409, "cytu.be/music is already served")
        status, text = await control(
            operator, {"action": "join", "domain": "cytu.be", "channel": "one-too-many"}
        )
        assert status == 409
        assert "max_channels (4)" in text

        status, reply = await control(operator, {"action": "leave", "channel": "cytu.be/music"})
        assert (status, reply["state"]) == (200, "left")
        assert state_of(bot, "cytu.be/music") == "absent"
        assert bot.channels.binding("cytu.be", "music") is None


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        (b"{not json", 400, "control request"),
        ({"action": "explode", "channel": "lounge"}, 400, "action"),
        ({"action": "restart"}, 400, "channel"),
        ({"action": "restart", "channel": "nowhere"}, 404, "does not serve a channel 'nowhere'"),
        ({"action": "restart", "channel": "movies"}, 400, "several domains"),
        ({"action": "join", "channel": "music"}, 400, "needs the channel's domain"),
        ({"action": "leave", "channel": "lounge", "domain": "example.org"}, 404, "does not serve"),
        ({"action": "stop", "channel": "cytu.be/lounge", "domain": "x.org"}, 400, "disagree"),
    ],
)
async def test_bad_requests_are_refused_with_a_reason(
    nats_server: NatsServer,
    operator: NatsTransport,
    body: dict[str, Any] | bytes,
    code: int,
    text: str,
) -> None:
    async with Bot(config(nats_server, enabled=True), actor=Crashing) as bot:
        status, reply = await control(operator, body)
        assert status == code
        assert text in reply
        assert "\n" not in reply
        assert bot.health_summary().states == {"running": 3}


async def test_actions_can_be_limited(nats_server: NatsServer, operator: NatsTransport) -> None:
    async with Bot(config(nats_server, enabled=True, actions=["restart"]), actor=Crashing):
        status, text = await control(operator, {"action": "leave", "channel": "lounge"})
        assert status == 403
        assert "'leave' is not enabled" in text
        assert (await control(operator, {"action": "restart", "channel": "lounge"}))[0] == 200
