"""The documented programs run as written, against a real nats-server and the simulated bridge.

A fresh clone's path through the docs: the README's quick start (the demo) and its bot,
then getting-started's walk-through — a NATS server, the simulated bridge, `mybot.py` run
both ways, `kryten-actors say` and `kryten-actors health` — and its decorator-style
client. The snippets are taken from the documents; the only change made to them is the
server's address (`nats://127.0.0.1:4222`, or port 4222, becomes this test's own free
port), and `uv run` is left out because the tests already run inside the environment.
Every process gets a private temp folder, so no other demo on the machine is found.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from kryten_actors.transport.server import find_nats_server, free_port
from tests.cli.processes import port_accepts
from tests.polling import wait_until
from tests.testing.doc_snippets import DOC_URL, ROOT, find, steps

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def executable(word: str) -> str:
    """Where a documented command's program is in this environment."""
    if word == "python":
        return sys.executable
    if word == "nats-server":
        return str(find_nats_server())
    return str(BIN / word)


class Program:
    """A documented command running in the background; its stderr is kept as it comes."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name
        self.err = ""

    async def wait_for(self, text: str, within: float = 30.0) -> None:
        """Read stderr until ``text`` appears; fail with what was read if the program ends."""
        stream = self.process.stderr
        assert stream is not None
        async with asyncio.timeout(within):
            while text not in self.err:
                line = (await stream.readline()).decode(errors="replace")
                assert line, f"{self.name} ended before {text!r}:\n{self.err}"
                self.err += line

    async def stop(self) -> int:
        """SIGTERM, as Ctrl-C or systemd would; returns the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            rest = await self.process.communicate()
        self.err += rest[1].decode(errors="replace") if rest[1] else ""
        assert self.process.returncode is not None
        return self.process.returncode


