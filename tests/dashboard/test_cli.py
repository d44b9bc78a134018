"""``kryten-actors dashboard``: serves until SIGTERM, takes credentials from a bot config."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from kryten_actors.cli.dashboard import nats_config
from kryten_actors.cli.main import main
from kryten_actors.dashboard.web import exposure_warning, is_loopback
from kryten_actors.transport.server import NatsServer, free_port
from tests.cli.test_run import wait_for_line


async def test_serves_the_page_until_sigterm(nats_server: NatsServer) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kryten_actors.cli",
        "dashboard",
        "--nats",
        nats_server.url,
        "--port",
        str(port),
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stderr is not None
        await wait_for_line(proc.stderr, f"open http://127.0.0.1:{port}/")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/") as response:
                assert response.status == 200
                assert "kryten-actors dashboard" in await response.text()
            async with session.get(f"http://127.0.0.1:{port}/api/stream") as response:
                line = await response.content.readline()
                assert json.loads(line.removeprefix(b"data: "))["fleet"]["bots"] == []
                proc.send_signal(signal.SIGTERM)  # with a stream open
                async with asyncio.timeout(20):
                    _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()


def test_an_unreachable_server_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    assert main(["dashboard", "--nats", url, "--port", str(free_port())]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kryten-actors dashboard: ")
    assert "127.0.0.1" in err
    assert "Traceback" not in err


def test_a_taken_port_is_a_clear_error(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket  # noqa: PLC0415

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", "--nats", nats_server.url, "--port", str(port)]) == 1
    assert f"cannot serve the dashboard on 127.0.0.1:{port}" in capsys.readouterr().err


def test_credentials_come_from_a_bot_config(tmp_path: Path) -> None:
    config = tmp_path / "bot.yaml"
    config.write_text(
        "nats:\n  servers: [nats://nats.internal:4222]\n  user: ops\n  password: s3cret\n",
        encoding="utf-8",
    )
    from_file = nats_config(None, str(config))
    assert from_file.servers == ["nats://nats.internal:4222"]
    assert from_file.user == "ops"
    assert from_file.password is not None
    assert from_file.password.get_secret_value() == "s3cret"
    assert from_file.name == "kryten-actors-dashboard"
    overridden = nats_config("nats://127.0.0.1:4333", str(config))
    assert overridden.servers == ["nats://127.0.0.1:4333"]
    assert overridden.user == "ops"
    assert nats_config("nats://127.0.0.1:4333", None).user is None


def test_serving_beyond_loopback_is_warned_about() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("127.0.0.2")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("dashboard.example")
    assert exposure_warning("127.0.0.1", allow_actions=True) is None
    warning = exposure_warning("0.0.0.0", allow_actions=True)
    assert warning is not None
    assert "no login" in warning
    assert "restart" in warning
    read_only = exposure_warning("10.0.0.5", allow_actions=False)
    assert read_only is not None
    assert "restart" not in read_only


def test_the_cli_imports_the_dashboard_only_when_asked() -> None:
    import subprocess  # noqa: PLC0415

    # (nats-py itself imports aiohttp when it is installed, for its websocket transport)
    code = (
        "import sys, kryten_actors, kryten_actors.cli.main; "
        "print([m for m in sys.modules if m.startswith('kryten_actors.dashboard')])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
