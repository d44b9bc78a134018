"""The Bot: startup guarantee, channels at runtime, supervision and health, on both buses."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import ClassVar

import pytest

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, KrytenError, on
from kryten_actors.errors import KrytenValidationError
from kryten_actors.runtime import RuntimeEvent
from kryten_actors.transport.memory import MemoryTransport
from tests.bot.conftest import BotFactory, Bus, bot_config
from tests.bot.support import Journal, chat, recording, variant
from tests.polling import wait_until

PROFILES = ["seed", "kryten-robot"]


def _only_message(journal: Journal, text: str) -> bool:
    return journal.messages("cytu.be/lounge") == [text]


@pytest.mark.parametrize("profile", PROFILES)
async def test_an_event_published_right_after_entering_is_received(bus: Bus, profile: str) -> None:
    for attempt in range(3):
        journal = Journal()
        if bus.server is None:
            bot = Bot(
                bot_config(profile, [("cytu.be", "lounge")]),
                actor=recording(journal),
                transport=bus.publisher,
            )
        else:  # the bot owns its NATS connection, built from the config
            config = bot_config(
                profile, [("cytu.be", "lounge")], nats={"servers": [bus.server.url]}
            )
            bot = Bot(config, actor=recording(journal))
        async with bot:
            assert bot.state == "running"
            await bus.publish(chat(profile, f"first {attempt}"))
            await wait_until(
                partial(_only_message, journal, f"first {attempt}"),
                what="the first event",
            )
        assert bot.state == "stopped"
    with pytest.raises(KrytenError, match="runs once"):
        await bot.start()


@pytest.mark.parametrize("profile", PROFILES)
async def test_channels_can_be_joined_and_left_at_runtime(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    actor = recording(journal)
    bot = await make_bot(profile, [("cytu.be", "lounge")], actor)
    await bot.join_channel("cytu.be", "movies", actor=actor)
    await bus.publish(chat(profile, "m1", channel="movies"))
    await wait_until(lambda: journal.messages("cytu.be/movies") == ["m1"], what="joined channel")
    assert set(bot.health().actors) == {"cytu.be/lounge", "cytu.be/movies"}

    await bot.leave_channel("cytu.be", "lounge")
    assert set(bot.health().actors) == {"cytu.be/movies"}
    await bus.publish(chat(profile, "gone"))
    await bus.publish(chat(profile, "m2", channel="movies"))
    await wait_until(lambda: journal.messages("cytu.be/movies") == ["m1", "m2"], what="m2")
    assert journal.messages("cytu.be/lounge") == []
    assert bot.router_stats.foreign_channel == 1

    with pytest.raises(KrytenValidationError):
        await bot.join_channel("cytu.be", "movies", actor=actor)  # already running
    with pytest.raises(KrytenValidationError):
        await bot.join_channel("cytu.be", "no such/channel", actor=actor)
    await bot.join_channel("cytu.be", "lounge", actor=actor)
    await bus.publish(chat(profile, "back"))
    await wait_until(lambda: journal.messages("cytu.be/lounge") == ["back"], what="rejoined")


class Failing(ChannelActor):
    """Raises on every chat line."""

    attempts: ClassVar[list[str]] = []

    @on("chatMsg")
    async def explode(self, event: ChatMessageEvent) -> None:
        self.attempts.append(event.message)
        raise RuntimeError(f"boom on {event.message}")


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES)
async def test_a_failing_channel_backs_off_then_fails_alone(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    healthy = recording(journal)
    failing = variant(Failing, attempts=[])
    loop = asyncio.get_running_loop()
    bot = await make_bot(
        profile,
        [("cytu.be", "alpha"), ("cytu.be", "beta"), ("cytu.be", "bad")],
        {"alpha": healthy, "beta": healthy, "bad": failing},
        supervision={
            "max_restarts": 2,
            "within_seconds": 60,
            "min_backoff": 1.0,
            "max_backoff": 1.0,
            "jitter": 0.0,
        },
    )
    events: list[tuple[float, RuntimeEvent]] = []
    bot.system.subscribe(lambda event: events.append((loop.time(), event)))
    bad_path = bot.system.root.child("cytu.be:bad")
    assert bad_path is not None

    def published(batch: range) -> list[str]:
        return [str(i) for i in batch]

    async def send(batch: range) -> None:
        for i in batch:
            for channel in ("alpha", "bad", "beta"):
                await bus.publish(chat(profile, str(i), channel=channel))

    await send(range(30))
    await wait_until(lambda: any(e.kind == "restarting" for _, e in events), what="first failure")
    # while "bad" waits out its backoff, the others take and finish a second batch
    await send(range(30, 60))
    await wait_until(
        lambda: (
            journal.messages("cytu.be/alpha") == published(range(60))
            and journal.messages("cytu.be/beta") == published(range(60))
        ),
        what="alpha and beta complete and in order",
    )
    restarting = [(t, e) for t, e in events if e.kind == "restarting"]
    assert restarting[0][1].delay >= 1.0
    assert bad_path.stats().state == "restarting"  # still in its first backoff
    assert not any(e.kind == "restarted" for _, e in events)

    await wait_until(lambda: bad_path.stats().state == "failed", what="bad gives up", within=20)
    restarted = [t for t, e in events if e.kind == "restarted"]
    assert len(restarted) == 2
    assert restarted[0] - restarting[0][0] >= 0.9
    health = bot.health()
    assert health.actors["cytu.be/bad"].state == "failed"
    assert health.actors["cytu.be/bad"].restarts == 2
    assert health.actors["cytu.be/alpha"].state == "running"
    assert health.actors["cytu.be/beta"].restarts == 0
    assert failing.attempts == ["0", "1", "2"]
    counts = bot.system.dead_letters.counts
    assert counts["handler_failed"] == 3
    assert counts["actor_stopped"] == 60 - 3  # its queue, never handled

    await bus.publish(chat(profile, "late", channel="bad"))
    await wait_until(
        lambda: bot.system.dead_letters.counts["actor_stopped"] == 58, what="late dead letter"
    )
    await bot.join_channel("cytu.be", "bad", actor=healthy)
    await bus.publish(chat(profile, "revived", channel="bad"))
    await wait_until(lambda: journal.messages("cytu.be/bad") == ["revived"], what="revived")
    assert bot.health().actors["cytu.be/bad"].state == "running"


async def test_health_reports_the_seed_fields_and_per_actor_stats(
    bus: Bus, make_bot: BotFactory
) -> None:
    journal = Journal()
    bot = await make_bot("seed", [("cytu.be", "lounge"), ("cytu.be", "movies")], recording(journal))
    for i in range(5):
        await bus.publish(chat("seed", str(i)))
    await wait_until(lambda: len(journal.messages("cytu.be/lounge")) == 5, what="five lines")
    health = bot.health()
    assert health.state == "connected"  # the seed's vocabulary
    assert health.lifecycle == "running"
    assert health.healthy
    assert health.connected
    assert health.uptime > 0
    assert health.events_received == 5
    assert health.commands_sent == 0
    assert health.errors == 0
    assert health.avg_latency > 0
    assert health.handlers_registered == 2
    assert {(c.domain, c.channel, c.connected, c.subscribed) for c in health.channels} == {
        ("cytu.be", "lounge", True, True),
        ("cytu.be", "movies", True, True),
    }
    lounge = health.actors["cytu.be/lounge"]
    assert (lounge.state, lounge.processed, lounge.mailbox_depth) == ("running", 5, 0)


async def test_run_returns_after_request_stop() -> None:
    memory = MemoryTransport()
    await memory.connect()
    journal = Journal()
    bot = Bot(
        bot_config("seed", [("cytu.be", "lounge")]), actor=recording(journal), transport=memory
    )
    task = asyncio.create_task(bot.run())
    await wait_until(lambda: bot.state == "running", what="running")
    subject, body = chat("seed", "hello")
    await memory.publish(subject, body)
    await wait_until(lambda: journal.messages("cytu.be/lounge") == ["hello"], what="handled")
    bot.request_stop()
    async with asyncio.timeout(10):
        await task
    assert bot.state == "stopped"
    await memory.close()