class Session:
    """The terminals of a walk-through: a shared environment and the programs started."""

    def __init__(self, stack: AsyncExitStack, tmp_path: Path, url: str) -> None:
        self.stack = stack
        self.url = url
        self.env = {
            **os.environ,
            "NATS_URL": url,
            "TMPDIR": str(tmp_path),
            "PYTHONPATH": str(ROOT),  # the clone, as `uv run` in it provides
        }
        self.env.pop("KRYTEN_LOG_LEVEL", None)

    async def start(self, words: list[str], *, cwd: Path, env: dict[str, str]) -> Program:
        process = await asyncio.create_subprocess_exec(
            executable(words[0]),
            *words[1:],
            cwd=cwd,
            env={**self.env, **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        program = Program(process, " ".join(words))

        async def reap() -> None:
            if process.returncode is None:
                process.kill()
                await process.wait()

        self.stack.push_async_callback(reap)
        return program

    async def run(self, words: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
        """Run a command to its end; ``(exit code, stdout + stderr)``."""
        program = await self.start(words, cwd=cwd, env=env)
        async with asyncio.timeout(60):
            out, err = await program.process.communicate()
        assert program.process.returncode is not None
        return program.process.returncode, out.decode() + err.decode()


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    async with AsyncExitStack() as stack:
        yield Session(stack, tmp_path, f"nats://127.0.0.1:{free_port()}")


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[1]


async def start_nats(session: Session, words: list[str], tmp_path: Path) -> Program:
    """``nats-server -a 127.0.0.1 -p 4222`` as written, on the session's port."""
    port = port_of(session.url)
    server = await session.start(
        [port if w == port_of(DOC_URL) else w for w in words], cwd=tmp_path, env={}
    )
    await wait_until(lambda: port_accepts(int(port)), within=30, what="nats-server to listen")
    return server


async def say_and_hear(
    session: Session, words: list[str], cwd: Path, expected: str, *, new_user: bool = False
) -> str:
    """Run a documented ``kryten-actors say`` until the bot's answer contains ``expected``.

    The first line may come before the bot's subscription is confirmed at the server
    (the bot logs that it is ready first, but the crowd is busy too), or its answer after
    ``say`` stopped listening (a loaded machine): then say it again — as another user
    (``you1``, ``you2``…) with ``new_user``, for a bot that answers each user once.
    """
    for attempt in range(5):
        user = ["--user", f"you{attempt}" if attempt else "you"] if new_user else []
        code, output = await session.run([*words, *user], cwd=cwd, env={})
        assert code == 0, output
        if expected in output:
            return output
    raise AssertionError(f"no answer containing {expected!r}:\n{output}")


async def test_the_readme_quick_start_demo_runs_as_written(
    session: Session, tmp_path: Path
) -> None:
    [demo, check] = steps(find("README.md", "uv run kryten-actors demo", "bash"))
    assert demo[1] == ["kryten-actors", "demo", "--seconds", "20"]
    assert check[1] == ["scripts/check"]  # the suite this test belongs to
    code, output = await session.run(demo[1], cwd=tmp_path, env=demo[0])
    assert code == 0, output
    assert "Ran 20.0 s on the seed profile" in output
    assert "restarted" in output  # the crash channel showed a supervised restart


async def test_the_readme_bot_greets(session: Session, tmp_path: Path) -> None:
    snippet = find("README.md", "import asyncio\n\nfrom kryten_actors import Bot", "python")
    script = tmp_path / "greeter.py"
    script.write_text(snippet.text.replace(DOC_URL, session.url), encoding="utf-8")
    await start_nats(session, ["nats-server", "-a", "127.0.0.1", "-p", "4222"], tmp_path)
    bridge_env = {"CYTUBE_CHANNELS": "cytu.be/lounge"}
    await session.start(["python", "examples/simulated_bridge.py"], cwd=ROOT, env=bridge_env)
    bot = await session.start(["python", str(script)], cwd=tmp_path, env={})
    await bot.wait_for("answering health")  # Bot.run set up logging: the bot says it is up
    said = ["kryten-actors", "say", "--channel", "lounge", "!hi"]
    assert "KrytenBot: hi you" in await say_and_hear(
        session, said, tmp_path, "hi you", new_user=True
    )
    assert await bot.stop() == 0, bot.err


async def test_the_getting_started_walk_through(session: Session, tmp_path: Path) -> None:
    code = find("getting-started.md", "# mybot.py", "python")
    config = find("getting-started.md", "# bot.yaml", "yaml")
    (tmp_path / "mybot.py").write_text(code.text, encoding="utf-8")
    (tmp_path / "bot.yaml").write_text(config.text.replace(DOC_URL, session.url), "utf-8")
    server, bridge, own_script, with_run, say = steps(
        find("getting-started.md", "# 1. a NATS server", "bash")
    )
    [health] = steps(find("getting-started.md", "uv run kryten-actors health", "bash"))

    await start_nats(session, server[1], tmp_path)
    await session.start(bridge[1], cwd=ROOT, env=bridge[0])
    for env, words in (own_script, with_run):  # `python mybot.py`, then `kryten-actors run`
        bot = await session.start(words, cwd=tmp_path, env=env)
        await bot.wait_for("answering health")
        output = await say_and_hear(session, say[1], tmp_path, "you rolls")
        assert "you in lounge: !roll" in output
        code_, report = await session.run(health[1], cwd=tmp_path, env=health[0])
        assert code_ == 0, report
        data = json.loads(report)
        assert data["lifecycle"] == "running"
        assert data["healthy"] is True
        assert data["channel_count"] == 2  # lounge and movies
        assert await bot.stop() == 0, bot.err
        assert "serving cytu.be/lounge" in bot.err  # the on_start log line shows


async def test_the_decorator_style_client_echoes(session: Session, tmp_path: Path) -> None:
    snippet = find(
        "getting-started.md",
        "import asyncio\n\nfrom kryten_actors import ChatMessageEvent, KrytenClient",
        "python",
    )
    script = tmp_path / "echo.py"
    script.write_text(snippet.text.replace(DOC_URL, session.url), encoding="utf-8")
    await start_nats(session, ["nats-server", "-a", "127.0.0.1", "-p", "4222"], tmp_path)
    bridge_env = {"CYTUBE_CHANNELS": "cytu.be/lounge"}
    await session.start(["python", "examples/simulated_bridge.py"], cwd=ROOT, env=bridge_env)
    bot = await session.start(["python", str(script)], cwd=tmp_path, env={})
    await bot.wait_for("answering health")
    said = ["kryten-actors", "say", "--channel", "lounge", "!echo hello there"]
    output = await say_and_hear(session, said, tmp_path, "KrytenBot: hello there")
    assert "you in lounge: !echo hello there" in output
    assert await bot.stop() == 0, bot.err
