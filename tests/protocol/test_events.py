"""Typed events: one table, one decoder, every captured envelope decodes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.events import (
    EVENT_MODELS,
    ChangeMediaEvent,
    ChatMessageEvent,
    ClosePollEvent,
    CooldownEvent,
    DeleteEvent,
    ErrorMessageEvent,
    KickEvent,
    LoginEvent,
    MediaUpdateEvent,
    MoveVideoEvent,
    PlaylistUpdateEvent,
    PollEvent,
    PrivateMessageEvent,
    QueueEvent,
    RankEvent,
    RawEvent,
    SetAFKEvent,
    SetCurrentEvent,
    SetLeaderEvent,
    SetMotdEvent,
    SetUserRankEvent,
    UserCountEvent,
    UserJoinEvent,
    UserLeaveEvent,
    UserListEvent,
    decode_event,
    model_for,
)
from kryten_actors.protocol.subjects import ROBOT_SCHEME
from tests.fixture_data import load_jsonl


def envelope(event_name: str, payload: Any, **extra: Any) -> bytes:
    body = {
        "event_name": event_name,
        "payload": payload,
        "channel": "MyChan",
        "domain": "cytu.be",
        "timestamp": "2026-03-01T20:15:02.481920+00:00",
        "correlation_id": "0d1e9b7a-3c41-4f7e-9a55-2b8f6c0e1d23",
        **extra,
    }
    return json.dumps(body).encode()


ISSUE_EVENTS = {
    "chatmsg": ChatMessageEvent,
    "pm": PrivateMessageEvent,
    "adduser": UserJoinEvent,
    "userleave": UserLeaveEvent,
    "userlist": UserListEvent,
    "usercount": UserCountEvent,
    "changemedia": ChangeMediaEvent,
    "mediaupdate": MediaUpdateEvent,
    "setcurrent": SetCurrentEvent,
    "playlist": PlaylistUpdateEvent,
    "queue": QueueEvent,
    "delete": DeleteEvent,
    "movevideo": MoveVideoEvent,
    "newpoll": PollEvent,
    "updatepoll": PollEvent,
    "closepoll": ClosePollEvent,
    "setuserrank": SetUserRankEvent,
    "setafk": SetAFKEvent,
    "setleader": SetLeaderEvent,
    "cooldown": CooldownEvent,
    "errormsg": ErrorMessageEvent,
    "kick": KickEvent,
    "setmotd": SetMotdEvent,
    "rank": RankEvent,
    "login": LoginEvent,
}


def test_table_covers_the_issue_and_is_keyed_lowercase() -> None:
    for name, model in ISSUE_EVENTS.items():
        assert EVENT_MODELS[name] is model
    assert all(key == key.lower() for key in EVENT_MODELS)
    assert model_for("ChatMsg") is ChatMessageEvent
    assert model_for("frobnicate") is RawEvent


@pytest.mark.parametrize(
    "record", load_jsonl("events.jsonl"), ids=lambda r: f"{r['body']['event_name']}@{r['t']}"
)
def test_every_captured_envelope_decodes(record: dict[str, Any]) -> None:
    data = json.dumps(record["body"]).encode()
    parsed = ROBOT_SCHEME.parse_event(record["subject"])
    assert parsed is not None
    for hint in (parsed.event, None):
        event, error = decode_event(data, event_hint=hint)
        assert error is None, error
        assert type(event) is model_for(record["body"]["event_name"])
        assert event.to_bytes() == data  # typed events re-encode to the bytes they came from
    assert decode_event(RawEvent.from_bytes(data))[0] == event


def test_the_capture_exercises_the_typed_models() -> None:
    names = {r["body"]["event_name"].lower() for r in load_jsonl("events.jsonl")}
    covered = names & set(EVENT_MODELS)
    assert len(covered) >= 25, sorted(names - set(EVENT_MODELS))


def test_chat_message_fields() -> None:
    payload = {
        "username": "Alice",
        "msg": "a &lt;b&gt; &amp; &#39;q&#39; &#40;x&#41;",
        "meta": {"shadow": True, "addClass": "action"},
        "time": 1795692505365,
        "unknown": "kept",
    }
    event, error = decode_event(envelope("chatMsg", payload), event_hint="chatmsg")
    assert error is None
    assert isinstance(event, ChatMessageEvent)
    assert event.username == "Alice"
    assert event.msg == payload["msg"]
    assert event.message == "a <b> & 'q' (x)"
    assert event.time == datetime(2026, 11, 26, 11, 28, 25, 365000, tzinfo=UTC)
    assert event.time.tzinfo is not None
    assert event.meta["addClass"] == "action"
    assert event.is_shadow
    assert event.channel == "MyChan"
    assert event.domain == "cytu.be"
    assert event.payload.model_extra == {"unknown": "kept"}


def test_chat_validates_from_a_dict_envelope() -> None:
    body = json.loads(envelope("chatMsg", {"username": "a", "msg": "hi", "time": 1}))
    event = ChatMessageEvent.model_validate(body)
    assert event.message == "hi"
    assert not event.is_shadow


def test_convenience_accessors() -> None:
    pm = decode_event(envelope("pm", {"username": "a", "msg": "x", "time": 0, "to": "bot"}))[0]
    assert isinstance(pm, PrivateMessageEvent)
    assert pm.to == "bot"
    assert not issubclass(PrivateMessageEvent, ChatMessageEvent)  # chat handlers never get PMs
    join = decode_event(envelope("addUser", {"name": "bob", "rank": 1.5}))[0]
    assert isinstance(join, UserJoinEvent)
    assert (join.username, join.rank, join.payload.afk) == ("bob", 1.5, False)
    leader = decode_event(envelope("setLeader", ""))[0]
    assert isinstance(leader, SetLeaderEvent)
    assert leader.leader is None
    media = decode_event(envelope("changeMedia", {"id": "x", "type": "yt", "currentTime": -3}))[0]
    assert isinstance(media, ChangeMediaEvent)
    assert (media.media_id, media.media_type, media.payload.current_time) == ("x", "yt", -3)
    move = decode_event(envelope("moveVideo", {"from": 3, "after": "prepend"}))[0]
    assert isinstance(move, MoveVideoEvent)
    assert (move.payload.from_, move.payload.after) == (3, "prepend")
    poll = decode_event(envelope("newPoll", {"title": "t", "counts": [1, "2?"]}))[0]
    assert isinstance(poll, PollEvent)
    assert poll.is_new
    assert isinstance(decode_event(envelope("closePoll", None))[0], ClosePollEvent)
    cooldown = decode_event(envelope("cooldown", 1500))[0]
    assert isinstance(cooldown, CooldownEvent)
    assert cooldown.seconds == 1.5


def test_unknown_event_names_decode_to_raw_event() -> None:
    event, error = decode_event(envelope("drinkCount", 3), event_hint="drinkcount")
    assert type(event) is RawEvent
    assert error is None
    assert event.payload == 3


def test_misfit_payload_is_returned_raw_with_the_error() -> None:
    data = envelope("chatMsg", {"msg": "no username"})
    for hint in ("chatmsg", None):
        event, error = decode_event(data, event_hint=hint)
        assert type(event) is RawEvent
        assert isinstance(error, ValidationError)
        assert event.payload == {"msg": "no username"}
    event, error = decode_event(RawEvent.from_bytes(data))
    assert type(event) is RawEvent
    assert error is not None


def test_hint_that_disagrees_with_the_body_is_overruled() -> None:
    data = envelope("pm", {"username": "a", "msg": "x", "time": 0, "to": "b"})
    event, error = decode_event(data, event_hint="chatmsg")
    assert error is None
    assert type(event) is PrivateMessageEvent
    event, error = decode_event(envelope("usercount", 4), event_hint="chatmsg")
    assert error is None
    assert isinstance(event, UserCountEvent)
    assert event.count == 4


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[]", b'"chatMsg"', b'{"event_name": "chatMsg"}', b"\xff\xfe"],
)
def test_non_envelopes_raise(data: bytes) -> None:
    with pytest.raises(KrytenValidationError, match="dead-letter"):
        decode_event(data, event_hint="chatmsg")
    with pytest.raises(KrytenValidationError):
        decode_event(data)


def test_typed_event_to_raw_and_back() -> None:
    data = envelope("moveVideo", {"from": 1, "after": 2})
    typed = decode_event(data)[0]
    raw = RawEvent.from_bytes(typed.to_bytes())
    assert decode_event(raw)[0] == typed
    assert decode_event(typed) == (typed, None)
