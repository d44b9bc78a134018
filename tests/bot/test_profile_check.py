"""A bot on the wrong profile says which one to set (issue 14, item 2), on a real server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from kryten_actors.bot import Bot, ChannelActor
from kryten_actors.bot.profile_check import ProfileCheck, other_profile
from kryten_actors.config import KrytenConfig, NatsConfig
from kryten_actors.protocol.raw_event import RawEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.transport.memory import MemoryTransport
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.polling import wait_until

CHANNELS = [("cytu.be", "lounge"), ("cytu.be", "movies")]


class Idle(ChannelActor):
    """Handles nothing: the check only looks at what the router delivered."""


def config(url: str, profile: str, *, after: float | None = 0.3) -> dict[str, object]:
    return {
        "profile": profile,
        "nats": {"servers": [url]},
        "channels": [{"domain": d, "channel": c} for d, c in CHANNELS],
        "profile_check_after": after,
    }


def chat(profile: str, channel: str = "lounge") -> tuple[str, bytes]:
    subject = scheme_for(profile).event_subject("cytu.be", channel, "chatMsg")
    payload = {"username": "ann", "msg": "hi", "meta": {}, "time": 1}
    body = RawEvent(event_name="chatMsg", payload=payload, channel=channel, domain="cytu.be")
    return subject, body.to_bytes()


Publisher = Callable[[str, str], Awaitable[None]]


@pytest.fixture
async def publisher(nats_server: NatsServer) -> AsyncIterator[Publisher]:
    """``await publish(profile, channel)`` publishes one chat event as that profile's bridge."""
    async with NatsTransport(NatsConfig(servers=[nats_server.url])) as nats:

        async def publish(profile: str, channel: str = "lounge") -> None:
            await nats.publish(*chat(profile, channel))

        yield publish


async def keep_publishing(publish: Publisher, profile: str, until: Callable[[], bool]) -> None:
    while not until():
        await publish(profile, "lounge")
        await publish(profile, "movies")
        await asyncio.sleep(0.05)  # a bridge's pace, not synchronisation


@pytest.mark.parametrize("profile", ["seed", "kryten-robot"])
async def test_the_other_profiles_events_name_the_profile_to_set(
    nats_server: NatsServer,
    publisher: Publisher,
    profile: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="kryten_actors.bot.profile")
    suggested = other_profile(profile)
    async with Bot(config(nats_server.url, profile), actor=Idle) as bot:
        await keep_publishing(publisher, suggested, lambda: bot.profile_mismatch is not None)
        mismatch = bot.profile_mismatch
        assert mismatch is not None
        assert bot.router_stats.routed == 0
        # health shows it: the bot is unhealthy, and says which profile to set
        summary = bot.health_summary()
        assert summary.healthy is False
        assert any(f"set `profile: {suggested}`" in p for p in summary.problems)
        assert bot.health().problems == summary.problems
    assert mismatch.configured == profile
    assert mismatch.suggested == suggested
    key = scheme_for(suggested).channel_key
    assert set(mismatch.channels) <= {key("cytu.be", "lounge"), key("cytu.be", "movies")}
    assert mismatch.events >= 1
    assert mismatch.example == chat(suggested)[0] or mismatch.example.endswith(".chatmsg")
    warnings = [r.getMessage() for r in caplog.records if r.name == "kryten_actors.bot.profile"]
    assert len(warnings) == 1
    assert f"set `profile: {suggested}` in the config" in warnings[0]
    assert f"no events arrived on the {profile} profile's subjects" in warnings[0]


async def test_no_warning_when_the_bots_own_events_flow(
    nats_server: NatsServer, publisher: Publisher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kryten_actors.bot.profile")
    async with Bot(config(nats_server.url, "seed"), actor=Idle) as bot:
        check = bot.profile_check
        assert check is not None
        # both profiles carry the channel (say, two bridges): the bot's own is fine
        await publisher("kryten-robot", "lounge")
        await keep_publishing(publisher, "seed", lambda: bot.router_stats.routed > 0)
        await wait_until(lambda: check._task is not None and check._task.done(), what="the end")
        assert bot.profile_mismatch is None
        assert check._subscriptions == []  # it stopped listening
    assert not [r for r in caplog.records if r.name == "kryten_actors.bot.profile"]


async def test_other_channels_on_the_other_profile_do_not_count() -> None:
    cfg = KrytenConfig.from_dict(config("nats://127.0.0.1:4222", "seed", after=60))
    async with MemoryTransport() as transport:
        check = ProfileCheck(transport=transport, config=cfg, own_events=lambda: 0, after=60)
        await check.start()
        for _ in range(5):
            await transport.publish(*chat("kryten-robot", "elsewhere"))
        await transport.publish(*chat("kryten-robot", "lounge"))
        # in order: once the lounge event counted, the five before it were looked at
        await wait_until(lambda: check._seen > 0, what="the lounge event")
        assert check._seen == 1
        assert check._seen_channels == ["lounge"]
        await check.stop()


async def test_the_check_can_be_turned_off(nats_server: NatsServer) -> None:
    async with Bot(config(nats_server.url, "seed", after=None), actor=Idle) as bot:
        assert bot.profile_check is None
        assert bot.profile_mismatch is None


async def test_stop_ends_the_check_and_its_subscriptions() -> None:
    cfg = KrytenConfig.from_dict(config("nats://127.0.0.1:4222", "seed", after=60))
    async with MemoryTransport() as transport:
        check = ProfileCheck(transport=transport, config=cfg, own_events=lambda: 0, after=60)
        await check.start()
        assert len(check._subscriptions) == len(CHANNELS)
        await check.stop()
    assert check._subscriptions == []
    assert check._task is None
