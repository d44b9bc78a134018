"""Fixtures of the dashboard tests: a demo bot with a crashing channel, the dashboard, Chromium.

Browser tests run in headless Chromium driven by Playwright with the system browser
(Debian's ``chromium`` package; ``KRYTEN_CHROMIUM`` names another binary). Without one
they are skipped, saying so; ``.ci/run`` installs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kryten_actors import Bot
from kryten_actors.config.connection import NatsConfig
from kryten_actors.demo.bot import DemoActor
from kryten_actors.demo.presets import CRASH_LINE
from kryten_actors.transport.base import RetryPolicy
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.bot.support import chat

pytest.importorskip("aiohttp", reason="the dashboard extra (aiohttp) is not installed")

from kryten_actors.dashboard import Dashboard

ARTIFACTS = Path(os.environ.get("KRYTEN_ARTIFACTS", Path(__file__).parents[2] / ".artifacts"))
BOT = "demo-bot"
CRASHY = "crashy"
CHANNELS = ["lounge", "movies", "music", CRASHY]
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DashboardFactory = Callable[..., Awaitable[Dashboard]]


def bot_config(server: NatsServer, channels: list[str], **extra: Any) -> dict[str, Any]:
    """A demo bot whose crashing channel spends a visible second in ``restarting``."""
    return {
        "service_name": BOT,
        "nats": {"servers": [server.url]},
        "channels": [{"domain": "cytu.be", "channel": c} for c in channels],
        "supervision": {
            "min_backoff": 1.0,
            "max_backoff": 1.0,
            "jitter": 0.0,
            "max_restarts": 10_000,
            "within_seconds": 1,
        },
        **extra,
    }


@pytest.fixture
async def bridge(nats_server: NatsServer) -> AsyncIterator[NatsTransport]:
    """A connection standing in for the bridge (publishes channel events)."""
    transport = NatsTransport(NatsConfig(servers=[nats_server.url]), retry=RetryPolicy(attempts=1))
    async with transport:
        yield transport


@pytest.fixture
async def demo_bot(nats_server: NatsServer, bridge: NatsTransport) -> AsyncIterator[Bot]:
    """The demo actor on four channels; ``crashy`` gets ``!crash`` twice a second."""
    config = bot_config(
        nats_server,
        CHANNELS,
        control={"enabled": True},
        tracing={"ui_url": "http://jaeger.invalid:16686"},
    )

    async def traffic() -> None:
        sequence = 0
        while True:
            await bridge.publish(*chat("seed", CRASH_LINE, channel=CRASHY, user="mallory"))
            await bridge.publish(*chat("seed", f"hello {sequence}", channel="lounge"))
            sequence += 1
            await asyncio.sleep(0.5)  # a steady trickle of traffic, not a synchronisation

    async with Bot(config, actor=DemoActor) as bot:
        task = asyncio.create_task(traffic())
        try:
            yield bot
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
async def dashboard_factory(nats_server: NatsServer) -> AsyncIterator[DashboardFactory]:
    """``await dashboard_factory(allow_actions=…)``: a started dashboard; stopped at teardown."""
    started: list[Dashboard] = []

    async def start(**options: Any) -> Dashboard:
        options.setdefault("port", 0)
        dashboard = Dashboard(NatsConfig(servers=[nats_server.url]), **options)
        started.append(dashboard)
        await dashboard.start()
        return dashboard

    yield start
    for dashboard in reversed(started):
        await dashboard.stop()


def chromium_path() -> str | None:
    """The Chromium binary to drive, or None."""
    named = os.environ.get("KRYTEN_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh headless Chromium context (Playwright); skipped with the reason if impossible."""
    executable = chromium_path()
    if executable is None:
        reason = (
            "no Chromium installed: browser tests need Debian's `chromium` package "
            "(apt-get install chromium) or KRYTEN_CHROMIUM=/path/to/chromium; .ci/run installs it"
        )
        print(f"\nSKIPPED: {reason}")
        pytest.skip(reason)
    playwright_api = pytest.importorskip(
        "playwright.async_api", reason="the playwright package is not installed (dev dependency)"
    )
    async with playwright_api.async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            await context.close()


def artifact(name: str) -> Path:
    """Where a test keeps a file for people to look at (``KRYTEN_ARTIFACTS`` or .artifacts/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
