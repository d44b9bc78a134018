"""The real stack for end-to-end tests: CyTube 3.86 + kryten-robot 1.12.6 + NATS (../shared/e2e).

The session fixture ``stack`` reuses a running stack named by ``KRYTEN_E2E_STATE`` (its
``$E2E_STATE`` folder), or starts one with ``up.sh`` in a temporary folder and stops it
with ``down.sh`` at the end (the first start on a machine builds CyTube, about 3 min).
Where ``../shared/e2e``, ``node`` or ``npm`` is missing, every e2e test is skipped with
that reason (``-ra`` prints it).

A :class:`Person` is somebody in the channel, driven through ``person.py`` with the
stack's own Python: what they see is what a human in the channel would see.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from kryten_actors import KrytenConfig, KrytenError
from kryten_actors.config import NatsConfig
from kryten_actors.transport.base import RetryPolicy
from kryten_actors.transport.nats import NatsTransport

REPO = Path(__file__).resolve().parents[2]
E2E_DIR = Path(os.environ.get("KRYTEN_E2E_DIR", REPO.parent / "shared" / "e2e"))
UP_TIMEOUT = 600  # a first start builds CyTube: ~3 min on a fresh 2-core machine


@dataclass(frozen=True)
class Stack:
    """A running stack: its ``run/env`` values and where its state lives."""

    state: Path
    env: dict[str, str]

    @property
    def nats_url(self) -> str:
        return self.env["NATS_URL"]

    @property
    def domain(self) -> str:
        return self.env["CYTUBE_DOMAIN"]

    @property
    def channel(self) -> str:
        return self.env["CYTUBE_CHANNEL"]

    @property
    def python(self) -> Path:
        return self.state / "venv" / "bin" / "python"

    def config(self, **settings: Any) -> KrytenConfig:
        """A kryten-robot profile config for the stack's channel; ``settings`` override."""
        data: dict[str, Any] = {
            "profile": "kryten-robot",
            "service_name": "e2e-bot",
            "nats": {"servers": [self.nats_url]},
            "channels": [{"domain": self.domain, "channel": self.channel}],
            "shutdown_timeout": 5.0,
        }
        for key, value in settings.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return KrytenConfig.from_dict(data)

    def restart_bridge(self) -> int:
        """SIGTERM kryten-robot (its loop restarts it after 1 s); returns the killed pid."""
        loop_pid = (self.state / "run" / "kryten.pid").read_text().strip()
        children = subprocess.run(
            ["pgrep", "-P", loop_pid], capture_output=True, text=True, check=False
        ).stdout.split()
        assert children, "kryten-robot is not running under its restart loop"
        pid = int(children[0])
        os.kill(pid, signal.SIGTERM)
        return pid


