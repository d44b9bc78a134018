"""SIGTERM under load: the bot drains its mailboxes, flushes its commands and exits 0.

The load is a burst the bot cannot keep up with (so its mailboxes hold a backlog when the
signal comes) plus a trickle that runs on through the whole shutdown. The burst is
finite, so the backlog at the signal is bounded by design (at most ``BURST`` events per
channel) instead of by how fast a loaded machine happens to be: draining it fits the
shutdown deadline with a wide margin even on 2 busy cores under coverage, and the test
can insist that nothing at all was cut off.
"""

from __future__ import annotations

import json
import time

import pytest

from kryten_actors.transport.server import NatsServer
from tests.reliability.support import ChildProcess, SubjectCounter, load_plan

SHUTDOWN_TIMEOUT = 5.0
EXIT_MARGIN = 3.0  # interpreter start-up is not part of it, teardown is
DOMAIN = "cytu.be"
CHANNELS = [(DOMAIN, name) for name in ("lounge", "den", "attic", "cellar")]
BURST = 400  # events per channel, offered at RATE
RATE = 3000  # events/s: more than the handlers' simulated work can keep up with
WORK = 0.002  # seconds per event, per channel: at most 500 events/s per channel
ANSWERED_AT_SIGNAL = 200  # of the burst's 1,600: the bot is busy and behind
TRICKLE = 200  # events/s over all channels, from the start until after the exit


@pytest.mark.slow
async def test_sigterm_under_load_drains_and_exits_cleanly(nats_server: NatsServer) -> None:
    bot_plan = json.dumps(
        {
            "url": nats_server.url,
            "channels": CHANNELS,
            "shutdown_timeout": SHUTDOWN_TIMEOUT,
            "work": WORK,
        }
    )
    async with (
        SubjectCounter(nats_server.url, "cytube.commands.>") as commands,
        ChildProcess("tests.reliability.sigterm_bot", bot_plan) as bot,
    ):
        await bot.expect("ready", within=30)
        burst_plan = load_plan(nats_server.url, CHANNELS, rate=RATE, count=BURST, duration=None)
        trickle_plan = load_plan(nats_server.url, CHANNELS, rate=TRICKLE, duration=120.0)
        async with (
            ChildProcess("tests.reliability.load", trickle_plan) as trickle,
            ChildProcess("tests.reliability.load", burst_plan) as burst,
        ):
            await trickle.expect("ready", within=30)
            await burst.expect("ready", within=30)
            await commands.wait_for(ANSWERED_AT_SIGNAL, within=60)

            answered_at_signal = len(commands.messages)
            bot.terminate()
            signalled = time.monotonic()
            code = await bot.wait(within=SHUTDOWN_TIMEOUT + EXIT_MARGIN)
            took = time.monotonic() - signalled
            report = await bot.read_json(within=1)
            burst_published = (await burst.read_json(within=60))["published"]
            assert await burst.wait(within=10) == 0
            trickle.terminate()  # the trickle ran on through the whole shutdown
            trickle_published = (await trickle.read_json(within=30))["published"]
            assert await trickle.wait(within=10) == 0

        await commands.wait_for(report["sent"], within=30)
        await commands.transport.flush()

    assert code == 0, bot.stderr()
    assert took <= SHUTDOWN_TIMEOUT + EXIT_MARGIN
    assert report["state"] == "stopped"
    # drained: every event the router took was handled, nothing left or dropped
    assert report["received"] == report["routed"] == report["handled"]
    assert report["depth"] == 0
    assert report["dead_letters"] == {}
    assert report["send_failed"] == 0
    # every command sent before the exit reached the server, once
    assert report["sent"] == report["handled"] == len(commands.messages)
    # the backlog at the signal was worked off during the shutdown
    assert report["sent"] - answered_at_signal > len(CHANNELS)
    # the router stopped taking events while the load went on
    assert sum(burst_published.values()) == BURST * len(CHANNELS)
    published = sum(burst_published.values()) + sum(trickle_published.values())
    assert published > report["received"]
