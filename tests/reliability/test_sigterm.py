"""SIGTERM under load: the bot drains its mailboxes, flushes its commands and exits 0."""

from __future__ import annotations

import json
import time

from kryten_actors.transport.server import NatsServer
from tests.reliability.support import ChildProcess, SubjectCounter, load_plan

SHUTDOWN_TIMEOUT = 5.0
EXIT_MARGIN = 3.0  # interpreter start-up is not part of it, teardown is
DOMAIN = "cytu.be"
CHANNELS = [(DOMAIN, name) for name in ("lounge", "den", "attic", "cellar")]
RATE = 3000  # events/s offered: more than the handlers' simulated work can keep up with
WORK = 0.002  # seconds per event, per channel: at most 500 events/s per channel


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
        await bot.expect("ready", within=20)
        plan = load_plan(nats_server.url, CHANNELS, rate=RATE, duration=30.0)
        async with ChildProcess("tests.reliability.load", plan) as load:
            await load.expect("ready", within=10)
            await commands.wait_for(2000, within=20)  # the bot is busy and behind

            answered_at_signal = len(commands.messages)
            bot.terminate()
            signalled = time.monotonic()
            code = await bot.wait(within=SHUTDOWN_TIMEOUT + EXIT_MARGIN)
            took = time.monotonic() - signalled
            report = await bot.read_json(within=1)
            load.terminate()  # the load ran on through the whole shutdown
            published = (await load.read_json(within=10))["published"]
            assert await load.wait(within=5) == 0

        await commands.wait_for(report["sent"], within=10)
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
    assert sum(published.values()) > report["received"]
