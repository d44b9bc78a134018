"""BotHarness: emit / sent / idle / advance over both profiles, timers, failures."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from kryten_actors.errors import KrytenError, KrytenValidationError
from kryten_actors.protocol.commands import SendChat
from kryten_actors.testing import BotHarness
from tests.fixture_data import load_jsonl
from tests.testing.actors import Greeter, Ticker, chat

PROFILES = ["seed", "kryten-robot"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_emit_runs_the_handler_and_sent_decodes_the_command(profile: str) -> None:
    async with BotHarness(Greeter, channels=["lounge"], profile=profile) as h:
        event = await h.emit("lounge", "chatMsg", chat("!hi"))

        [sent] = h.sent
        assert sent.payload == {"message": "hi alice"}
        assert sent.command == SendChat(message="hi alice")
        assert (sent.channel, sent.domain, sent.profile) == ("lounge", "cytu.be", profile)
        # a command sent from a handler carries the event's correlation id
        assert sent.correlation_id == event.correlation_id
        if profile == "seed":
            assert (sent.action, sent.subject) == ("sendChat", "cytube.commands.lounge.sendchat")
        else:
            assert (sent.action, sent.subject) == ("say", "kryten.robot.command")
            assert [r.command for r in h.bridge.requests] == ["say"]


@pytest.mark.parametrize("profile", PROFILES)
async def test_emit_publishes_the_production_envelope(profile: str) -> None:
    async with BotHarness(Greeter, channels=["lounge"], profile=profile) as h:
        event = await h.emit("lounge", "chatMsg", chat("hello"))

        first = h.transport.published[0]
        expected = {
            "seed": "cytube.events.cytu.be.lounge.chatmsg",
            "kryten-robot": "kryten.events.cytube.lounge.chatmsg",
        }[profile]
        assert first.subject == expected
        assert first.data == event.to_bytes()
        assert h.sent == []


async def test_emit_matches_captured_bridge_traffic() -> None:
    captured = load_jsonl("events.jsonl")
    chat_line = next(c for c in captured if c["body"]["event_name"] == "chatMsg")
    body: dict[str, Any] = chat_line["body"]
    config = {
        "profile": "kryten-robot",
        "channels": [{"domain": "localhost", "channel": "e2etest"}],
    }
    async with BotHarness(Greeter, config=config) as h:
        await h.emit(body["channel"], "chatMsg", body["payload"])

        [published] = [p for p in h.transport.published if p.subject.startswith("kryten.events.")]
        assert published.subject == chat_line["subject"]
        sent = json.loads(published.data)
        assert list(sent) == list(body)
        assert {k: sent[k] for k in ("event_name", "payload", "channel", "domain")} == {
            k: body[k] for k in ("event_name", "payload", "channel", "domain")
        }


@pytest.mark.parametrize("profile", PROFILES)
async def test_idle_waits_for_every_command_of_a_handler(profile: str) -> None:
    async with BotHarness(Greeter, channels=["lounge"], profile=profile) as h:
        await h.emit("lounge", "chatMsg", chat("!twice"))
        await h.emit("lounge", "chatMsg", chat("!hi", "bob"))
        await h.idle()

        assert [c.payload["message"] for c in h.sent] == ["one", "two", "hi bob"]
        h.clear_sent()
        assert h.sent == []


async def test_channels_on_several_domains_get_their_own_actor() -> None:
    async with BotHarness(Greeter, channels=["lounge", "example.org/den"]) as h:
        await h.emit("den", "chatMsg", chat("!hi", "carol"))
        await h.emit("lounge", "chatMsg", chat("!hi", "dave"))

        assert [(c.domain, c.channel, c.payload["message"]) for c in h.sent] == [
            ("example.org", "den", "hi carol"),
            ("cytu.be", "lounge", "hi dave"),
        ]
        assert set(h.health().actors) == {"example.org/den", "cytu.be/lounge"}


@pytest.mark.parametrize("profile", PROFILES)
async def test_every_fires_on_advance_without_real_waiting(profile: str) -> None:
    async with BotHarness(Ticker, channels=["lounge"], profile=profile) as h:
        await h.advance(9.9)
        assert h.sent == []

        await h.advance(0.1)
        assert [c.payload["message"] for c in h.sent] == ["tick 1"]

        started = time.monotonic()
        await h.advance(3600)
        assert time.monotonic() - started < 5, "virtual time must not sleep"
        assert len(h.sent) == 361
        assert h.sent[-1].payload == {"message": "tick 361"}
        assert h.now == pytest.approx(3610)


async def test_a_timer_set_by_a_handler_fires_within_the_same_advance() -> None:
    async with BotHarness(Ticker, channels=["lounge"]) as h:
        await h.emit("lounge", "chatMsg", chat("!later"))
        await h.advance(4)
        assert h.sent == []

        await h.advance(12)
        assert [c.payload["message"] for c in h.sent] == ["later", "tick 1"]


async def test_a_failure_restarts_after_the_backoff_in_virtual_time() -> None:
    async with BotHarness(Greeter, channels=["lounge"]) as h:
        await h.emit("lounge", "chatMsg", chat("!boom"))
        actor = h.health().actors["cytu.be/lounge"]
        assert (actor.state, actor.failed, actor.last_error) == (
            "restarting",
            1,
            "RuntimeError: boom",
        )
        assert h.dead_letters.counts == {"handler_failed": 1}

        # queued behind the backoff: emit returns, the event waits for time to move
        await h.emit("lounge", "chatMsg", chat("!hi", "bob"))
        assert h.sent == []

        await h.advance(1)
        assert [c.payload["message"] for c in h.sent] == ["hi bob"]
        actor = h.health().actors["cytu.be/lounge"]
        assert (actor.state, actor.restarts) == ("running", 1)


async def test_timers_start_again_after_a_restart() -> None:
    failures: list[float] = []

    class FragileTicker(Ticker):
        async def _tick(self) -> None:
            await super()._tick()
            if not failures:
                failures.append(self.context.system.clock.now())
                raise RuntimeError("the very first tick breaks")

    async with BotHarness(FragileTicker, channels=["lounge"]) as h:
        await h.advance(10)
        assert h.health().actors["cytu.be/lounge"].state == "restarting"

        # restart after ~0.1 s; the new instance ticks at +10 s from its start
        await h.advance(10.5)
        assert [c.payload["message"] for c in h.sent] == ["tick 1", "tick 1"]
        assert h.health().actors["cytu.be/lounge"].restarts == 1
        assert failures == [10]


async def test_harness_refuses_use_outside_its_block() -> None:
    h = BotHarness(Greeter)
    with pytest.raises(KrytenError, match="running harness"):
        await h.emit("lounge", "chatMsg", chat("!hi"))
    async with h:
        pass
    await h.close()  # idempotent
    assert h.bot.state == "stopped"
    assert not h.transport.is_connected
    with pytest.raises(KrytenError, match="starts once"):
        await h.start()


async def test_advance_refuses_negative_time() -> None:
    async with BotHarness(Greeter) as h:
        with pytest.raises(KrytenValidationError, match="forward"):
            await h.advance(-1)


def test_config_and_channels_are_exclusive() -> None:
    with pytest.raises(KrytenValidationError, match="either config"):
        BotHarness(Greeter, channels=["a"], config={"channels": []})


def test_settings_reach_the_config() -> None:
    h = BotHarness(Greeter, settings={"chat_max_length": 500, "supervision": {"max_restarts": 1}})
    assert h.config.chat_max_length == 500
    assert h.config.supervision.max_restarts == 1
    assert [(c.domain, c.channel) for c in h.config.channels] == [("cytu.be", "lounge")]
