"""Fixtures of the bot tests: one behavioural suite over the memory bus and a real nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from kryten_actors import Bot, ChannelActor, KrytenConfig
from kryten_actors.config import NatsConfig
from kryten_actors.transport.base import RetryPolicy, Transport
from kryten_actors.transport.memory import MemoryTransport
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.conftest import NatsServerFactory

BotFactory = Callable[..., Awaitable[Bot]]


@dataclass
class Bus:
    """One message bus for a test: the memory transport or a real nats-server.

    ``publisher`` is an independent connection (the bridge's, or a test's
    subscriber); ``connection()`` opens another one for a bot.
    """

    kind: str
    server: NatsServer | None
    publisher: Transport
    _opened: list[Transport] = field(default_factory=list)

    async def connection(self, **nats: Any) -> Transport:
        if self.server is None:
            assert isinstance(self.publisher, MemoryTransport)
            return self.publisher
        transport = NatsTransport(
            NatsConfig(servers=[self.server.url], **nats), retry=RetryPolicy(attempts=2)
        )
        await transport.connect()
        self._opened.append(transport)
        return transport

    async def publish(self, subject_and_body: tuple[str, bytes]) -> None:
        subject, body = subject_and_body
        await self.publisher.publish(subject, body)

    async def close(self) -> None:
        for transport in reversed(self._opened):
            await transport.close()
        await self.publisher.close()


@pytest.fixture(params=["memory", "nats"])
async def bus(
    request: pytest.FixtureRequest, nats_server_factory: NatsServerFactory
) -> AsyncIterator[Bus]:
    """The bus under test; the same tests run on both."""
    if request.param == "memory":
        memory = MemoryTransport(retry=RetryPolicy(attempts=1))
        await memory.connect()
        created = Bus("memory", None, memory)
    else:
        server = await nats_server_factory()
        publisher = NatsTransport(NatsConfig(servers=[server.url]), retry=RetryPolicy(attempts=1))
        await publisher.connect()
        created = Bus("nats", server, publisher)
    yield created
    await created.close()


def bot_config(
    profile: str,
    channels: list[tuple[str, str]],
    **overrides: Any,
) -> KrytenConfig:
    """A config for tests: fast supervision, telemetry off, no start-up probes of the bridge
    (tests that script the bridge's replies count every request)."""
    data: dict[str, Any] = {
        "profile": profile,
        "channels": [{"domain": d, "channel": c} for d, c in channels],
        "shutdown_timeout": 5.0,
        "command_timeout": 2.0,
        "bridge": {"probe_on_start": False},
        "supervision": {"min_backoff": 0.01, "max_backoff": 0.05, "jitter": 0.0},
        "gc_freeze": False,  # a full collection of the test process per start (tested alone)
    }
    data.update(overrides)
    return KrytenConfig.from_dict(data)


@pytest.fixture
async def make_bot(bus: Bus) -> AsyncIterator[BotFactory]:
    """``await make_bot(profile, channels, actor, **config)``: a started bot on ``bus``."""
    bots: list[Bot] = []

    async def make(
        profile: str,
        channels: list[tuple[str, str]],
        actor: type[ChannelActor] | dict[str, type[ChannelActor]],
        **overrides: Any,
    ) -> Bot:
        bot = Bot(
            bot_config(profile, channels, **overrides),
            actor=actor,
            transport=await bus.connection(),
        )
        bots.append(bot)
        await bot.start()
        return bot

    yield make
    for bot in reversed(bots):
        await bot.stop()
