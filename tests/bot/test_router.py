"""RouterActor behaviour, the same suite over the memory bus and a real nats-server."""

from __future__ import annotations

import json

import pytest

from kryten_actors import ChatMessageEvent, RawEvent
from kryten_actors.protocol.subjects import scheme_for
from tests.bot.conftest import BotFactory, Bus
from tests.bot.support import Journal, chat, recording
from tests.fixture_data import load_jsonl
from tests.polling import wait_until

PROFILES = ["seed", "kryten-robot"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_each_channel_gets_its_own_events_in_order(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    channels = [("cytu.be", "lounge"), ("cytu.be", "Movies")]
    await make_bot(profile, channels, recording(journal))
    per_channel = 60
    for i in range(per_channel):
        for domain, channel in channels:
            await bus.publish(chat(profile, f"{channel}:{i}", domain=domain, channel=channel))

    def done() -> bool:
        return (
            len(journal.for_key("cytu.be/lounge", "chat"))
            + len(journal.for_key("cytu.be/Movies", "chat"))
            >= 2 * per_channel
        )

    await wait_until(done, what="every chat line handled")
    for _, channel in channels:
        assert journal.messages(f"cytu.be/{channel}") == [
            f"{channel}:{i}" for i in range(per_channel)
        ]


@pytest.mark.parametrize("profile", PROFILES)
async def test_captured_bridge_traffic_arrives_whole_typed_and_in_order(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    records = load_jsonl("events.jsonl")
    journal = Journal()
    # the capture starts with a rejoin: replayed history is delivered here, marked
    bot = await make_bot(profile, [("localhost", "e2etest")], recording(journal), replay="deliver")
    scheme = scheme_for(profile)
    for record in records:
        body = record["body"]
        subject = (
            record["subject"]
            if profile == "kryten-robot"
            else scheme.event_subject(body["domain"], body["channel"], body["event_name"])
        )
        await bus.publisher.publish(subject, json.dumps(body).encode())

    await wait_until(
        lambda: len(journal.for_key("localhost/e2etest", "all")) >= len(records),
        what="every captured event handled",
    )
    seen = journal.for_key("localhost/e2etest", "all")
    assert [s.event.correlation_id for s in seen] == [r["body"]["correlation_id"] for r in records]
    assert bot.system.dead_letters.counts.get("decode_failed", 0) == 0
    chats = [s for s in seen if s.event.event_name == "chatMsg"]
    assert chats
    assert all(s.event_type is ChatMessageEvent for s in chats)
    # exactly the chat lines between the join's `rank -1` and `login` are replays
    expected, window = [], False
    for record in records:
        name, payload = record["body"]["event_name"], record["body"]["payload"]
        if name == "rank" and payload == -1:
            window = True
        elif name == "login":
            window = False
        elif name == "chatMsg":
            expected.append(window)
    assert [s.event.is_replay for s in chats] == expected
    assert any(expected)
    health = bot.health()
    assert health.events_received == len(records)
    assert health.actors["localhost/e2etest"].restarts == 0


@pytest.mark.parametrize("profile", PROFILES)
async def test_unroutable_subjects_are_counted_and_dead_lettered(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    bot = await make_bot(profile, [("cytu.be", "lounge")], recording(journal))
    _, body = chat(profile, "bad subject")
    bad = (
        ["cytube.events.lounge.chatmsg", "cytube.events.cytu.be.lou#nge.chatmsg"]
        if profile == "seed"
        else ["kryten.events.cytube.lou#nge.chatmsg", "kryten.events.cytube.lounge.chat$msg"]
    )
    for subject in bad:
        await bus.publisher.publish(subject, body)
    await bus.publish(chat(profile, "after"))

    await wait_until(lambda: journal.messages("cytu.be/lounge") == ["after"], what="the good line")
    assert bot.router_stats.unroutable == len(bad)
    assert bot.system.dead_letters.counts["unroutable"] == len(bad)
    assert bot.health().errors >= len(bad)
    router = bot.system.root.child("router")
    assert router is not None
    assert router.stats().failed == 0


@pytest.mark.parametrize("profile", PROFILES)
async def test_other_bots_channels_are_counted_as_foreign_not_dead_lettered(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    bot = await make_bot(profile, [("cytu.be", "lounge")], recording(journal))
    await bus.publish(chat(profile, "not ours", channel="elsewhere"))
    await bus.publish(chat(profile, "ours"))

    await wait_until(lambda: journal.messages("cytu.be/lounge") == ["ours"], what="our line")
    assert bot.router_stats.foreign_channel == 1
    assert bot.system.dead_letters.total == 0


@pytest.mark.parametrize("profile", PROFILES)
async def test_oversized_bodies_are_dead_lettered(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    bot = await make_bot(profile, [("cytu.be", "lounge")], recording(journal), max_event_bytes=2000)
    await bus.publish(chat(profile, "x" * 5000))
    await bus.publish(chat(profile, "small"))

    await wait_until(lambda: journal.messages("cytu.be/lounge") == ["small"], what="the small line")
    assert bot.router_stats.oversized == 1
    assert bot.system.dead_letters.counts["oversized"] == 1


HOSTILE_CHANNELS = [
    "lounge-evil",
    "lounge_",
    "lo%unge",
    "l\u043eunge",  # Cyrillic small o
    "lounge\u200b",  # zero-width space
    "x" * 101,
    "lounge~",
    "lounge`rm`",
]


@pytest.mark.parametrize("profile", PROFILES)
async def test_hostile_channel_names_never_crash_the_router_nor_reach_another_channel(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    bot = await make_bot(profile, [("cytu.be", "lounge")], recording(journal))
    prefix = "cytube.events.cytu.be." if profile == "seed" else "kryten.events.cytube."
    # every body claims to be from "lounge": only the subject may decide the channel
    _, body = chat(profile, "hostile")
    for name in HOSTILE_CHANNELS:
        await bus.publisher.publish(f"{prefix}{name}.chatmsg", body)
    if profile == "seed":
        for subject in (
            "cytube.events.evil.cytu.be.lounge.chatmsg",
            "cytube.events.cytu.be.evil.lounge.chatmsg",
        ):
            await bus.publisher.publish(subject, body)
    await bus.publish(chat(profile, "still alive"))

    await wait_until(
        lambda: "still alive" in journal.messages("cytu.be/lounge"), what="the good line"
    )
    assert journal.messages("cytu.be/lounge") == ["still alive"]
    stats = bot.router_stats
    assert stats.routed == 1
    assert stats.foreign_channel + stats.unroutable == stats.received - 1
    router = bot.system.root.child("router")
    assert router is not None
    assert router.stats().state == "running"
    assert list(bot.health().actors) == ["cytu.be/lounge"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_unknown_channels_get_an_actor_when_spawning_is_on(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    bot = await make_bot(
        profile, [("cytu.be", "lounge")], recording(journal), spawn_unknown_channels=True
    )
    await bus.publish(chat(profile, "first sight", channel="newchan"))
    await bus.publish(chat(profile, "second", channel="newchan"))

    await wait_until(
        lambda: journal.messages("cytu.be/newchan") == ["first sight", "second"],
        what="the new channel's lines",
    )
    assert "cytu.be/newchan" in bot.health().actors
    assert bot.router_stats.foreign_channel == 0


@pytest.mark.parametrize("profile", PROFILES)
async def test_spawning_stops_at_max_channels(bus: Bus, make_bot: BotFactory, profile: str) -> None:
    journal = Journal()
    bot = await make_bot(
        profile,
        [("cytu.be", "lounge")],
        recording(journal),
        spawn_unknown_channels=True,
        max_channels=3,
    )
    for name in ("new1", "new2", "new3", "new4"):
        await bus.publish(chat(profile, f"hi {name}", channel=name))
    await bus.publish(chat(profile, "marker", channel="lounge"))
    await wait_until(lambda: journal.messages("cytu.be/lounge") == ["marker"], what="the marker")
    await wait_until(lambda: bot.router_stats.foreign_channel == 2, what="two refused channels")
    assert sorted(bot.health().actors) == ["cytu.be/lounge", "cytu.be/new1", "cytu.be/new2"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_spawning_refuses_names_that_are_not_cytube_channels(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    bot = await make_bot(
        profile, [("cytu.be", "lounge")], recording(journal), spawn_unknown_channels=True
    )
    prefix = "cytube.events.cytu.be." if profile == "seed" else "kryten.events.cytube."
    _, body = chat(profile, "hostile", channel="lounge")
    for name in ("l\u043eunge", "x" * 40, "lounge~"):
        await bus.publisher.publish(f"{prefix}{name}.chatmsg", body)
    await bus.publish(chat(profile, "ok"))

    await wait_until(lambda: journal.messages("cytu.be/lounge") == ["ok"], what="the good line")
    assert list(bot.health().actors) == ["cytu.be/lounge"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_unknown_event_names_reach_handlers_as_raw_events(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    await make_bot(profile, [("cytu.be", "lounge")], recording(journal))
    from tests.bot.support import envelope  # noqa: PLC0415 - local to this test

    await bus.publish(envelope(profile, "frobnicateThing", {"a": 1}))
    await wait_until(lambda: len(journal.for_key("cytu.be/lounge", "all")) == 1, what="the event")
    seen = journal.for_key("cytu.be/lounge", "all")[0]
    assert seen.event_type is RawEvent
    assert seen.event.payload == {"a": 1}
    assert journal.messages("cytu.be/lounge") == []


@pytest.mark.parametrize("profile", PROFILES)
async def test_an_oversized_first_sight_starts_no_actor(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    bot = await make_bot(
        profile,
        [("cytu.be", "lounge")],
        recording(journal),
        spawn_unknown_channels=True,
        max_event_bytes=2000,
    )
    await bus.publish(chat(profile, "x" * 5000, channel="newchan"))
    await bus.publish(chat(profile, "ok"))

    await wait_until(lambda: journal.messages("cytu.be/lounge") == ["ok"], what="the good line")
    assert bot.router_stats.oversized == 1
    assert list(bot.health().actors) == ["cytu.be/lounge"]
