"""A second SIGTERM/SIGINT during the shutdown is ignored; a third exits at once (issue 11.3).

Before, ``run()`` removed its signal handlers before awaiting ``stop()``: a second SIGTERM
killed the process mid-drain (exit -15, 1,409 of 1,500 queued events lost) and a second
SIGINT raised ``KeyboardInterrupt`` with a traceback.

The bot (``tests.reliability.sigterm_bot`` with ``hold``) keeps one channel's ``on_stop``
waiting for a line on stdin, so the later signals certainly arrive while the shutdown
runs — no timing involved.
"""

from __future__ import annotations

import json
import signal

import pytest

from kryten_actors.transport.server import NatsServer
from tests.polling import wait_until
from tests.reliability.support import ChildProcess, SubjectCounter, load_plan

DOMAIN = "cytu.be"
CHANNELS = [(DOMAIN, name) for name in ("lounge", "den")]
HOLD = f"{DOMAIN}/lounge"
BURST = 750  # events per channel
RATE = 3000  # events/s: more than the handlers' simulated work keeps up with
WORK = 0.002  # seconds per event and channel


def bot_plan(url: str) -> str:
    return json.dumps(
        {
            "url": url,
            "channels": CHANNELS,
            "shutdown_timeout": 30.0,  # the held on_stop must not run into it
            "work": WORK,
            "hold": HOLD,
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_second_signal_is_ignored_and_the_drain_loses_nothing(
    nats_server: NatsServer, second: signal.Signals
) -> None:
    async with (
        SubjectCounter(nats_server.url, "cytube.commands.>") as commands,
        ChildProcess("tests.reliability.sigterm_bot", bot_plan(nats_server.url), stdin=True) as bot,
    ):
        await bot.expect("ready", within=30)
        plan = load_plan(nats_server.url, CHANNELS, rate=RATE, count=BURST, duration=None)
        async with ChildProcess("tests.reliability.load", plan) as burst:
            await burst.expect("ready", within=30)
            await commands.wait_for(100, within=60)  # busy and behind
            bot.terminate()
            await bot.expect("held", within=60)  # the shutdown runs, and waits for us
            bot.send_signal(second)
            await wait_until(
                lambda: (
                    f"{second.name} received again while shutting down: ignored" in bot.stderr()
                ),
                what="the second signal logged as ignored",
            )
            await bot.write_line("go")
            code = await bot.wait(within=60)
            report = await bot.read_json(within=5)
            assert await burst.wait(within=60) == 0
        await commands.wait_for(report["sent"], within=30)
        stderr = bot.stderr()

    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert "SIGTERM received: shutting down" in stderr
    assert report["state"] == "stopped"
    # every event the router took was handled: nothing queued was lost
    assert report["received"] == report["routed"] == report["handled"]
    assert report["depth"] == 0
    assert report["dead_letters"] == {}
    assert report["sent"] == report["handled"] == len(commands.messages)


@pytest.mark.slow
async def test_a_third_signal_exits_at_once_and_says_what_it_abandons(
    nats_server: NatsServer,
) -> None:
    async with (
        SubjectCounter(nats_server.url, "cytube.commands.>") as commands,
        ChildProcess("tests.reliability.sigterm_bot", bot_plan(nats_server.url), stdin=True) as bot,
    ):
        await bot.expect("ready", within=30)
        plan = load_plan(nats_server.url, CHANNELS[:1], rate=100, count=1, duration=None)
        async with ChildProcess("tests.reliability.load", plan) as one:
            await one.expect("ready", within=30)
            await commands.wait_for(1, within=30)  # run() is running: its handlers are in
            assert await one.wait(within=30) == 0
        bot.terminate()
        await bot.expect("held", within=60)
        bot.send_signal(signal.SIGTERM)
        await wait_until(lambda: "ignored, the drain goes on" in bot.stderr(), what="ignored")
        bot.send_signal(signal.SIGINT)
        code = await bot.wait(within=30)
        stderr = bot.stderr()

    assert code == 128 + signal.SIGINT, stderr
    assert "SIGINT received a third time: exiting now, abandoning" in stderr
    assert "queued events and" in stderr
    assert "Traceback" not in stderr
