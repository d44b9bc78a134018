"""FakeBridge: default success, configured replies, refusals reaching handlers and health."""

from __future__ import annotations

import json

import pytest

from kryten_actors.errors import CommandRejected, KrytenValidationError
from kryten_actors.protocol.commands import SendChat, encoder_for
from kryten_actors.protocol.subjects import ROBOT_COMMAND_SUBJECT
from kryten_actors.testing import BotHarness, FakeBridge
from kryten_actors.transport.memory import MemoryTransport
from tests.testing.actors import DJ, Careful, Greeter, chat

ROBOT = "kryten-robot"
ITEM = {"media": {"id": "dQw4w9WgXcQ", "type": "yt", "title": "x"}, "uid": 7}


async def test_reply_with_gives_the_handler_the_configured_data() -> None:
    async with BotHarness(DJ, channels=["lounge"], profile=ROBOT) as h:
        h.reply_with("state.playlist", {"playlist": [ITEM, {**ITEM, "uid": 8}]})
        await h.emit("lounge", "chatMsg", chat("!count"))

        assert [(c.action, c.payload) for c in h.sent] == [
            ("state.playlist", {}),
            ("say", {"message": "2 items"}),
        ]


async def test_default_reply_is_success_with_an_empty_result() -> None:
    async with BotHarness(DJ, channels=["lounge"], profile=ROBOT) as h:
        await h.emit("lounge", "chatMsg", chat("!count"))

        assert h.sent[-1].payload == {"message": "0 items"}
        assert h.health().actors["cytu.be/lounge"].failed == 0


async def test_a_refusal_reaches_the_handler_as_command_rejected() -> None:
    async with BotHarness(Careful, channels=["lounge"], profile=ROBOT) as h:
        h.fail("sendChat", "you are muted")  # seed action name maps to the bridge's `say`
        await h.emit("lounge", "chatMsg", chat("hello"))

        assert [(c.action, c.payload) for c in h.sent] == [
            ("say", {"message": "hello"}),
            ("pm", {"to": "alice", "msg": "refused: you are muted"}),
        ]


async def test_an_unhandled_refusal_is_an_actor_failure_seen_in_health() -> None:
    async with BotHarness(Greeter, channels=["lounge"], profile=ROBOT) as h:
        h.fail("say", "chat is disabled")
        await h.emit("lounge", "chatMsg", chat("!hi"))

        actor = h.health().actors["cytu.be/lounge"]
        assert actor.state == "restarting"
        assert actor.failed == 1
        assert actor.last_error is not None
        assert actor.last_error.startswith("CommandRejected:")
        assert "chat is disabled" in actor.last_error
        [letter] = h.dead_letters.recent
        assert letter.reason == "handler_failed"
        assert isinstance(letter.error, CommandRejected)
        assert letter.error.reason == "chat is disabled"

        h.bridge.reset("say")
        await h.advance(1)
        await h.emit("lounge", "chatMsg", chat("!hi"))
        assert h.health().actors["cytu.be/lounge"].state == "running"
        assert [c.payload["message"] for c in h.sent] == ["hi alice", "hi alice"]


def test_reply_shapes_follow_the_real_bridge() -> None:
    bridge = FakeBridge()
    assert bridge.reply_for("say") == {
        "service": "robot",
        "command": "say",
        "success": True,
        "data": {"success": True},
    }
    bridge.fail("addvideo", "queue full")
    # actions: the outer envelope says success, the refusal is in data
    assert bridge.reply_for("addvideo")["success"] is True
    assert bridge.reply_for("addvideo")["data"] == {"success": False, "error": "queue full"}
    bridge.fail("state.user", "no such user")
    assert bridge.reply_for("state.user") == {
        "service": "robot",
        "command": "state.user",
        "success": False,
        "error": "no such user",
    }
    bridge.reply_with("addvideo", {"success": True, "uid": 3})
    assert bridge.reply_for("addvideo")["data"] == {"success": True, "uid": 3}
    bridge.reset()
    assert bridge.reply_for("addvideo")["data"] == {"success": True}
    assert bridge.reply_for("state.user")["success"] is True


def test_every_configured_refusal_decodes_as_command_rejected() -> None:
    bridge = FakeBridge()
    bridge.fail("say", "nope")
    reply = json.dumps(bridge.reply_for("say")).encode()
    with pytest.raises(CommandRejected, match="nope"):
        encoder_for(ROBOT).decode_reply(SendChat(message="x"), reply)


def test_fail_needs_an_error_text() -> None:
    with pytest.raises(KrytenValidationError, match="error text"):
        FakeBridge().fail("say", "")


async def test_the_bridge_answers_malformed_requests_with_an_error() -> None:
    async with MemoryTransport() as bus:
        bridge = FakeBridge()
        await bridge.attach(bus)
        reply = await bus.request(ROBOT_COMMAND_SUBJECT, b"not json", timeout=1)
        assert json.loads(reply.data)["success"] is False
        with pytest.raises(KrytenValidationError, match="already attached"):
            await bridge.attach(bus)
        await bridge.detach()
        await bridge.detach()
        assert [r.command for r in bridge.requests] == [""]


async def test_bridge_options_need_the_kryten_robot_profile() -> None:
    async with BotHarness(Greeter) as h:
        with pytest.raises(KrytenValidationError, match="fire-and-forget"):
            h.reply_with("say", {})
    async with BotHarness(Greeter, profile=ROBOT, bridge=False) as h:
        with pytest.raises(KrytenValidationError, match="bridge=False"):
            h.fail("say", "x")
