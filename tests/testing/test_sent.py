"""decode_sent / rebuild_command: the wire form of every profile decodes back to the model."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kryten_actors.protocol.commands import (
    AddMedia,
    Ban,
    Command,
    Kick,
    MoveMedia,
    Mute,
    SendChat,
    SendPM,
    StateUser,
    Unban,
    Unmute,
    encoder_for,
)
from kryten_actors.testing import decode_sent, rebuild_command
from kryten_actors.transport.memory import PublishedMessage

SAMPLES: list[Command] = [
    SendChat(message="hello"),
    SendPM(to="bob", message="psst"),
    Kick(username="troll", reason="spam"),
    Kick(username="troll"),
    Ban(username="troll", reason="spam"),
    Unban(username="troll", ban_id=4),
    Mute(username="loud"),
    AddMedia(media_type="yt", media_id="dQw4w9WgXcQ", position="next"),
    MoveMedia(uid=3, after=1),
]


def _published(command: Command, profile: str) -> PublishedMessage:
    encoded = encoder_for(profile).encode(
        command, domain="cytu.be", channel="lounge", correlation_id="c-1", source="test"
    )
    return PublishedMessage(encoded.subject, encoded.body)


@pytest.mark.parametrize("profile", ["seed", "kryten-robot"])
@pytest.mark.parametrize("command", SAMPLES, ids=lambda c: type(c).__name__)
def test_commands_round_trip_through_the_wire(command: Command, profile: str) -> None:
    [sent] = decode_sent([_published(command, profile)])

    assert sent.command == command
    assert (sent.channel, sent.domain, sent.correlation_id) == ("lounge", "cytu.be", "c-1")
    expected_action = command.action if profile == "seed" else command.robot_command
    assert sent.action == expected_action
    wire = command.seed_payload() if profile == "seed" else command.robot_args()
    assert sent.payload == wire


def test_state_queries_read_their_top_level_parameters() -> None:
    [sent] = decode_sent([_published(StateUser(username="bob"), "kryten-robot")])
    assert (sent.action, sent.payload, sent.command) == (
        "state.user",
        {"username": "bob"},
        StateUser(username="bob"),
    )


def test_unmute_over_kryten_robot_is_what_it_sends_a_chat_command() -> None:
    [seed] = decode_sent([_published(Unmute(username="bob"), "seed")])
    [robot] = decode_sent([_published(Unmute(username="bob"), "kryten-robot")])
    assert seed.command == Unmute(username="bob")
    assert robot.command == SendChat(message="/unmute bob", as_command=True)


def test_wire_forms_without_a_model_keep_command_none() -> None:
    assert rebuild_command("seed", "frobnicate", {}) is None
    assert rebuild_command("seed", "sendChat", {"message": ""}) is None
    assert rebuild_command("kryten-robot", "say", {"message": "x", "extra": 1}) is None


def test_only_command_envelopes_are_decoded() -> None:
    event = PublishedMessage("cytube.events.cytu.be.lounge.chatmsg", b'{"event_name": "chatMsg"}')
    reply = PublishedMessage("_INBOX.abc", json.dumps({"success": True}).encode())
    junk = PublishedMessage("kryten.robot.command", b"not json")
    listed = PublishedMessage("cytube.commands.lounge.sendchat", b"[1, 2]")
    chat = _published(SendChat(message="hi"), "seed")
    assert [s.payload for s in decode_sent([event, reply, junk, listed, chat])] == [
        {"message": "hi"}
    ]


def test_longer_chat_limits_still_rebuild() -> None:
    text = "x" * 400
    published = _published(SendChat.build({"message": text}, max_chat_length=500), "seed")
    assert decode_sent([published])[0].command is None
    assert decode_sent([published], max_chat_length=500)[0].command == SendChat.build(
        {"message": text}, max_chat_length=500
    )


@given(
    text=st.text(min_size=1, max_size=320), to=st.from_regex(r"[a-z0-9_-]{1,20}", fullmatch=True)
)
def test_any_pm_text_round_trips(text: str, to: str) -> None:
    for profile in ("seed", "kryten-robot"):
        [sent] = decode_sent([_published(SendPM(to=to, message=text), profile)])
        assert sent.command == SendPM(to=to, message=text)
