"""Crash storm: one channel fails on every event for 10 s while the others run untouched.

On a loaded machine (2 shared cores, coverage on) working off 40,000 events and 10,000
restarts takes longer than on an idle one: the waits below last as long as the bot makes
progress and fail only when it stalls, so what is asserted does not depend on the load.
"""

from __future__ import annotations

import time
from typing import ClassVar

import pytest

from kryten_actors.bot import Bot, ChannelActor, on
from kryten_actors.protocol.events import ChatMessageEvent
from kryten_actors.transport.server import NatsServer
from tests.polling import wait_progressing
from tests.reliability.load import channel_key
from tests.reliability.support import ChildProcess, Recorder, bot_config, load_plan, seq_of

STORM_SECONDS = 10.0
RATE = 4000  # events/s offered over the four channels
DOMAIN = "cytu.be"
STORM = "storm"
HEALTHY = ["calm1", "calm2", "calm3"]
CHANNELS = [(DOMAIN, name) for name in [STORM, *HEALTHY]]


class Storm(RuntimeError):
    """What the crashing channel raises."""


class StormActor(ChannelActor):
    """Records sequence numbers; the ``storm`` channel raises on every event instead."""

    recorder: ClassVar[Recorder]
    failure_times: ClassVar[list[float]]

    @on("chatMsg")
    async def handle(self, event: ChatMessageEvent) -> None:
        if self.channel == STORM:
            self.failure_times.append(time.monotonic())
            raise Storm(f"storm event {event.msg}")
        self.recorder.record(self.channel, seq_of(event))


@pytest.mark.slow
async def test_crash_storm_loses_nothing_on_healthy_channels(nats_server: NatsServer) -> None:
    recorder = StormActor.recorder = Recorder()
    failures = StormActor.failure_times = []
    config = bot_config(
        nats_server.url,
        CHANNELS,
        mailbox={"capacity": 100_000, "overflow": "drop_newest"},
        supervision={
            "max_restarts": 1_000_000,
            "within_seconds": 60,
            "min_backoff": 0.001,
            "max_backoff": 0.001,
            "jitter": 0,
        },
    )
    plan = load_plan(nats_server.url, CHANNELS, rate=RATE, duration=STORM_SECONDS)
    async with Bot(config, actor=StormActor) as bot:
        async with ChildProcess("tests.reliability.load", plan) as load:
            await load.expect("ready", within=30)
            started = time.monotonic()
            # the load stops publishing after STORM_SECONDS; then it confirms every publish
            report = await load.read_json(within=STORM_SECONDS + 60)
            ended = time.monotonic()
            assert await load.wait(within=5) == 0
        published: dict[str, int] = report["published"]
        storm_key = channel_key(DOMAIN, STORM)
        healthy_total = sum(published[channel_key(DOMAIN, c)] for c in HEALTHY)
        await wait_progressing(
            lambda: recorder.total == healthy_total,
            lambda: recorder.total,
            what="every healthy event",
        )
        storm_sent = published[storm_key]

        def storm_settled() -> bool:
            actor = bot.health().actors[storm_key]
            return (
                actor.mailbox_depth == 0
                and actor.failed + actor.dropped == storm_sent
                and actor.restarts == actor.failed
                and actor.state == "running"
            )

        def storm_progress() -> tuple[int, int, int]:
            actor = bot.health().actors[storm_key]
            return (actor.failed, actor.dropped, actor.restarts)

        await wait_progressing(storm_settled, storm_progress, what="the storm channel to settle")
        health = bot.health()

    # zero loss and order kept on every healthy channel
    for name in HEALTHY:
        key = channel_key(DOMAIN, name)
        assert recorder.seen[name] == list(range(published[key])), name
        actor = health.actors[key]
        assert (actor.failed, actor.restarts, actor.dropped) == (0, 0, 0)
        assert actor.processed == published[key]
    # every storm event failed (and was dead-lettered) or was dropped; each failure restarted
    storm = health.actors[storm_key]
    assert storm.failed == len(failures)
    assert storm.restarts == storm.failed
    assert health.dead_letters.get("handler_failed", 0) == storm.failed
    assert health.dead_letters.get("mailbox_full", 0) == storm.dropped
    assert health.router["routed"] == sum(published.values())
    assert health.router["received"] == sum(published.values())
    assert bot.transport.stats.slow_consumer_drops == 0
    # it kept restarting the whole time: failures in every second of the storm
    seconds = {int(t - started) for t in failures if t < ended}
    assert seconds >= set(range(int(STORM_SECONDS))), sorted(seconds)
