"""``kryten-actors say``: a newcomer talks to a running demo as a chat user (issue 14, 6)."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kryten_actors.cli.main import main
from kryten_actors.demo.discovery import read_demo_info
from kryten_actors.demo.runner import run_demo
from kryten_actors.transport.server import NatsServer


@pytest.fixture
def own_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temp folder, so the demo's discovery file is this test's alone."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return tmp_path


@pytest.fixture
async def demo(own_tmp: Path) -> AsyncIterator[str]:
    """A running demo (two channels, lounge and movies); yields its NATS URL."""
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_demo(2, None, "kryten-robot", stop=stop, on_ready=ready.set_result, crash_every=3600)
    )
    try:
        async with asyncio.timeout(30):
            url = await asyncio.shield(ready)
        yield url
    finally:
        stop.set()
        await task
    assert read_demo_info() is None  # the discovery file went with the demo


async def say(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kryten_actors.cli",
        "say",
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "TMPDIR": tempfile.gettempdir()},
    )
    async with asyncio.timeout(30):
        out, err = await proc.communicate(stdin)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_say_finds_the_demo_and_prints_the_bots_answer(demo: str) -> None:
    info = read_demo_info()
    assert info is not None
    assert info.url == demo
    assert info.channels == ("lounge", "movies")
    code, out, err = await say("--channel", "lounge", "--wait", "3", "!roll")
    assert code == 0, err
    assert out.startswith("you in lounge: !roll\n")
    assert "KrytenBot: you rolls " in out


@pytest.mark.slow
async def test_lines_from_stdin_are_said_one_by_one(demo: str) -> None:
    code, out, err = await say("--user", "ann", "--wait", "3", stdin=b"!help\n\n!roll\n")
    assert code == 0, err
    assert "ann in lounge: !help\n" in out  # the demo's first channel by default
    assert "ann in lounge: !roll\n" in out
    assert "KrytenBot: commands: !roll, !stats, !uptime — !help <command> tells more" in out
    assert "KrytenBot: ann rolls " in out


@pytest.mark.slow
async def test_an_unknown_channel_is_refused_by_name(demo: str) -> None:
    code, _, err = await say("--channel", "nope", "hello")
    assert code == 1
    assert "the bridge refused: no channel 'nope' here; the bridge has lounge, movies" in err


@pytest.mark.slow
async def test_without_a_bridge_it_says_what_to_start(
    own_tmp: Path, nats_server: NatsServer
) -> None:
    code, _, err = await say("--nats", nats_server.url, "--channel", "lounge", "hi")
    assert code == 1
    assert "no simulated bridge answered on kryten.demo.say.lounge" in err
    assert "start `kryten-actors demo`" in err


def test_without_a_demo_the_channel_must_be_named(
    own_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["say", "hi"]) == 1
    assert "no running demo found, so name the channel: --channel NAME" in capsys.readouterr().err


def test_a_bad_user_name_is_refused(own_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", "--nats", "nats://127.0.0.1:1", "--channel", "x", "--user", "a b", "hi"])
    assert "user 'a b' is not a CyTube user name" in capsys.readouterr().err
