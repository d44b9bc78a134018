"""SimulatedBridge on the memory bus: envelopes, subjects, join burst, crashes, seed commands."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from typing import Any

import pytest

from kryten_actors.demo import CRASH_LINE, SimulatedBridge
from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.commands import AddMedia, SendChat, encoder_for
from kryten_actors.protocol.events import decode_event
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.transport.memory import MemoryTransport
from tests.demo.conftest import record
from tests.fixture_data import load_jsonl

CHANNELS = [("cytu.be", "Lounge"), ("localhost", "e2etest")]
EVENT_WILDCARD = {"seed": "cytube.events.>", "kryten-robot": "kryten.events.>"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$")
CAPTURED = [record_["body"] for record_ in load_jsonl("events.jsonl")]
JOIN_BURST_START = ["rank", "setPermissions", "setPlaylistLocked", "emoteList"]


def _per_channel(bodies: list[dict[str, Any]], channel: str) -> list[dict[str, Any]]:
    return [body for body in bodies if body["channel"] == channel]


@pytest.mark.parametrize("profile", ["seed", "kryten-robot"])
async def test_envelopes_decode_and_travel_on_the_profile_subjects(
    memory: MemoryTransport, profile: str
) -> None:
    recorder = await record(memory, EVENT_WILDCARD[profile])
    scheme = scheme_for(profile)
    bridge = SimulatedBridge(
        memory, profile=profile, channels=CHANNELS, events_per_second=500, seed=7
    )
    async with bridge:
        await recorder.wait_for(
            lambda: all(
                sum(json.loads(d)["channel"] == ch for _, d in recorder.messages) >= 150
                for _, ch in CHANNELS
            )
        )
    captured_keys = list(CAPTURED[0])
    for subject, data in recorder.messages:
        body = json.loads(data)
        assert list(body) == captured_keys  # the bridge's key order
        assert TIMESTAMP.match(body["timestamp"]), body["timestamp"]
        assert uuid.UUID(body["correlation_id"]).version == 4
        assert subject == scheme.event_subject(body["domain"], body["channel"], body["event_name"])
        assert subject.rsplit(".", 1)[-1] == body["event_name"].lower()
        event, error = decode_event(data, event_hint=subject.rsplit(".", 1)[-1])
        assert error is None, f"{body['event_name']}: {error}"
        assert event.event_name == body["event_name"]
    assert {body["channel"] for body in recorder.bodies()} == {"Lounge", "e2etest"}  # case kept


async def test_payloads_have_the_captured_shapes(memory: MemoryTransport) -> None:
    """Every event name the capture also holds has the same payload type and key order."""
    recorder = await record(memory, "kryten.events.>")
    bridge = SimulatedBridge(
        memory, profile="kryten-robot", channels=CHANNELS, events_per_second=800, seed=3
    )
    names = {
        "chatMsg",
        "addUser",
        "userLeave",
        "usercount",
        "setAFK",
        "queue",
        "setCurrent",
        "changeMedia",
    }
    async with bridge:
        await recorder.wait_for(lambda: names <= {b["event_name"] for b in recorder.bodies()}, 10)
    captured: dict[str, Any] = {}
    for body in CAPTURED:
        captured.setdefault(body["event_name"], body["payload"])
    checked = set()
    for body in recorder.bodies():
        name, payload = body["event_name"], body["payload"]
        if name not in captured or name in checked:
            continue
        checked.add(name)
        expected = captured[name]
        assert type(payload) is type(expected) or {type(payload), type(expected)} <= {int, float}, (
            name
        )
        if isinstance(payload, dict) and name not in {"channelOpts", "setPermissions", "chatMsg"}:
            assert list(payload) == list(expected), name
        if name == "chatMsg":
            assert list(payload)[:2] == ["username", "msg"]
            assert "time" in payload
    assert names <= checked


async def test_each_channel_starts_with_the_join_burst(memory: MemoryTransport) -> None:
    recorder = await record(memory, "kryten.events.>")
    async with SimulatedBridge(memory, profile="kryten-robot", channels=CHANNELS, seed=1) as bridge:
        await recorder.wait_for(lambda: bridge.stats.events_published >= 2 * 30)
    for _, channel in CHANNELS:
        names = [body["event_name"] for body in _per_channel(recorder.bodies(), channel)]
        assert names[:4] == JOIN_BURST_START
        burst = names[: names.index("setUserRank") + 3]
        assert burst[-2:] == ["setCurrent", "changeMedia"]
        for expected in ("userlist", "usercount", "login", "playlist", "setMotd", "channelOpts"):
            assert expected in burst
        first_rank = _per_channel(recorder.bodies(), channel)[0]
        assert first_rank["payload"] == -1


async def test_crash_channel_hears_crash_lines_and_others_do_not(memory: MemoryTransport) -> None:
    recorder = await record(memory, "kryten.events.cytube.*.chatmsg")

    def crashes(channel: str) -> int:
        return sum(
            b["payload"]["msg"] == CRASH_LINE for b in _per_channel(recorder.bodies(), channel)
        )

    bridge = SimulatedBridge(
        memory, profile="kryten-robot", channels=CHANNELS, crash_channel="LOUNGE", crash_every=0.02
    )
    async with bridge:
        await recorder.wait_for(lambda: crashes("Lounge") >= 3)
    assert crashes("e2etest") == 0
    assert all(
        b["payload"]["username"] != bridge.states["Lounge"].bot_name
        for b in recorder.bodies()
        if b["payload"]["msg"] == CRASH_LINE
    )


async def test_stats_count_what_was_published(memory: MemoryTransport) -> None:
    recorder = await record(memory, "cytube.events.>")
    async with SimulatedBridge(
        memory, profile="seed", channels=CHANNELS, events_per_second=300
    ) as bridge:
        await recorder.wait_for(lambda: len(recorder.messages) >= 200)
    await memory.settle()
    counts = Counter(body["channel"] for body in recorder.bodies())
    assert {name: t.events_published for name, t in bridge.stats.channels.items()} == counts
    assert bridge.stats.events_published == len(recorder.messages)


async def test_stop_leaves_no_task_behind(memory: MemoryTransport) -> None:
    recorder = await record(memory, "kryten.events.>")
    before = asyncio.all_tasks()
    bridge = SimulatedBridge(
        memory, profile="kryten-robot", channels=CHANNELS, events_per_second=200
    )
    await bridge.start()
    running_after_start = bridge.running
    assert len(asyncio.all_tasks() - before) >= len(CHANNELS)
    await recorder.wait_for(lambda: len(recorder.messages) >= 100)
    await bridge.stop()
    await bridge.stop()  # idempotent
    assert (running_after_start, bridge.running) == (True, False)
    assert asyncio.all_tasks() == before


async def test_seed_commands_take_effect_as_cytube_events(memory: MemoryTransport) -> None:
    recorder = await record(memory, "cytube.events.>")
    encoder = encoder_for("seed")
    async with SimulatedBridge(memory, profile="seed", channels=CHANNELS, seed=5) as bridge:
        bot = bridge.states["Lounge"].bot_name
        for command in (
            SendChat(message="<i>hi</i> & bye"),
            AddMedia(media_type="yt", media_id="zzz"),
        ):
            encoded = encoder.encode(
                command, domain="cytu.be", channel="Lounge", correlation_id="c", source="t"
            )
            await memory.publish(encoded.subject, encoded.body)
        await recorder.wait_for(
            lambda: any(
                b["event_name"] == "queue" and b["payload"]["item"]["queueby"] == bot
                for b in recorder.bodies()
            )
        )
    chat = [b for b in recorder.bodies(".chatmsg") if b["payload"]["username"] == bot]
    # A command racing the join burst shows up twice: CyTube replays recent chat on join.
    assert {b["payload"]["msg"] for b in chat} == {"&lt;i&gt;hi&lt;/i&gt; &amp; bye"}
    assert chat[0]["channel"] == "Lounge"
    traffic = bridge.stats.channels["Lounge"]
    assert (traffic.commands_received, traffic.commands_answered) == (2, 2)
    assert bridge.stats.channels["e2etest"].commands_received == 0


async def test_seed_command_for_an_unknown_action_is_counted_not_applied(
    memory: MemoryTransport,
) -> None:
    async with SimulatedBridge(memory, profile="seed", channels=CHANNELS) as bridge:
        body = {"action": "frobnicate", "payload": {}, "channel": "Lounge", "domain": "cytu.be"}
        await memory.publish("cytube.commands.lounge.frobnicate", json.dumps(body).encode())
        await memory.publish(
            "cytube.commands.nowhere.sendchat",
            b'{"action": "sendChat", "payload": {}, "channel": "nowhere"}',
        )
        await memory.settle()
    assert bridge.stats.channels["Lounge"].commands_ignored == 1
    assert bridge.stats.unaddressed_commands == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"profile": "nope"}, "profile"),
        ({"channels": []}, "channels"),
        ({"channels": [("a.b", "x"), ("c.d", "X")]}, "channels"),
        ({"events_per_second": 0}, "events_per_second"),
        ({"crash_channel": "elsewhere"}, "crash_channel"),
        ({"crash_every": 0}, "crash_every"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"profile": "seed", "channels": CHANNELS, **kwargs}
    with pytest.raises(KrytenValidationError) as caught:
        SimulatedBridge(MemoryTransport(), **arguments)
    assert caught.value.errors[0][0] == field


def test_same_seed_same_channels() -> None:
    first = SimulatedBridge(MemoryTransport(), profile="seed", channels=CHANNELS, seed=42)
    second = SimulatedBridge(MemoryTransport(), profile="seed", channels=CHANNELS, seed=42)
    for name in ("Lounge", "e2etest"):
        assert first.states[name].userlist() == second.states[name].userlist()
        assert first.states[name].playlist.payload() == second.states[name].playlist.payload()
