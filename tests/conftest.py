"""Shared fixtures: real nats-server processes on free loopback ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from kryten_actors.transport.server import NatsServer

NatsServerFactory = Callable[..., Awaitable[NatsServer]]


@pytest.fixture
async def nats_server_factory() -> AsyncIterator[NatsServerFactory]:
    """``await nats_server_factory(**NatsServer options)`` starts a server; all stop at teardown."""
    servers: list[NatsServer] = []

    async def start(**options: Any) -> NatsServer:
        server = NatsServer(**options)
        servers.append(server)
        await server.start()
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def nats_server(nats_server_factory: NatsServerFactory) -> NatsServer:
    """A started, open (no auth) nats-server on a free 127.0.0.1 port."""
    return await nats_server_factory()
