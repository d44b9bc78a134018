"""Commands with replies (kryten-robot): a fake bridge answers with the real bridge's replies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kryten_actors import (
    AddMediaResult,
    Bot,
    BridgeUnavailable,
    ChannelActor,
    CommandRejected,
    KrytenTimeoutError,
    NoResponders,
)
from kryten_actors.protocol.subjects import ROBOT_COMMAND_SUBJECT
from kryten_actors.transport.base import InboundMessage, Transport
from tests.bot.conftest import BotFactory, Bus
from tests.bot.support import envelope
from tests.fixture_data import load_jsonl
from tests.polling import wait_until

PROFILE = "kryten-robot"
RECORDED = {record["seq"]: record for record in load_jsonl("commands.jsonl")}


def reply_of(seq: int, index: int = 0) -> dict[str, Any]:
    """The ``index``-th reply the real bridge sent to request ``seq`` of the capture."""
    body: dict[str, Any] = RECORDED[seq]["replies"][index]["body"]
    return body


class FakeBridge:
    """Answers each request on ``kryten.robot.command`` with the next planned replies."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.plan: list[list[dict[str, Any]]] = []
        self._transport: Transport | None = None

    async def attach(self, transport: Transport) -> None:
        self._transport = transport
        await transport.subscribe(ROBOT_COMMAND_SUBJECT, self.on_request)

    async def on_request(self, message: InboundMessage) -> None:
        self.requests.append(json.loads(message.data))
        replies = self.plan.pop(0) if self.plan else []
        assert self._transport is not None
        for reply in replies:
            await self._transport.publish(message.reply, json.dumps(reply).encode())


class Remote(ChannelActor):
    """Runs a coroutine function given by the test in its own turn; returns value or error."""

    async def on_message(self, message: Any) -> Any:
        try:
            return await message(self)
        except Exception as error:
            return error


Action = Callable[[Remote], Awaitable[Any]]


async def in_actor(bot: Bot, action: Action, channel: str = "lounge") -> Any:
    ref = bot.system.root.child(f"cytu.be:{channel}")
    assert ref is not None
    return await ref.ask(action, timeout=10)


@pytest.fixture
async def bridge(bus: Bus) -> FakeBridge:
    fake = FakeBridge()
    await fake.attach(bus.publisher)
    return fake


@pytest.fixture
async def bot(bus: Bus, make_bot: BotFactory, bridge: FakeBridge) -> Bot:
    del bridge  # attached before the bot starts
    return await make_bot(PROFILE, [("cytu.be", "lounge")], Remote, command_timeout=0.4)


async def test_success_returns_a_typed_result(bot: Bot, bridge: FakeBridge) -> None:
    bridge.plan = [[reply_of(128)], [reply_of(9)]]
    result = await in_actor(bot, lambda a: a.add_media("cu", "https://example.com/e.html"))
    assert isinstance(result, AddMediaResult)
    assert result.uid == 1
    assert result.accepted
    said = await in_actor(bot, lambda a: a.send_chat("hello"))
    assert said.accepted
    first, second = bridge.requests
    assert first["command"] == "addvideo"
    assert first["args"]["id"] == "https://example.com/e.html"
    assert first["meta"]["channel"] == "lounge"
    assert first["meta"]["domain"] == "cytu.be"
    assert first["meta"]["request_id"] == result.correlation_id
    assert second["command"] == "say"
    assert second["args"] == {"message": "hello"}
    assert said.correlation_id == second["meta"]["request_id"] != result.correlation_id
    assert bot.health().commands_sent == 2


@pytest.mark.parametrize(
    ("seq", "text"),
    [
        (131, "This item is already on the playlist"),  # failure inside data
        (130, "HLS links must start with HTTPS"),
        (90, "Missing username or ban_id"),  # outer failure, no "command"
        (162, "Command intended for 'llm', not 'robot'"),
    ],
)
async def test_bridge_refusals_raise_command_rejected_with_its_text(
    bot: Bot, bridge: FakeBridge, seq: int, text: str
) -> None:
    bridge.plan = [[reply_of(seq)]]
    error = await in_actor(bot, lambda a: a.add_media("rt", "rtmp://127.0.0.1/live/x"))
    assert isinstance(error, CommandRejected)
    assert text in str(error)
    assert text in (error.reason or "")
    assert error.reply == reply_of(seq)
    assert bot.health().actors["cytu.be/lounge"].restarts == 0


async def test_the_first_of_duplicate_replies_wins(bot: Bot, bridge: FakeBridge) -> None:
    ok, refused = reply_of(9), reply_of(90)
    bridge.plan = [[ok, refused], [refused, ok], reply_of_both(163)]
    assert (await in_actor(bot, lambda a: a.send_chat("one"))).accepted
    assert isinstance(await in_actor(bot, lambda a: a.send_chat("two")), CommandRejected)
    error = await in_actor(bot, lambda a: a.send_chat("three"))
    assert isinstance(error, CommandRejected)
    assert "Missing 'command' field" in str(error)


