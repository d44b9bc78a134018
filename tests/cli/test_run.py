"""``kryten-actors run``: a bot from a config file and ``--actor``, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest

from kryten_actors.cli.health import ask_health
from kryten_actors.cli.main import main
from kryten_actors.transport.nats_service import health_subject
from kryten_actors.transport.server import NatsServer

NAME = "run-test-bot"


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "bot.json"
    config = {
        "service_name": NAME,
        "nats": {"servers": [url]},
        "channels": [{"domain": "cytu.be", "channel": "lounge"}],
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


async def wait_for_line(stream: asyncio.StreamReader, text: str, within: float = 15.0) -> str:
    """Read lines until one contains ``text``; everything read is returned."""
    seen: list[str] = []
    async with asyncio.timeout(within):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                pytest.fail(f"stream ended before {text!r}:\n{''.join(seen)}")
            seen.append(line)
            if text in line:
                return "".join(seen)


@pytest.mark.slow
async def test_run_serves_until_sigterm_then_exits_0(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, nats_server.url)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kryten_actors.cli",
        "run",
        str(config),
        "--actor",
        "kryten_actors.demo.bot:DemoActor",
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stderr is not None
        await wait_for_line(proc.stderr, health_subject(NAME))
        report = await ask_health(nats_server.url, NAME, timeout=3)
        assert report["lifecycle"] == "running"
        assert report["states"] == {"running": 1}
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()


def test_run_with_a_bad_actor_or_config_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "nats://127.0.0.1:4222")
    assert main(["run", str(config), "--actor", "no.such.module:Bot"]) == 1
    assert "--actor: there is no module named 'no.such.module'" in capsys.readouterr().err

    assert main(["run", str(config)]) == 1
    assert "no actor class for channel cytu.be/lounge" in capsys.readouterr().err

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"channels": [{"domain": "cytu.be", "channel": "a b"}]}))
    assert main(["run", str(bad), "--actor", "kryten_actors.demo.bot:DemoActor"]) == 1
    assert "channels.0.channel:" in capsys.readouterr().err


def test_run_without_a_server_exits_1_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kryten_actors.transport.server import free_port  # noqa: PLC0415

    path = tmp_path / "bot.json"
    url = f"nats://127.0.0.1:{free_port()}"
    config = {
        "nats": {"servers": [url], "connect_timeout": 0.5},
        "channels": [{"domain": "cytu.be", "channel": "lounge"}],
        "actor": "kryten_actors.demo.bot:DemoActor",
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    assert main(["run", str(path)]) == 1
    assert url in capsys.readouterr().err
