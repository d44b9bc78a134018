"""What the bot marks on a delivered event (replay, redelivered, where replies go).

The marks are set only by the bot, never read from the wire, and travel with copies.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kryten_actors.errors import KrytenError
from kryten_actors.protocol.events import (
    ChatMessageEvent,
    PrivateMessageEvent,
    RawEvent,
    decode_event,
    decode_hinted,
)


def chat_body(**extra: Any) -> bytes:
    return json.dumps(
        {
            "event_name": "chatMsg",
            "payload": {"username": "ann", "msg": "hi", "meta": {}, "time": 1},
            "channel": "lounge",
            "domain": "cytu.be",
            "timestamp": "2026-03-01T20:15:02.481920+00:00",
            "correlation_id": "0d1e9b7a-3c41-4f7e-9a55-2b8f6c0e1d23",
            **extra,
        }
    ).encode()


class Replies:
    def __init__(self) -> None:
        self.sent: list[tuple[str, ...]] = []

    async def send_chat(self, message: str) -> Any:
        self.sent.append(("chat", message))
        return "chat-result"

    async def send_pm(self, to: str, message: str) -> Any:
        self.sent.append(("pm", to, message))
        return "pm-result"


def test_a_decoded_event_carries_no_marks() -> None:
    event = decode_hinted(chat_body(), "chatmsg")
    assert isinstance(event, ChatMessageEvent)
    assert (event.is_replay, event.redelivered) == (False, False)


hostile_keys = st.sampled_from(
    ["_replay", "_redelivered", "_replies", "replay", "redelivered", "is_replay",
     "__pydantic_private__", "replies", "__dict__"]
)  # fmt: skip


@given(st.dictionaries(hostile_keys, st.sampled_from([True, 1, "yes", {"replay": True}])))
def test_a_body_cannot_mark_its_event(claims: dict[str, Any]) -> None:
    body = chat_body(**claims)
    for event in (decode_hinted(body, "chatmsg"), decode_event(body)[0], RawEvent.from_bytes(body)):
        assert event is not None
        assert (event.is_replay, event.redelivered) == (False, False)
        assert event.__pydantic_private__ is None


def test_marks_are_kept_by_copies_and_pickling_and_never_serialized() -> None:
    event, _ = decode_event(chat_body())
    event.mark_replay()
    event.mark_redelivered()
    for copy in (event.model_copy(), pickle.loads(pickle.dumps(event))):
        assert (copy.is_replay, copy.redelivered) == (True, True)
    assert event.to_bytes() == chat_body()
    assert set(event.model_dump()) == {
        "event_name", "payload", "channel", "domain", "timestamp", "correlation_id"
    }  # fmt: skip


def test_marking_a_copy_leaves_the_original_alone() -> None:
    event, _ = decode_event(chat_body())
    copy = event.model_copy()
    copy.mark_replay()
    assert (copy.is_replay, event.is_replay) == (True, False)


def test_marks_are_independent() -> None:
    replayed, _ = decode_event(chat_body())
    replayed.mark_replay()
    assert (replayed.is_replay, replayed.redelivered) == (True, False)
    again, _ = decode_event(chat_body())
    again.mark_redelivered()
    assert (again.is_replay, again.redelivered) == (False, True)


async def test_reply_goes_where_the_bot_attached_it() -> None:
    chat = decode_hinted(chat_body(), "chatmsg")
    assert isinstance(chat, ChatMessageEvent)
    replies = Replies()
    chat.attach_replies(replies)
    chat.mark_replay()  # other marks do not disturb it
    assert await chat.reply("hello") == "chat-result"
    pm = PrivateMessageEvent.model_validate_json(
        chat_body(event_name="pm", payload={"username": "bob", "msg": "psst", "to": "bot"})
    )
    pm.attach_replies(replies)
    assert await pm.reply("yes?") == "pm-result"
    assert replies.sent == [("chat", "hello"), ("pm", "bob", "yes?")]


async def test_reply_without_a_bot_says_why() -> None:
    chat = decode_hinted(chat_body(), "chatmsg")
    assert chat is not None
    chat.mark_redelivered()
    with pytest.raises(KrytenError, match="made by hand"):
        await chat.reply("hello")  # type: ignore[attr-defined]