def _read_env(state: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in (state / "run" / "env").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            env[key.strip()] = value.strip().strip("'\"")
    return env


def _missing() -> str | None:
    if not (E2E_DIR / "up.sh").is_file():
        return f"the real stack's scripts are not at {E2E_DIR} (../shared/e2e)"
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed; the e2e stack builds CyTube with node/npm"
    return None


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The running stack (reused from ``KRYTEN_E2E_STATE``, else started and stopped here)."""
    reason = _missing()
    if reason is not None:
        pytest.skip(f"e2e: {reason}")
    reused = os.environ.get("KRYTEN_E2E_STATE")
    if reused:
        state = Path(reused)
        if not (state / "run" / "env").is_file():
            pytest.fail(f"KRYTEN_E2E_STATE={reused} has no run/env: is the stack up?")
        yield Stack(state, _read_env(state))
        return
    state = Path(tempfile.mkdtemp(prefix="kryten-e2e-"))
    env = {**os.environ, "E2E_STATE": str(state)}
    started = subprocess.run(
        ["bash", str(E2E_DIR / "up.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=UP_TIMEOUT,
        check=False,
    )
    try:
        if started.returncode != 0:
            pytest.fail(
                "e2e: up.sh failed (is another stack using its ports? then set "
                f"KRYTEN_E2E_STATE to its folder):\n{started.stdout[-3000:]}"
                f"\n{started.stderr[-3000:]}"
            )
        yield Stack(state, _read_env(state))
    finally:
        subprocess.run(
            ["bash", str(E2E_DIR / "down.sh"), "--purge"],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )


class Person:
    """Somebody in the channel (a guest unless a password is given); see ``person.py``."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self._process = process
        self.name = name
        self.seen: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self._process.stdout is not None
        while line := await self._process.stdout.readline():
            self.seen.append(json.loads(line))
            self._changed.set()
        self._changed.set()  # the process ended

    async def _send(self, command: dict[str, Any]) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(command).encode() + b"\n")
        await self._process.stdin.drain()

    async def say(self, text: str) -> None:
        await self._send({"say": text})

    def chat(self, *, live: bool = True) -> list[dict[str, Any]]:
        """Chat lines this person saw (only new ones when ``live``), oldest first."""
        lines = [r["chat"] for r in self.seen if "chat" in r]
        return [c for c in lines if not (live and c["history"])]

    def chat_texts(self) -> list[str]:
        """Texts of every live chat line this person saw."""
        return [c["msg"] for c in self.chat()]

    def said_by(self, user: str) -> list[str]:
        """Texts of the live chat lines ``user`` said, as CyTube sent them (HTML-escaped)."""
        return [c["msg"] for c in self.chat() if str(c["username"]).lower() == user.lower()]

    async def wait_for(self, condition: Callable[[], bool], within: float, what: str) -> None:
        try:
            async with asyncio.timeout(within):
                while not condition():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"{self.name} did not see {what} within {within} s") from None

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._send({"quit": True})
        try:
            async with asyncio.timeout(10):
                await self._process.wait()
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class People:
    """Everyone the tests put in the channel, kept for the whole session.

    CyTube accepts only 5 new connections per IP, then one per 10 s (the bridge's own
    reconnects share that budget), so people are joined once and reused by name.
    """

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._joined: dict[str, Person] = {}

    async def get(self, name: str, password: str | None = None) -> Person:
        """The person called ``name`` (joined now if not yet), with a fresh view."""
        known = self._joined.get(name)
        if known is None:
            known = self._joined[name] = await self._join(name, password)
        known.seen.clear()
        return known

    async def _join(self, name: str, password: str | None) -> Person:
        args = [str(REPO / "tests" / "e2e" / "person.py"), str(E2E_DIR), name]
        if password:
            args.append(password)
        for _ in range(7):  # CyTube's per-IP connection budget refills one per 10 s
            process = await asyncio.create_subprocess_exec(
                str(self._stack.python),
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                env={**os.environ, "E2E_STATE": str(self._stack.state)},
            )
            joined = Person(process, name)
            with contextlib.suppress(AssertionError):
                await joined.wait_for(
                    lambda j=joined: (
                        any("ready" in r for r in j.seen) or j._process.returncode is not None
                    ),
                    30,
                    "the channel",
                )
            if any("ready" in r for r in joined.seen):
                return joined
            await joined.close()
            await asyncio.sleep(10)  # the connection was refused; wait for CyTube's budget
        pytest.fail(f"e2e: {name} could not join the channel (CyTube's connection limit?)")

    async def close(self) -> None:
        for joined in self._joined.values():
            await joined.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def people(stack: Stack) -> AsyncIterator[People]:
    crowd = People(stack)
    yield crowd
    await crowd.close()


@pytest_asyncio.fixture(loop_scope="session")
async def watcher(people: People) -> Person:
    """A guest who watches the channel (the same one for every test)."""
    return await people.get("Watcher" + str(os.getpid() % 10000))


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def bridge_answers(stack: Stack) -> None:
    """Each test starts with the bridge in the channel (it restarts itself when idle)."""
    transport = NatsTransport(NatsConfig(servers=[stack.nats_url]), retry=RetryPolicy(attempts=1))
    await transport.connect()
    body = {
        "service": "robot",
        "command": "system.ping",
        "meta": {"source": "e2e", "domain": stack.domain, "channel": stack.channel},
    }
    try:
        async with asyncio.timeout(90):
            while True:
                try:
                    await transport.request(
                        "kryten.robot.command", json.dumps(body).encode(), timeout=2.0
                    )
                    return
                except KrytenError:
                    await asyncio.sleep(0.5)  # polling the bridge's own answer, bounded
    except TimeoutError:
        pytest.fail("e2e: kryten-robot did not answer system.ping within 90 s")
    finally:
        await transport.close()
