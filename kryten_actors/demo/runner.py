"""The whole demo in one call: an embedded nats-server, the simulated bridge and the demo bot.

:func:`run_demo` starts ``nats-server`` on a free loopback port, the
:class:`~kryten_actors.demo.bridge.SimulatedBridge` on its own connection (one channel says
``!crash`` now and then) and a :class:`~kryten_actors.bot.app.Bot` running
:class:`~kryten_actors.demo.bot.DemoActor` on every channel. It reports a
:class:`DemoSnapshot` to ``on_tick`` a few times a second and returns the last one; on the
way out it stops everything it started, each step within a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from kryten_actors.bot.app import Bot
from kryten_actors.config import KrytenConfig
from kryten_actors.config.connection import NatsConfig
from kryten_actors.demo.bot import DemoActor
from kryten_actors.demo.bridge import SimulatedBridge
from kryten_actors.demo.discovery import DemoInfo, remove_demo_info, write_demo_info
from kryten_actors.errors import KrytenError, KrytenValidationError
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer, find_nats_server

__all__ = [
    "DEMO_BOT_NAME",
    "DEMO_DOMAIN",
    "DEMO_SERVICE_NAME",
    "ChannelRow",
    "DemoSnapshot",
    "channel_names",
    "demo_config",
    "run_demo",
]

log = logging.getLogger(__name__)

DEMO_DOMAIN: Final = "cytu.be"
DEMO_SERVICE_NAME: Final = "kryten-demo"
DEMO_BOT_NAME: Final = "KrytenBot"
_NAMES: Final = ("lounge", "movies", "music", "anime", "retro")
_MAX_CHANNELS: Final = 50
_STEP_TIMEOUT: Final = 8.0
"""Longest any one shutdown step may take before the demo moves on to the next."""


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """One channel in the live table.

    ``events``: published by the bridge; ``handled``: messages the channel's actor
    processed (events and timer ticks); ``commands``: commands the bridge received for
    the channel; ``mailbox``, ``restarts`` and ``state`` come from the actor's stats.
    """

    channel: str
    events: int
    handled: int
    commands: int
    mailbox: int
    restarts: int
    state: str
    crashes: bool
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DemoSnapshot:
    """What the demo looks like at one moment (``elapsed`` seconds after it started)."""

    elapsed: float
    profile: str
    nats_url: str
    rows: tuple[ChannelRow, ...]
    dead_letters: int

    @property
    def events(self) -> int:
        return sum(row.events for row in self.rows)

    @property
    def commands(self) -> int:
        return sum(row.commands for row in self.rows)

    @property
    def restarts(self) -> int:
        return sum(row.restarts for row in self.rows)


def channel_names(count: int) -> list[str]:
    """``count`` distinct channel names: the five classics, then ``room6``, ``room7``, …"""
    if not 1 <= count <= _MAX_CHANNELS:
        msg = f"channels must be between 1 and {_MAX_CHANNELS}, got {count}"
        raise KrytenValidationError(msg, errors=[("channels", msg)])
    return [_NAMES[i] if i < len(_NAMES) else f"room{i + 1}" for i in range(count)]


def demo_config(url: str, *, profile: str, channels: list[str]) -> KrytenConfig:
    """The demo bot's config: quick restarts with a generous limit, short deadlines."""
    data: dict[str, Any] = {
        "profile": profile,
        "service_name": DEMO_SERVICE_NAME,
        "nats": {"servers": [url], "connect_timeout": 5.0},
        "channels": [{"domain": DEMO_DOMAIN, "channel": name} for name in channels],
        "shutdown_timeout": 2.0,
        "command_timeout": 2.0,
        "handler_timeout": 5.0,
        # the crash channel fails every few seconds; it must never run out of restarts
        "supervision": {
            "max_restarts": 1000,
            "within_seconds": 60,
            "min_backoff": 0.2,
            "max_backoff": 1.0,
            "reset_after": 5,
        },
    }
    return KrytenConfig.from_dict(data)


