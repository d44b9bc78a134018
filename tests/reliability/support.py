"""Test doubles shared by the reliability cases: bounded waits, recorders, load processes."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from kryten_actors.config.connection import NatsConfig
from kryten_actors.protocol.events import RawEvent
from kryten_actors.transport.base import InboundMessage
from kryten_actors.transport.nats import NatsTransport

REPO = Path(__file__).resolve().parents[2]


def bot_config(url: str, channels: list[tuple[str, str]], **settings: Any) -> dict[str, Any]:
    """A Bot config for ``channels`` on the server at ``url``; ``settings`` override keys."""
    config: dict[str, Any] = {
        "nats": {"servers": [url], "reconnect_wait": 0.05, "connect_timeout": 5.0},
        "channels": [{"domain": d, "channel": c} for d, c in channels],
        "shutdown_timeout": 5.0,
        "retry_attempts": 1,
        # these suites load the runtime; CyTube's chat pacing would only slow them down
        "chat": {"pace": False},
    }
    config.update(settings)
    return config


def seq_of(event: RawEvent) -> int:
    """The sequence number a load envelope carries in its chat ``msg``."""
    payload = event.payload
    text = payload.get("msg") if isinstance(payload, dict) else getattr(payload, "msg", None)
    assert isinstance(text, str), f"not a load envelope: {event!r}"
    return int(text)


class Recorder:
    """Sequence numbers handled per channel, with a bounded wait for a total."""

    def __init__(self) -> None:
        self.seen: dict[str, list[int]] = {}
        self.total = 0
        self._changed = asyncio.Event()

    def record(self, channel: str, seq: int) -> None:
        self.seen.setdefault(channel, []).append(seq)
        self.total += 1
        self._changed.set()

    def count(self, channel: str) -> int:
        return len(self.seen.get(channel, ()))

    async def wait_for(self, condition: Callable[[], bool], *, within: float, what: str) -> None:
        try:
            async with asyncio.timeout(within):
                while not condition():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"timed out after {within} s waiting for {what}") from None


class SubjectCounter:
    """An independent connection counting (and keeping) what the server delivers."""

    def __init__(self, url: str, subject: str, *, reconnect_wait: float = 0.05) -> None:
        self.transport = NatsTransport(NatsConfig(servers=[url], reconnect_wait=reconnect_wait))
        self.subject = subject
        self.messages: list[tuple[str, bytes]] = []
        self._changed = asyncio.Event()

    async def _on_message(self, message: InboundMessage) -> None:
        self.messages.append((message.subject, message.data))
        self._changed.set()

    async def __aenter__(self) -> Self:
        await self.transport.connect()
        await self.transport.subscribe(self.subject, self._on_message)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.transport.close()

    async def wait_for(self, count: int, *, within: float) -> None:
        try:
            async with asyncio.timeout(within):
                while len(self.messages) < count:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"{self.subject}: {len(self.messages)} of {count} messages within {within} s"
            ) from None


class ChildProcess:
    """A Python child (``python -m module ARG``) whose stdout lines the test reads."""

    def __init__(self, module: str, argument: str, *, stdin: bool = False) -> None:
        self.module = module
        self.argument = argument
        self._stdin = stdin
        self.process: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        # a file, not a pipe: a chatty child must never block on a full pipe
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __aexit__

    async def __aenter__(self) -> Self:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            self.argument,
            cwd=REPO,
            stdin=asyncio.subprocess.PIPE if self._stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        self._stderr.close()

    def _require(self) -> asyncio.subprocess.Process:
        assert self.process is not None, "use `async with` to start the child"
        return self.process

    async def read_line(self, *, within: float) -> str:
        """The next stdout line; fails with the child's stderr if it exits first."""
        process = self._require()
        assert process.stdout is not None
        async with asyncio.timeout(within):
            raw = await process.stdout.readline()
        if not raw:
            raise AssertionError(f"{self.module} exited early:\n{self.stderr()}")
        line = raw.decode().strip()
        self.lines.append(line)
        return line

    async def expect(self, expected: str, *, within: float) -> None:
        line = await self.read_line(within=within)
        assert line == expected, f"{self.module}: expected {expected!r}, got {line!r}"

    async def read_json(self, *, within: float) -> dict[str, Any]:
        line = await self.read_line(within=within)
        result: dict[str, Any] = json.loads(line)
        return result

    def terminate(self) -> None:
        self._require().send_signal(signal.SIGTERM)

    def send_signal(self, sig: signal.Signals) -> None:
        self._require().send_signal(sig)

    async def write_line(self, line: str) -> None:
        """Write one line to the child's stdin (``stdin=True``)."""
        stdin = self._require().stdin
        assert stdin is not None, "start the child with stdin=True"
        stdin.write(line.encode() + b"\n")
        await stdin.drain()

    async def wait(self, *, within: float) -> int:
        async with asyncio.timeout(within):
            return await self._require().wait()

    def stderr(self) -> str:
        """What the child wrote to stderr so far (its last 4 KiB)."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4096:]


def load_plan(url: str, channels: list[tuple[str, str]], **plan: Any) -> str:
    """The JSON argument of ``tests.reliability.load``."""
    return json.dumps({"url": url, "channels": channels, **plan})
