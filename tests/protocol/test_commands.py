"""Command models: one table, seed action names, field rules, minimum ranks."""

from __future__ import annotations

import pytest

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.command import lower_camel
from kryten_actors.protocol.commands import (
    COMMANDS,
    UNSUPPORTED_COMMANDS,
    AddFilter,
    AddMedia,
    AssignLeader,
    Ban,
    Command,
    JumpTo,
    Kick,
    MoveMedia,
    Mute,
    NewPoll,
    ReadChanLog,
    SendChat,
    SendPM,
    SetChannelCSS,
    SetMotd,
    Unban,
    Unmute,
    build_command,
    command_class,
    unsupported_command,
)
from tests.protocol.samples import SAMPLES


def test_table_is_complete_and_keyed_by_seed_action() -> None:
    assert set(SAMPLES) == set(COMMANDS)
    for action, model in COMMANDS.items():
        assert model.action == action == lower_camel(model.method)
        assert model.robot_command
        assert isinstance(model.min_rank, int | float)
    assert COMMANDS["sendChat"] is SendChat
    assert COMMANDS["sendPm"] is SendPM
    assert command_class("addMedia") is AddMedia


def test_lower_camel() -> None:
    assert lower_camel("send_chat") == "sendChat"
    assert lower_camel("voteskip") == "voteskip"
    assert lower_camel("set_channel_css") == "setChannelCss"


@pytest.mark.parametrize("action", sorted(SAMPLES))
def test_samples_are_frozen_and_payloads_are_fresh(action: str) -> None:
    command = SAMPLES[action]
    with pytest.raises(ValueError, match="frozen"):
        command.__setattr__("x", 1)
    payload = command.seed_payload()
    payload["injected"] = True
    assert "injected" not in command.seed_payload()


@pytest.mark.parametrize(
    ("command", "payload"),
    [
        (SendChat(message="hi"), {"message": "hi"}),
        (SendPM(to="bob", message="hi"), {"to": "bob", "message": "hi"}),
        (
            AddMedia(media_type="yt", media_id="abc", position="next", temp=False),
            {"type": "yt", "id": "abc", "pos": "next", "temp": False},
        ),
        (MoveMedia(uid=3, after="prepend"), {"uid": 3, "after": "prepend"}),
        (JumpTo(uid=3), {"uid": 3}),
        (Kick(username="bob"), {"username": "bob"}),
        (Ban(username="bob", reason="spam"), {"username": "bob", "reason": "spam"}),
        (Unban(username="bob"), {"ban_id": None, "name": "bob"}),
        (Mute(username="bob"), {"username": "bob"}),
        (Unmute(username="bob"), {"username": "bob"}),
        (AssignLeader(username=""), {"username": ""}),
        (
            NewPoll(title="t", options=["a", "b"], timeout=60),
            {"title": "t", "options": ["a", "b"], "obscured": False, "timeout": 60},
        ),
        (ReadChanLog(), {"count": 100}),
    ],
)
def test_seed_payload_uses_reference_section_9_keys(
    command: Command, payload: dict[str, object]
) -> None:
    assert command.seed_payload() == payload


def test_chat_length_limit_default_and_configurable() -> None:
    assert SendChat(message="x" * 320).message == "x" * 320
    with pytest.raises(KrytenValidationError, match="limit is 320") as info:
        SendChat(message="x" * 321)
    assert info.value.errors[0][0] == "message"
    with pytest.raises(KrytenValidationError, match="limit is 320"):
        SendPM(to="bob", message="x" * 321)
    assert SendChat.build({"message": "x" * 500}, max_chat_length=500).message == "x" * 500
    with pytest.raises(KrytenValidationError, match="limit is 10"):
        build_command("sendChat", {"message": "x" * 11}, max_chat_length=10)
    with pytest.raises(KrytenValidationError, match="message"):
        SendChat(message="")


@pytest.mark.parametrize(
    ("model", "fields", "bad_field"),
    [
        (SendPM, {"to": "bo b", "message": "hi"}, "to"),
        (Mute, {"username": "bob\n/kick alice"}, "username"),
        (Unmute, {"username": "bob /clear"}, "username"),
        (AssignLeader, {"username": "a b"}, "username"),
        (AddMedia, {"media_type": "youtube", "media_id": "x"}, "media_type"),
        (AddMedia, {"media_type": "yt", "media_id": "x", "position": "middle"}, "position"),
        (AddMedia, {"media_type": "yt", "media_id": ""}, "media_id"),
        (JumpTo, {"uid": -1}, "uid"),
        (MoveMedia, {"uid": 1, "after": "somewhere"}, "after"),
        (NewPoll, {"title": "t", "options": ["a"], "timeout": 0}, "timeout"),
        (NewPoll, {"title": "t", "options": ["a"], "timeout": 86_401}, "timeout"),
        (NewPoll, {"title": "t", "options": []}, "options"),
        (SetMotd, {"motd": "x" * 20_001}, "motd"),
        (SetChannelCSS, {"css": "x" * 20_001}, "css"),
        (AddFilter, {"name": "f", "source": "x", "flags": "gq"}, "flags"),
        (SendChat, {"message": "hi", "extra": 1}, "extra"),
    ],
)
def test_bad_arguments_name_the_field(
    model: type[Command], fields: dict[str, object], bad_field: str
) -> None:
    with pytest.raises(KrytenValidationError) as info:
        model(**fields)
    assert bad_field in [path.split(".")[0] for path, _ in info.value.errors]
    assert bad_field in str(info.value)
    with pytest.raises(KrytenValidationError):
        model.build(fields)


def test_new_poll_always_has_an_explicit_timeout() -> None:
    poll = NewPoll(title="t", options=["a", "b"])
    assert poll.timeout == 86_400
    assert poll.robot_args()["timeout"] == 86_400


@pytest.mark.parametrize("name", ["pause", "play", "seek", "Pause"])
def test_playback_commands_are_refused_with_a_reason(name: str) -> None:
    with pytest.raises(KrytenValidationError, match="CyTube ignores"):
        unsupported_command(name)
    with pytest.raises(KrytenValidationError, match="CyTube ignores"):
        build_command(name.lower())
    assert name.lower() in UNSUPPORTED_COMMANDS


def test_unknown_action_lists_known_ones() -> None:
    with pytest.raises(KrytenValidationError, match="sendChat"):
        command_class("frobnicate")


@pytest.mark.parametrize(
    ("action", "rank"),
    [
        ("sendChat", 0),
        ("addMedia", 1.5),
        ("moveMedia", 1.5),
        ("jumpTo", 1.5),
        ("deleteMedia", 2),
        ("setTemp", 2),
        ("shufflePlaylist", 2),
        ("clearPlaylist", 2),
        ("newPoll", 1.5),
        ("closePoll", 1.5),
        ("muteUser", 1.5),
        ("kickUser", 1.5),
        ("banUser", 2),
        ("assignLeader", 2),
        ("setMotd", 3),
        ("addFilter", 3),
        ("updateEmote", 3),
        ("readChanLog", 3),
        ("stateUserlist", -1),
    ],
)
def test_min_rank_follows_reference_section_12(action: str, rank: float) -> None:
    assert COMMANDS[action].min_rank == rank
