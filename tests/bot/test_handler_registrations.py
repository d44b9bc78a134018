"""A public way to see which handler answers which event (instead of ``client._handlers``)."""

from __future__ import annotations

from kryten_actors import (
    ChannelActor,
    ChatMessageEvent,
    HandlerRegistration,
    KrytenClient,
    RawEvent,
    on,
)


class Greeter(ChannelActor):
    @on("chatMsg")
    async def greet(self, event: ChatMessageEvent) -> None: ...

    @on("addUser", "userLeave")
    async def people(self, event: RawEvent) -> None: ...

    @on("*")
    async def everything(self, event: RawEvent) -> None: ...


class LouderGreeter(Greeter):
    async def greet(self, event: ChatMessageEvent) -> None:  # overridden without @on
        ...


def test_a_channel_actor_lists_its_handlers() -> None:
    found = [(r.event, r.name) for r in Greeter.handler_registrations()]
    assert found == [
        ("adduser", "Greeter.people"),
        ("chatmsg", "Greeter.greet"),
        ("userleave", "Greeter.people"),
        ("*", "Greeter.everything"),
    ]
    first = Greeter.handler_registrations()[0]
    assert first.handler is Greeter.people
    assert (first.channel, first.domain) == (None, None)
    assert Greeter.handler_count() == 3


def test_an_override_without_on_keeps_no_registration_of_its_own() -> None:
    names = {r.name for r in LouderGreeter.handler_registrations()}
    assert "Greeter.greet" not in names
    assert "LouderGreeter.greet" not in names


def test_a_client_lists_what_on_registered() -> None:
    client = KrytenClient({"channels": [{"domain": "cytu.be", "channel": "lounge"}]})

    @client.on("chatMsg", channel="lounge")
    async def echo(event: ChatMessageEvent) -> None: ...

    @client.on("*")
    async def log_all(event: RawEvent) -> None: ...

    registrations = client.handler_registrations()
    assert registrations == (
        HandlerRegistration("chatmsg", echo, "lounge", None),
        HandlerRegistration("*", log_all, None, None),
    )
    assert registrations[0].name.endswith("echo")
    assert registrations[0].matches("chatmsg", "cytu.be", "Lounge")
    assert not registrations[0].matches("chatmsg", "cytu.be", "movies")
    assert registrations[1].matches("adduser", "cytu.be", "movies")
