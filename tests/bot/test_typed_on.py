"""``@on`` with event models, the annotation check, and ``event.reply()``."""

from __future__ import annotations

import pytest

from kryten_actors import (
    ChannelActor,
    ChatMessageEvent,
    PrivateMessageEvent,
    RawEvent,
    UserJoinEvent,
    on,
)
from kryten_actors.errors import KrytenError
from kryten_actors.testing.harness import HarnessFactory


class Echo(ChannelActor):
    @on(ChatMessageEvent, PrivateMessageEvent)
    async def echo(self, event: ChatMessageEvent | PrivateMessageEvent) -> None:
        if event.username != "bot" and event.message.startswith("echo "):
            await event.reply(event.message.removeprefix("echo "))

    @on(UserJoinEvent)
    async def hello(self, event: UserJoinEvent) -> None:
        await self.send_chat(f"hi {event.username}")


def test_models_register_their_wire_names() -> None:
    registered = {(r.event, r.name) for r in Echo.handler_registrations()}
    assert registered == {
        ("chatmsg", "Echo.echo"),
        ("pm", "Echo.echo"),
        ("adduser", "Echo.hello"),
    }


async def test_reply_answers_in_the_channel_or_by_pm(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Echo, channels=["lounge", "den"]) as h:
        await h.say("den", "alice", "echo <b>hi</b> & bye")
        await h.pm("lounge", "bob", "echo secret")
        await h.emit("lounge", "addUser", name="carol", rank=0)
        sent = [(c.channel, c.payload) for c in h.sent]
        assert sent == [
            ("den", {"message": "<b>hi</b> & bye"}),
            ("lounge", {"to": "bob", "message": "secret"}),
            ("lounge", {"message": "hi carol"}),
        ]


async def test_reply_on_a_hand_made_event_says_why_it_cannot() -> None:
    event = ChatMessageEvent.from_dict(
        {
            "event_name": "chatMsg",
            "payload": {"username": "a", "msg": "x"},
            "channel": "lounge",
            "domain": "cytu.be",
        }
    )
    with pytest.raises(KrytenError, match="made by hand"):
        await event.reply("no")


def test_an_annotation_that_contradicts_the_event_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"handles 'pm'.*PrivateMessageEvent.*ChatMessageEvent"):

        class Wrong(ChannelActor):
            @on("pm")
            async def chat(self, event: ChatMessageEvent) -> None: ...

    with pytest.raises(TypeError, match=r"handles 'mysteryevent', which arrives as RawEvent"):

        class Unknown(ChannelActor):
            @on("mysteryEvent")
            async def chat(self, event: ChatMessageEvent) -> None: ...

    with pytest.raises(TypeError, match=r"every event \('\*'\).*annotate it RawEvent"):

        class Star(ChannelActor):
            @on("*")
            async def chat(self, event: ChatMessageEvent) -> None: ...


def test_wider_or_missing_annotations_are_fine() -> None:
    class Fine(ChannelActor):
        @on(RawEvent)
        async def everything(self, event: RawEvent) -> None: ...

        @on("chatMsg")
        async def untyped(self, event) -> None:  # type: ignore[no-untyped-def]
            ...

        @on("chatMsg", "pm")
        async def both(self, event: ChatMessageEvent | PrivateMessageEvent) -> None: ...

    assert Fine.handler_count() == 3


async def test_the_harness_emits_a_whole_typed_event(bot_harness: HarnessFactory) -> None:
    event = ChatMessageEvent.from_dict(
        {
            "event_name": "chatMsg",
            "payload": {"username": "dora", "msg": "echo typed", "time": 1},
            "channel": "lounge",
            "domain": "cytu.be",
        }
    )
    async with bot_harness(Echo) as h:
        sent = await h.emit(event)
        assert sent is event
        assert [c.payload for c in h.sent] == [{"message": "typed"}]
        assert h.sent[0].correlation_id == event.correlation_id


async def test_the_client_takes_event_models() -> None:
    from kryten_actors import MockKrytenClient  # noqa: PLC0415

    client = MockKrytenClient({"channels": [{"domain": "cytu.be", "channel": "lounge"}]})

    @client.on(ChatMessageEvent)
    async def echo(event: ChatMessageEvent) -> None:
        await event.reply(f"heard {event.username}")

    assert [r.event for r in client.handler_registrations()] == ["chatmsg"]
    async with client:
        await client.simulate_event("chatMsg", {"username": "eve", "msg": "hi", "time": 0})
        await client.channel("lounge").send_chat("direct")
    assert [c["payload"] for c in client.get_published_commands()] == [
        {"message": "heard eve"},
        {"message": "direct"},
    ]
