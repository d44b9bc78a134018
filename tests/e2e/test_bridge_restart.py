"""A bridge restart on the real stack: replayed history, the outage, and the rejoin.

kryten-robot restarts itself after 2 quiet minutes (and on every deploy); on the rejoin
CyTube replays its recent chat, which a bot must not answer again. This forces one
restart with five old ``!ping`` lines in the history and checks what a person sees.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

import pytest

from kryten_actors import Bot, BridgeUnavailable, ChannelActor
from kryten_actors.config import NatsConfig
from kryten_actors.transport.base import InboundMessage, RetryPolicy
from kryten_actors.transport.nats import NatsTransport
from tests.e2e.conftest import Person, Stack
from tests.pinger import Pinger
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


class Quiet(ChannelActor):
    """Handles nothing."""


async def health_cli(stack: Stack, name: str) -> tuple[int, str, str]:
    """``kryten-actors health --name NAME`` against the stack's NATS, as an operator runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kryten_actors.cli",
        "health",
        "--nats",
        stack.nats_url,
        "--name",
        name,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_restart_replays_nothing_holds_commands_and_recovers(
    stack: Stack, watcher: Person
) -> None:
    run = uuid.uuid4().hex[:6]
    old = [f"old{run}{i}" for i in range(5)]
    # history the bot never saw live: the bots start only once the bridge has relayed
    # all five lines (a person sees them before the bridge publishes them)
    relayed: list[bytes] = []

    async def seen(message: InboundMessage) -> None:
        if run.encode() in message.data:
            relayed.append(message.data)

    async with NatsTransport(
        NatsConfig(servers=[stack.nats_url]), retry=RetryPolicy(attempts=1)
    ) as tap:
        await tap.subscribe("kryten.events.cytube.>", seen)
        for tag in old:
            await watcher.say(f"!ping {tag}")
        await wait_until(lambda: len(relayed) >= len(old), within=15, what="the bridge relays")
    Pinger.answered = []
    waiting = Bot(stack.config(service_name="e2e-waiting"), actor=Pinger)
    failing = Bot(
        stack.config(service_name="e2e-failing", bridge={"down_policy": "fail"}), actor=Quiet
    )
    async with waiting, failing:
        here = waiting.channels.binding(stack.domain, stack.channel)
        there = failing.channels.binding(stack.domain, stack.channel)
        assert here is not None
        assert there is not None
        await wait_until(
            lambda: here.link.identity is not None and there.link.identity is not None,
            within=5,
            what="both bots to know which bridge process serves the channel",
        )
        replayed_before = here.counters.replayed_skipped
        stack.restart_bridge()
        await wait_until(lambda: here.link.is_down and there.link.is_down, within=30, what="down")
        assert waiting.health().actors[f"{stack.domain}/{stack.channel}"].state == "running"
        # health says so: the channel is degraded (its bridge is down), the CLI exits 2
        summary = waiting.health_summary()
        assert not summary.healthy
        assert summary.degraded_count == 1
        assert "bridge" in summary.degraded[0].reason
        code, _, err = await health_cli(stack, "e2e-waiting")
        assert code == 2, err
        assert "bridge" in err

        # fail: refused at once, nothing sent
        started = time.monotonic()
        with pytest.raises(BridgeUnavailable):
            await failing.channel(stack.domain, stack.channel).send_chat(f"never {run}")
        refused_in = time.monotonic() - started
        assert refused_in < 0.1, f"BridgeUnavailable took {refused_in * 1000:.0f} ms"

        # wait: held until the bridge is back, then delivered
        held = asyncio.create_task(
            waiting.channel(stack.domain, stack.channel).send_chat(f"held {run}")
        )
        await wait_until(lambda: here.link.state == "up" and here.join.settled, 60, "rejoin")
        await asyncio.wait_for(held, 30)
        bot_user = stack.env["BOT_USER"]
        await watcher.wait_for(
            lambda: f"held {run}" in watcher.said_by(bot_user), 15, "the held line"
        )
        # the rejoin replayed the old lines; none was answered
        await wait_until(
            lambda: here.counters.replayed_skipped - replayed_before >= len(old),
            within=15,
            what="the replayed history to be skipped",
        )
        assert not any(tag in old for tag in Pinger.answered), (Pinger.answered, here.counters)
        # live again: a new !ping is answered
        await watcher.say(f"!ping new{run}")
        await watcher.wait_for(
            lambda: f"pong new{run}" in watcher.said_by(bot_user), 15, "the new pong"
        )
        actor = waiting.health().actors[f"{stack.domain}/{stack.channel}"]
        assert (actor.restarts, actor.failed) == (0, 0)
    assert f"never {run}" not in watcher.said_by(bot_user)
    assert not any(f"pong {tag}" in watcher.said_by(bot_user) for tag in old)
