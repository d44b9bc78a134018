"""The pytest plugin: its fixtures here, and in a user's project (a fresh pytest run)."""

from __future__ import annotations

import pytest

from kryten_actors.testing import BotHarness, HarnessFactory
from tests.testing.actors import Greeter, chat
from tests.testing.support import plugin_args, plugins_for_module

pytest_plugins = plugins_for_module()

USER_TESTS = """
from kryten_actors.bot import ChannelActor, on
from kryten_actors.config import NatsConfig
from kryten_actors.transport.nats import NatsTransport


class Greeter(ChannelActor):
    @on("chatMsg")
    async def greet(self, event):
        if event.message == "!hi":
            await self.send_chat(f"hi {event.username}")


async def test_greets(bot_harness):
    async with bot_harness(Greeter, channels=["lounge"]) as h:
        await h.emit(
            "lounge", "chatMsg", {"username": "alice", "msg": "!hi", "time": 0, "meta": {}}
        )
        assert [c.payload["message"] for c in h.sent] == ["hi alice"]


async def test_greets_over_kryten_robot(bot_harness):
    async with bot_harness(Greeter, channels=["lounge"], profile="kryten-robot") as h:
        await h.emit("lounge", "chatMsg", {"username": "bob", "msg": "!hi", "time": 0, "meta": {}})
        assert [(c.action, c.payload) for c in h.sent] == [("say", {"message": "hi bob"})]


LEFT_OPEN = []
SERVERS = []


async def test_leaves_a_harness_open(bot_harness):
    h = bot_harness(Greeter)
    await h.start()
    LEFT_OPEN.append(h)


async def test_nats_server_is_real(nats_server):
    SERVERS.append(nats_server)
    assert nats_server.url.startswith("nats://127.0.0.1:")
    async with NatsTransport(NatsConfig(servers=[nats_server.url])) as bus:
        await bus.subscribe("ping", lambda msg: bus.publish(msg.reply, b"pong"))
        reply = await bus.request("ping", b"", timeout=5)
        assert reply.data == b"pong"


def test_fixtures_closed_what_they_made():
    [h] = LEFT_OPEN
    assert h.bot.state == "stopped"
    assert not h.transport.is_connected
    [server] = SERVERS
    assert not server.is_running
"""


async def test_bot_harness_makes_harnesses_and_closes_them(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Greeter, channels=["lounge"]) as h:
        assert isinstance(h, BotHarness)
        await h.emit("lounge", "chatMsg", chat("!hi"))
        assert [c.payload["message"] for c in h.sent] == ["hi alice"]
    assert h.bot.state == "stopped"
    left_open = bot_harness(Greeter, profile="kryten-robot")
    await left_open.start()  # the fixture's teardown closes it


def test_a_user_test_file_runs_with_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest(*plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_the_fixtures_work_in_strict_asyncio_mode(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(
        test_strict="""
import pytest
from kryten_actors.bot import ChannelActor, on


class Echo(ChannelActor):
    @on("chatMsg")
    async def echo(self, event):
        await self.send_chat(event.message)


@pytest.mark.asyncio
async def test_echo(bot_harness):
    async with bot_harness(Echo, channels=["lounge"]) as h:
        await h.emit("lounge", "chatMsg", {"username": "a", "msg": "x", "time": 0, "meta": {}})
        assert [c.payload for c in h.sent] == [{"message": "x"}]
"""
    )
    result = pytester.runpytest(*plugin_args(), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
