"""The examples run as programs against a local nats-server and stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kryten_actors.config import NatsConfig
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.bot.support import Collector, chat
from tests.conftest import NatsServerFactory
from tests.polling import wait_until

# every example runs as a program in a subprocess
pytestmark = pytest.mark.slow

REPO = Path(__file__).parent.parent.parent
EXAMPLES = REPO / "examples"


@pytest.fixture
async def server(nats_server_factory: NatsServerFactory) -> NatsServer:
    return await nats_server_factory()


@pytest.fixture
async def bus(server: NatsServer) -> AsyncIterator[tuple[NatsTransport, Collector]]:
    transport = NatsTransport(NatsConfig(servers=[server.url]))
    await transport.connect()
    collector = Collector()
    await transport.subscribe("cytube.commands.>", collector)
    yield transport, collector
    await transport.close()


async def start(script: str, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / script),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        cwd=REPO,
    )


async def publish_until_answered(
    transport: NatsTransport, collector: Collector, subject_body: tuple[str, bytes], want: int = 1
) -> None:
    """Publish until the bot has answered (it may not be subscribed yet); bounded."""
    async with asyncio.timeout(30):
        while len(collector) < want:
            await transport.publish(*subject_body)
            try:
                await wait_until(lambda: len(collector) >= want, within=0.5)
            except AssertionError:
                continue


async def stop(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(20):
        _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()


async def test_echo_bot(server: NatsServer, bus: tuple[NatsTransport, Collector]) -> None:
    transport, collector = bus
    process = await start(
        "echo_bot.py",
        NATS_URL=server.url,
        KRYTEN_PROFILE="seed",  # the examples default to kryten-robot
        CYTUBE_DOMAIN="cytu.be",
        CYTUBE_CHANNEL="lounge",
    )
    try:
        await publish_until_answered(transport, collector, chat("seed", "!echo hello"))
        await transport.publish(*chat("seed", "not a command"))
        await transport.publish(*chat("seed", "!echo second"))
        await wait_until(
            lambda: any(b["payload"]["message"] == "echo: second" for b in collector.bodies()),
            what="the second echo",
        )
    finally:
        await stop(process)
    messages = {body["payload"]["message"] for body in collector.bodies()}
    assert messages == {"echo: hello", "echo: second"}
    assert {m.subject for m in collector.messages} == {"cytube.commands.lounge.sendchat"}


async def test_multi_channel_bot(server: NatsServer, bus: tuple[NatsTransport, Collector]) -> None:
    transport, collector = bus
    process = await start(
        "multi_channel_bot.py",
        NATS_URL=server.url,
        KRYTEN_PROFILE="seed",
        CYTUBE_CHANNELS="cytu.be/lounge,cytu.be/movies",
        ANNOUNCE_SECONDS="0.3",
    )
    try:
        await publish_until_answered(transport, collector, chat("seed", "!stats", channel="movies"))

        def bodies(channel: str) -> list[str]:
            return [b["payload"]["message"] for b in collector.bodies() if b["channel"] == channel]

        assert bodies("movies")[0].startswith("movies: ")
        assert "1 people" in bodies("movies")[0]
        await wait_until(
            lambda: any("new lines in the last 0.3 s" in m for m in bodies("movies")),
            what="the timer's summary",
        )
        assert bodies("lounge") == []  # nothing happened there, so it stays quiet
    finally:
        await stop(process)
