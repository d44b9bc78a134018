"""MockKrytenClient: the seed's test double runs the real bot and records real envelopes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kryten_actors import ChatMessageEvent, MockKrytenClient, RawEvent
from kryten_actors.errors import KrytenConnectionError
from kryten_actors.protocol.commands import AddMedia, Command, SendChat, encoder_for

PROFILES = ["seed", "kryten-robot"]


def config(profile: str) -> dict[str, Any]:
    return {
        "profile": profile,
        "service_name": "mock-test",
        "channels": [
            {"domain": "cytu.be", "channel": "lounge"},
            {"domain": "cytu.be", "channel": "movies"},
        ],
    }


async def test_seed_style_mock_test() -> None:
    """The seed's own mock test, unchanged in spirit."""
    client = MockKrytenClient(config("seed"))
    received: list[ChatMessageEvent] = []

    @client.on("chatMsg")
    async def handle_chat(event: ChatMessageEvent) -> None:
        received.append(event)
        await client.send_chat(event.channel, f"Hi {event.username}!")

    async with client:
        await client.simulate_event("chatMsg", {"username": "alice", "message": "Hello!"})
        commands = client.get_published_commands()

    assert len(received) == 1
    assert received[0].username == "alice"
    assert received[0].message == "Hello!"
    assert len(commands) == 1
    assert commands[0]["action"] == "sendChat"
    assert commands[0]["payload"] == {"message": "Hi alice!"}
    assert commands[0]["channel"] == "lounge"


def _without_timestamps(body: dict[str, Any]) -> dict[str, Any]:
    body = dict(body)
    body.pop("timestamp", None)
    if "meta" in body:
        body["meta"] = {k: v for k, v in body["meta"].items() if k != "timestamp"}
    return body


@pytest.mark.parametrize("profile", PROFILES)
async def test_recorded_commands_are_exactly_what_the_production_encoder_produces(
    profile: str,
) -> None:
    client = MockKrytenClient(config(profile))
    sent: list[tuple[Command, str]] = []

    @client.on("chatMsg", channel="movies")
    async def queue_it(event: ChatMessageEvent) -> None:
        command = AddMedia(media_type="yt", media_id=event.message, position="next", temp=False)
        result = await client.send(event.channel, command)
        sent.append((command, result.correlation_id))

    async with client:
        result = await client.send_chat("LOUNGE", "hello there")
        sent.append((SendChat(message="hello there"), result.correlation_id))
        await client.simulate_event(
            "chatMsg", {"username": "bob", "msg": "abc123", "meta": {}, "time": 1}, channel="movies"
        )
        await client.simulate_event(
            "chatMsg",
            {"username": "bob", "msg": "ignored", "meta": {}, "time": 1},
            channel="lounge",
        )
        commands = client.get_published_commands()

    encoder = encoder_for(profile)
    assert len(commands) == len(sent) == 2
    for recorded, (command, cid), channel in zip(commands, sent, ["lounge", "movies"], strict=True):
        expected = encoder.encode(
            command, domain="cytu.be", channel=channel, correlation_id=cid, source="mock-test"
        )
        assert recorded["subject"] == expected.subject
        assert recorded["action"] == expected.action
        assert recorded["payload"] == expected.payload
        assert recorded["channel"] == channel
        assert recorded["correlation_id"] == cid
        assert _without_timestamps(recorded["body"]) == _without_timestamps(
            json.loads(expected.body)
        )
    if profile == "kryten-robot":
        assert [c["action"] for c in commands] == ["say", "addvideo"]
        assert commands[1]["payload"] == {
            "type": "yt",
            "id": "abc123",
            "pos": "next",
            "temp": False,
        }
    else:
        assert [c["action"] for c in commands] == ["sendChat", "addMedia"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_simulated_events_reach_filtered_handlers_typed_or_raw(profile: str) -> None:
    client = MockKrytenClient(config(profile))
    seen: list[tuple[str, str, type[RawEvent]]] = []

    @client.on("*")
    async def everything(event: RawEvent) -> None:
        seen.append(("*", event.channel, type(event)))

    @client.on("USERCOUNT", channel="Movies", domain="cytu.be")
    async def counted(event: RawEvent) -> None:
        seen.append(("count", event.channel, type(event)))

    @client.on("usercount", domain="other.example")
    async def never(event: RawEvent) -> None:
        seen.append(("never", event.channel, type(event)))

    async with client:
        returned = await client.simulate_event("usercount", 4, channel="movies")
        await client.simulate_event("usercount", 5)
        await client.simulate_event("somethingNew", {"x": 1}, channel="lounge")
        assert client.health().events_received == 3

    assert returned.payload == 4
    names = [(tag, channel) for tag, channel, _ in seen]
    assert sorted(names[:2]) == [("*", "movies"), ("count", "movies")]
    assert names[2:] == [("*", "lounge"), ("*", "lounge")]
    assert seen[-1][2] is RawEvent
    assert seen[0][2].__name__ == "UserCountEvent"


async def test_commands_need_a_connected_client_and_a_configured_channel() -> None:
    client = MockKrytenClient(config("seed"))
    with pytest.raises(KrytenConnectionError):
        await client.send_chat("lounge", "too early")
    async with client:
        from kryten_actors.errors import KrytenValidationError  # noqa: PLC0415

        with pytest.raises(KrytenValidationError, match="not configured"):
            await client.send_chat("nowhere", "hi")
        assert client.get_published_commands() == []
        await client.send_chat("lounge", "x")
        assert len(client.get_published_commands()) == 1
        client.clear_published_commands()
        assert client.get_published_commands() == []
