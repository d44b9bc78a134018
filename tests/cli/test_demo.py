"""``kryten-actors demo`` end to end, as a user runs it, plus the missing-binary message."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from kryten_actors.cli.main import main
from kryten_actors.cli.table import COLUMNS
from kryten_actors.transport.server import NatsServer
from tests.cli.processes import port_accepts, session_members
from tests.polling import wait_until

READY = re.compile(r"nats-server on nats://127\.0\.0\.1:(\d+);")


def final_table(out: str) -> dict[str, dict[str, str]]:
    """Rows of the table printed after ``final``, keyed by channel name (``*`` kept)."""
    lines = out[out.rindex("\nfinal\n") :].splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == list(COLUMNS))
    rows = {}
    for line in lines[header + 1 :]:
        if not line.strip():
            break
        cells = line.split()
        rows[cells[0]] = dict(zip(COLUMNS, cells, strict=True))
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["seed", "kryten-robot"])
def test_demo_runs_restarts_the_crash_channel_and_leaves_nothing_behind(profile: str) -> None:
    command = [sys.executable, "-m", "kryten_actors.cli", "demo", "--seconds", "6"]
    command += ["--channels", "3", "--profile", profile]
    # its own session: every process the demo starts can be found afterwards
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    port = int(READY.search(out).group(1))  # type: ignore[union-attr]

    rows = final_table(out)
    assert set(rows) == {"lounge", "movies", "music*"}
    assert int(rows["music*"]["restarts"]) > 0
    for name in ("lounge", "movies"):
        assert int(rows[name]["events"]) > 50
        # the table is read while events still flow: the actor may be a few behind
        assert int(rows[name]["handled"]) >= int(rows[name]["events"]) - 20
        assert rows[name]["restarts"] == "0"
        assert rows[name]["state"] == "running"
    assert sum(int(row["commands"]) for row in rows.values()) > 0
    assert f"profile {profile}" in out
    assert "DemoCrash" in out  # the summary names the crash
    assert out.count("channel  events") >= 4  # a plain table about every second

    assert session_members(proc.pid) == []
    assert not port_accepts(port)


@pytest.mark.slow
async def test_demo_stops_on_ctrl_c_with_exit_0() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kryten_actors.cli",
        "demo",
        "--channels",
        "2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            seen = ""
            while not READY.search(seen):
                line = (await proc.stdout.readline()).decode()
                assert line, f"demo ended before it was ready:\n{seen}"
                seen += line
            proc.send_signal(signal.SIGINT)
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert "Ran " in out.decode()
    assert session_members(proc.pid) == []


def test_demo_without_nats_server_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    real_get_path = sysconfig.get_path
    monkeypatch.setattr(
        sysconfig,
        "get_path",
        lambda name, *a, **k: str(empty) if name == "scripts" else real_get_path(name, *a, **k),
    )
    monkeypatch.setenv("PATH", str(empty))
    assert main(["demo", "--seconds", "1"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'kryten-actors[demo]'" in err


def test_demo_rejects_a_bad_channel_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--channels", "0", "--seconds", "1"])
    assert exit_.value.code == 2
    assert "--channels: must be a whole number from 1 to 50, got 0" in capsys.readouterr().err


@pytest.mark.slow
async def test_a_sigkilled_demo_leaves_no_server_and_no_folder_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kryten_actors.cli",
        "demo",
        "--channels",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(30):
            seen = ""
            while not READY.search(seen):
                line = (await proc.stdout.readline()).decode()
                assert line, f"demo ended before it was ready:\n{seen}"
                seen += line
        port = int(READY.search(seen).group(1))  # type: ignore[union-attr]
        assert len(session_members(proc.pid)) == 2  # the demo and its nats-server
        proc.kill()  # no cleanup can run: only the parent-death signal is left
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    await wait_until(lambda: session_members(proc.pid) == [], what="the orphan to die")
    assert not port_accepts(port)
    stale = work_folders(tmp_path)
    assert len(stale) == 1  # SIGKILL left the work folder ...
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    async with NatsServer() as server:  # ... and the next start removes it
        assert server._workdir is not None
        assert work_folders(tmp_path) == [server._workdir.name]
    assert work_folders(tmp_path) == []


def work_folders(folder: Path) -> list[str]:
    """Names of the ``kryten-nats-*`` work folders in ``folder``."""
    return sorted(p.name for p in folder.glob("kryten-nats-*"))
