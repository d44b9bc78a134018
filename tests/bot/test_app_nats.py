"""The Bot on a real nats-server: outages, SIGTERM under load, authentication."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, KrytenConnectionError, on
from kryten_actors.config import NatsConfig
from kryten_actors.protocol.commands import SendChat
from kryten_actors.transport.base import ConnectionEvent, ConnectionState, RetryPolicy
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import free_port
from tests.bot.conftest import bot_config
from tests.bot.support import Collector, chat
from tests.conftest import NatsServerFactory
from tests.polling import wait_until

REPO = Path(__file__).parent.parent.parent
SCRIPT = Path(__file__).parent / "sigterm_bot.py"


class Echo(ChannelActor):
    """Answers each chat line with one chat command."""

    @on("chatMsg")
    async def answer(self, event: ChatMessageEvent) -> None:
        await self.send_chat(f"re:{event.message}")


def texts(collector: Collector) -> list[str]:
    return [body["payload"]["message"] for body in collector.bodies()]


async def test_the_bot_reconnects_and_commands_sent_during_an_outage_arrive(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory()
    # the observer reconnects fast; the bot slowly, so the observer is back first
    observer = NatsTransport(NatsConfig(servers=[server.url], reconnect_wait=0.05))
    await observer.connect()
    collector = Collector()
    await observer.subscribe("cytube.commands.>", collector)
    config = bot_config(
        "seed", [("cytu.be", "lounge")], nats={"servers": [server.url], "reconnect_wait": 1.0}
    )
    bot = Bot(config, actor=Echo)
    bot_events: list[ConnectionEvent] = []
    bot.transport.add_listener(bot_events.append)
    observer_events: list[ConnectionEvent] = []
    observer.add_listener(observer_events.append)
    async with bot:
        for i in range(20):
            await observer.publish(*chat("seed", f"before {i}"))
        await wait_until(lambda: len(collector) == 20, what="answers before the outage")

        await server.kill()
        await wait_until(
            lambda: any(e.state is ConnectionState.DISCONNECTED for e in bot_events),
            what="the bot notices the outage",
        )
        for i in range(10):
            await bot.send(SendChat(message=f"outage {i}"), domain="cytu.be", channel="lounge")
        await server.start()
        await wait_until(
            lambda: (
                any(e.state is ConnectionState.RECONNECTED for e in bot_events)
                and any(e.state is ConnectionState.RECONNECTED for e in observer_events)
            ),
            what="both reconnect",
            within=20,
        )
        await wait_until(lambda: len(collector) == 30, what="the outage's commands", within=20)
        for i in range(20):
            await observer.publish(*chat("seed", f"after {i}"))
        await wait_until(lambda: len(collector) == 50, what="answers after the outage", within=20)
    await observer.close()
    assert texts(collector) == (
        [f"re:before {i}" for i in range(20)]
        + [f"outage {i}" for i in range(10)]
        + [f"re:after {i}" for i in range(20)]
    )
    assert bot.health().commands_sent == 50


@pytest.mark.slow
async def test_sigterm_under_load_exits_zero_and_loses_no_command(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory()
    observer = NatsTransport(NatsConfig(servers=[server.url]), retry=RetryPolicy(attempts=1))
    await observer.connect()
    collector = Collector()
    await observer.subscribe("cytube.commands.>", collector)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        server.url,
        "seed",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    assert process.stdout is not None
    async with asyncio.timeout(20):
        assert (await process.stdout.readline()).strip() == b"READY"

    stop_publishing = asyncio.Event()

    async def publish_continuously() -> int:
        count = 0
        while not stop_publishing.is_set():
            await observer.publish(*chat("seed", str(count)))
            count += 1
            if count % 20 == 0:
                await asyncio.sleep(0)  # let the collector run between bursts
        return count

    publisher = asyncio.create_task(publish_continuously())
    await wait_until(lambda: len(collector) >= 200, what="the bot under load")
    loop = asyncio.get_running_loop()
    signalled = loop.time()
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(5.0 + 10):  # shutdown_timeout plus start-up of the interpreter
        stdout, stderr = await process.communicate()
    elapsed = loop.time() - signalled
    stop_publishing.set()
    published = await publisher
    assert process.returncode == 0, stderr.decode()
    assert elapsed < 5.0 + 3
    report = json.loads(stdout.decode().strip().splitlines()[-1])
    assert report["state"] == "stopped"
    assert report["sent"] == report["handled"] > 0
    # Whatever the channel could not handle before the shutdown deadline is accounted for
    # as a dead letter, and only a deadline that really ran out may leave any.
    cut_off = report["dead_letters"].get("actor_stopped", 0)
    assert report["routed"] == report["handled"] + cut_off
    assert set(report["dead_letters"]) <= {"actor_stopped"}
    if cut_off:
        assert elapsed >= 5.0 - 0.5, "events were cut off before the shutdown deadline"
    assert report["sent"] <= published
    await observer.flush()
    await wait_until(lambda: len(collector) >= report["sent"], what="every command")
    assert len(collector) == report["sent"]
    assert texts(collector) == [f"ack:{i}" for i in range(report["sent"])]
    await observer.close()


@pytest.mark.parametrize("auth", ["user", "token"])
async def test_authenticated_bot_end_to_end(
    nats_server_factory: NatsServerFactory, auth: str
) -> None:
    if auth == "user":
        server = await nats_server_factory(user="bot", password="s3cr3t pass")
        credentials: dict[str, Any] = {"user": "bot", "password": "s3cr3t pass"}
    else:
        server = await nats_server_factory(token="t0ken-value")
        credentials = {"token": "t0ken-value"}
    observer = NatsTransport(NatsConfig(servers=[server.url], **credentials))
    await observer.connect()
    collector = Collector()
    await observer.subscribe("cytube.commands.>", collector)
    config = bot_config(
        "seed", [("cytu.be", "lounge")], nats={"servers": [server.url], **credentials}
    )
    async with Bot(config, actor=Echo) as bot:
        await observer.publish(*chat("seed", "authenticated"))
        await wait_until(lambda: len(collector) == 1, what="the answer")
        assert bot.health().connected
    await observer.close()
    assert texts(collector) == ["re:authenticated"]


@pytest.mark.parametrize("case", ["wrong password", "wrong token", "unreachable"])
async def test_connection_failures_raise_within_the_connect_timeout(
    nats_server_factory: NatsServerFactory, case: str
) -> None:
    nats: dict[str, Any]
    if case == "wrong password":
        server = await nats_server_factory(user="bot", password="right")
        nats = {"servers": [server.url], "user": "bot", "password": "wrong"}
    elif case == "wrong token":
        server = await nats_server_factory(token="right")
        nats = {"servers": [server.url], "token": "wrong"}
    else:
        nats = {"servers": [f"nats://127.0.0.1:{free_port()}"]}
    nats |= {"connect_timeout": 1.5, "reconnect_wait": 0.1}
    bot = Bot(bot_config("seed", [("cytu.be", "lounge")], nats=nats), actor=Echo)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(KrytenConnectionError) as caught:
        async with bot:
            pytest.fail("the bot must not start")
    assert loop.time() - started < 1.5 + 2.0
    assert "wrong" not in str(caught.value)
    assert bot.state == "stopped"