def reply_of_both(seq: int) -> list[dict[str, Any]]:
    return [reply["body"] for reply in RECORDED[seq]["replies"]]


async def test_no_reply_is_an_outcome_unknown_timeout(bot: Bot, bridge: FakeBridge) -> None:
    bridge.plan = [[]]  # like an unknown command or another channel's meta: silence
    loop = asyncio.get_running_loop()
    started = loop.time()
    error = await in_actor(bot, lambda a: a.send_chat("anyone?"))
    elapsed = loop.time() - started
    assert isinstance(error, KrytenTimeoutError)
    assert error.outcome_unknown
    assert 0.35 <= elapsed < 5
    assert len(bridge.requests) == 1  # never re-sent


async def test_no_responders_under_fail_is_bridge_unavailable(
    bus: Bus, make_bot: BotFactory
) -> None:
    bot = await make_bot(
        PROFILE,
        [("cytu.be", "lounge")],
        Remote,
        bridge={"down_policy": "fail", "probe_on_start": False},
    )
    error = await in_actor(bot, lambda a: a.send_chat("nobody listens"))
    assert isinstance(error, BridgeUnavailable)
    assert isinstance(error.__cause__ or error.__context__, NoResponders)
    assert "nothing was delivered" in str(error).lower()
    assert bot.sender.stats.failed == 1
    assert bot.channels.bindings["lounge"].bridge_state == "down"


async def test_no_responders_under_wait_gives_up_after_wait_timeout(
    bus: Bus, make_bot: BotFactory
) -> None:
    bot = await make_bot(
        PROFILE,
        [("cytu.be", "lounge")],
        Remote,
        bridge={"down_policy": "wait", "wait_timeout": 0.5, "probe_on_start": False},
    )
    error = await in_actor(bot, lambda a: a.send_chat("nobody listens"))
    assert isinstance(error, BridgeUnavailable)
    assert "bridge.wait_timeout" in str(error)


@pytest.mark.parametrize(
    ("query", "seq", "check"),
    [
        ("userlist", 148, lambda r: [u.name for u in r.users][:2] == ["KrytenBot", "E2eCarol"]),
        ("playlist", 136, lambda r: len(r.items) > 0 and r.items[0].media.title == "Livestream"),
        ("motd", 100, lambda r: r.motd.startswith("<h3>E2E MOTD</h3>")),
        ("emotes", 106, lambda r: [e.name for e in r.emotes] == ["#e2e"]),
    ],
)
async def test_state_queries_return_typed_results(
    bot: Bot, bridge: FakeBridge, query: str, seq: int, check: Callable[[Any], bool]
) -> None:
    bridge.plan = [[reply_of(seq)]]
    result = await in_actor(bot, lambda a: getattr(a.state, query)())
    assert not isinstance(result, Exception), result
    assert check(result)
    request = bridge.requests[0]
    assert request["command"] == f"state.{query}"
    assert "args" not in request
    assert request["meta"]["channel"] == "lounge"


async def test_commands_above_the_known_rank_are_refused_before_sending(
    bus: Bus, bot: Bot, bridge: FakeBridge
) -> None:
    bridge.plan = [[reply_of(97)]]
    # no rank event seen yet: nothing is refused
    assert (await in_actor(bot, lambda a: a.assign_leader("alice"))).accepted
    assert len(bridge.requests) == 1

    await bus.publish(envelope(PROFILE, "rank", 1))
    await wait_until(lambda: _rank(bot) == 1, what="the rank event")
    error = await in_actor(bot, lambda a: a.assign_leader("alice"))
    assert isinstance(error, CommandRejected)
    assert error.reason == "insufficient rank"
    assert len(bridge.requests) == 1  # nothing was sent

    bridge.plan = [[reply_of(9)]]
    assert (await in_actor(bot, lambda a: a.send_chat("rank 1 may chat"))).accepted
    await bus.publish(envelope(PROFILE, "rank", 3))
    await wait_until(lambda: _rank(bot) == 3, what="the promotion")
    bridge.plan = [[reply_of(97)]]
    assert (await in_actor(bot, lambda a: a.assign_leader("alice"))).accepted
    assert [r["command"] for r in bridge.requests] == ["assignLeader", "say", "assignLeader"]


def _rank(bot: Bot) -> float | None:
    return bot.channels.bindings["lounge"].rank


async def test_current_media_is_tracked_for_commands(bus: Bus, bot: Bot) -> None:
    media = {
        "id": "x",
        "title": "Now Playing",
        "seconds": 5,
        "duration": "00:05",
        "type": "rt",
        "meta": {},
        "currentTime": -3,
        "paused": True,
    }
    await bus.publish(envelope(PROFILE, "setCurrent", 7))
    await bus.publish(envelope(PROFILE, "changeMedia", media))

    async def current(actor: Remote) -> tuple[Any, Any]:
        return actor.current_uid, actor.current_media

    await wait_until(lambda: bot.health().actors["cytu.be/lounge"].processed >= 2, what="events")
    uid, playing = await in_actor(bot, current)
    assert uid == 7
    assert playing.payload.title == "Now Playing"
