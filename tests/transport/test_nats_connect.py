"""Connecting NatsTransport: auth modes, bounded failures, no secrets in messages."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import nkeys
import pytest
from pydantic import SecretStr

from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import KrytenConnectionError
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer, free_port
from tests.transport.inbox import Inbox

TIMEOUT = 1.0
MARGIN = 0.75

NatsServerFactory = Callable[..., Awaitable[NatsServer]]


async def connect_fails(config: NatsConfig) -> KrytenConnectionError:
    transport = NatsTransport(config)
    started = time.monotonic()
    with pytest.raises(KrytenConnectionError) as caught:
        await transport.connect()
    elapsed = time.monotonic() - started
    assert elapsed < config.connect_timeout + MARGIN, f"took {elapsed:.2f} s"
    assert not transport.is_connected
    await transport.close()
    return caught.value


async def round_trip(config: NatsConfig) -> None:
    async with NatsTransport(config) as transport:
        inbox = Inbox()
        await transport.subscribe("auth.ok", inbox)
        await transport.publish("auth.ok", b"in")
        await inbox.wait_for(1)


async def test_user_password(nats_server_factory: NatsServerFactory) -> None:
    server = await nats_server_factory(user="bot", password="s3cret-pw")
    await round_trip(NatsConfig(servers=[server.url], user="bot", password=SecretStr("s3cret-pw")))


async def test_token(nats_server_factory: NatsServerFactory) -> None:
    server = await nats_server_factory(token="t0ken-value")
    await round_trip(NatsConfig(servers=[server.url], token=SecretStr("t0ken-value")))


def _user_seed() -> bytes:
    return nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)  # type: ignore[no-any-return]


async def test_nkey_seed_file(nats_server_factory: NatsServerFactory, tmp_path: Path) -> None:
    seed = _user_seed()
    public = nkeys.from_seed(seed).public_key.decode()
    server = await nats_server_factory(nkey=public)
    seed_file = tmp_path / "bot.nk"
    seed_file.write_bytes(seed)
    await round_trip(NatsConfig(servers=[server.url], nkey_seed_file=str(seed_file)))


async def test_wrong_nkey_seed_fails_in_time(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    server = await nats_server_factory(nkey=nkeys.from_seed(_user_seed()).public_key.decode())
    seed_file = tmp_path / "other.nk"
    seed_file.write_bytes(_user_seed())
    error = await connect_fails(
        NatsConfig(servers=[server.url], nkey_seed_file=str(seed_file), connect_timeout=TIMEOUT)
    )
    assert server.url in str(error)


async def test_wrong_password_fails_in_time_without_leaking_it(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(user="bot", password="right-pw")
    error = await connect_fails(
        NatsConfig(
            servers=[server.url],
            user="bot",
            password=SecretStr("wrong-pw-123"),
            connect_timeout=TIMEOUT,
            reconnect_wait=0.1,
        )
    )
    text = str(error)
    assert server.url in text
    assert "credentials" in text
    assert "user and password" in text
    assert "wrong-pw-123" not in text
    assert "wrong-pw-123" not in repr(error.__cause__)


async def test_wrong_token_fails_in_time(nats_server_factory: NatsServerFactory) -> None:
    server = await nats_server_factory(token="right-token")
    error = await connect_fails(
        NatsConfig(servers=[server.url], token=SecretStr("bad-token-456"), connect_timeout=TIMEOUT)
    )
    assert "token" in str(error)
    assert "bad-token-456" not in str(error)


async def test_missing_credentials_fail_in_time(nats_server_factory: NatsServerFactory) -> None:
    server = await nats_server_factory(token="right-token")
    error = await connect_fails(NatsConfig(servers=[server.url], connect_timeout=TIMEOUT))
    assert "none are configured" in str(error)


async def test_password_in_url_is_masked(nats_server_factory: NatsServerFactory) -> None:
    server = await nats_server_factory(user="bot", password="right-pw")
    url = f"nats://bot:url-secret-789@127.0.0.1:{server.port}"
    error = await connect_fails(NatsConfig(servers=[url], connect_timeout=TIMEOUT))
    assert "url-secret-789" not in str(error)
    assert f"127.0.0.1:{server.port}" in str(error)


async def test_unreachable_server_fails_in_time() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    error = await connect_fails(
        NatsConfig(servers=[url], connect_timeout=TIMEOUT, reconnect_wait=0.1)
    )
    text = str(error)
    assert url in text
    assert "within 1 s" in text
    assert "running and reachable" in text


async def test_unreachable_server_with_bounded_reconnects_still_uses_the_whole_timeout() -> None:
    # max_reconnect_attempts applies after the first success only.
    url = f"nats://127.0.0.1:{free_port()}"
    config = NatsConfig(
        servers=[url], connect_timeout=0.6, reconnect_wait=0.1, max_reconnect_attempts=1
    )
    started = time.monotonic()
    await connect_fails(config)
    assert time.monotonic() - started >= 0.55


async def test_connect_is_idempotent(nats_server_factory: NatsServerFactory) -> None:
    server = await nats_server_factory()
    async with NatsTransport(NatsConfig(servers=[server.url])) as transport:
        await transport.connect()
        assert transport.is_connected


async def test_operations_before_connect_say_what_to_do() -> None:
    transport = NatsTransport(NatsConfig())
    with pytest.raises(KrytenConnectionError, match="not connected; call connect"):
        await transport.publish("x", b"")
    with pytest.raises(KrytenConnectionError, match="not connected"):
        await transport.subscribe("x", Inbox())