def _snapshot(
    bot: Bot, bridge: SimulatedBridge, *, crash_channel: str, elapsed: float, url: str
) -> DemoSnapshot:
    health = bot.health()
    rows = []
    for name, traffic in bridge.stats.channels.items():
        actor = health.actors.get(f"{DEMO_DOMAIN}/{name}")
        rows.append(
            ChannelRow(
                channel=name,
                events=traffic.events_published,
                handled=actor.processed if actor else 0,
                commands=traffic.commands_received,
                mailbox=actor.mailbox_depth if actor else 0,
                restarts=actor.restarts if actor else 0,
                state=actor.state if actor else "absent",
                crashes=name == crash_channel,
                last_error=actor.last_error if actor else None,
            )
        )
    return DemoSnapshot(
        elapsed=elapsed,
        profile=bot.config.profile,
        nats_url=url,
        rows=tuple(rows),
        dead_letters=sum(health.dead_letters.values()),
    )


async def _bounded(what: str, step: Callable[[], Awaitable[None]]) -> None:
    # Shutdown goes on whatever one step does: the nats-server must always be stopped.
    try:
        async with asyncio.timeout(_STEP_TIMEOUT):
            await step()
    except TimeoutError:
        log.error("demo shutdown: %s did not finish within %g s", what, _STEP_TIMEOUT)
    except KrytenError as exc:
        log.error("demo shutdown: %s failed: %s", what, exc)


async def run_demo(
    channels: int = 5,
    seconds: float | None = None,
    profile: str = "seed",
    on_tick: Callable[[DemoSnapshot], None] | None = None,
    *,
    stop: asyncio.Event | None = None,
    tick_interval: float = 0.25,
    events_per_second: float = 20.0,
    crash_every: float = 3.0,
    on_ready: Callable[[str], None] | None = None,
) -> DemoSnapshot:
    """Run the demo until ``seconds`` pass (``None``: forever) or ``stop`` is set.

    ``on_ready(nats_url)`` runs once everything is up; ``on_tick`` every
    ``tick_interval`` seconds. The last channel is the crash channel. Returns the final
    snapshot, taken before shutdown. Raises :class:`KrytenError` when ``nats-server`` is
    missing (naming the ``demo`` extra) or does not start, and
    :class:`KrytenValidationError` for a bad ``channels``/``profile``.
    """
    names = channel_names(channels)
    crash_channel = names[-1]
    find_nats_server()  # fail before starting anything, with the install hint
    stop = stop or asyncio.Event()
    server = NatsServer()
    bot: Bot | None = None
    bridge_side: NatsTransport | None = None
    bridge: SimulatedBridge | None = None
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        await server.start()
        config = demo_config(server.url, profile=profile, channels=names)
        bot = Bot(config, actor=DemoActor)
        await bot.start()
        bridge_side = NatsTransport(NatsConfig(servers=[server.url], name="simulated-bridge"))
        await bridge_side.connect()
        bridge = SimulatedBridge(
            bridge_side,
            profile=profile,
            channels=[(DEMO_DOMAIN, name) for name in names],
            events_per_second=events_per_second,
            crash_channel=crash_channel,
            crash_every=crash_every,
            bot_name=DEMO_BOT_NAME,
        )
        await bridge.start()
        write_demo_info(
            DemoInfo(
                url=server.url,
                profile=profile,
                domain=DEMO_DOMAIN,
                channels=tuple(names),
                bot_name=DEMO_BOT_NAME,
                service_name=DEMO_SERVICE_NAME,
                pid=os.getpid(),
            )
        )
        if on_ready is not None:
            on_ready(server.url)
        started = loop.time()
        deadline = started + seconds if seconds is not None else math.inf

        def snap() -> DemoSnapshot:
            assert bot is not None
            assert bridge is not None
            return _snapshot(
                bot,
                bridge,
                crash_channel=crash_channel,
                elapsed=loop.time() - started,
                url=server.url,
            )

        while not stop.is_set() and loop.time() < deadline:
            if on_tick is not None:
                on_tick(snap())
            wait = min(tick_interval, max(0.0, deadline - loop.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
        return snap()
    finally:
        remove_demo_info()
        if bot is not None:
            # the bot first: its in-flight commands still get the bridge's replies
            await _bounded("the bot", bot.stop)
        if bridge is not None:
            await _bounded("the simulated bridge", bridge.stop)
        if bridge_side is not None:
            await _bounded("the bridge's connection", bridge_side.close)
        await server.stop()
