"""Child processes of a benchmark: the publisher, the command responder, the OTLP sink.

Each is ``python -m bench.<module> ARG``; it prints ``ready`` when it can start, and
one JSON line with its result at the end. :class:`Child` wraps that protocol.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, Self

__all__ = ["ROOT", "Child", "publisher"]

ROOT = Path(__file__).resolve().parent.parent
_READY_TIMEOUT = 120.0
_LINE_LIMIT = 64 * 1024 * 1024  # result lines may carry every latency sample


class Child:
    """A bench child process; ``async with`` starts it and waits for ``ready``."""

    def __init__(self, module: str, argument: str) -> None:
        self._args = [sys.executable, "-m", module, argument]
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Self:
        self._process = await asyncio.create_subprocess_exec(
            *self._args,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=_LINE_LIMIT,
        )
        line = await asyncio.wait_for(self._stdout().readline(), _READY_TIMEOUT)
        if line.strip() != b"ready":
            await self.kill()
            msg = f"{self._args[2]} did not start (said {line!r}); see its stderr above"
            raise RuntimeError(msg)
        return self

    def _stdout(self) -> asyncio.StreamReader:
        assert self._process is not None
        assert self._process.stdout is not None
        return self._process.stdout

    def go(self) -> None:
        """Tell the child to start (publishers wait for this)."""
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(b"go\n")

    def stop(self) -> None:
        """Tell a serving child (responder, sink) to report and exit."""
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(b"stop\n")

    async def result(self, timeout: float = 120.0) -> dict[str, Any]:  # noqa: ASYNC109 -- bench bound
        """The child's JSON result line (it exits after printing it)."""
        line = await asyncio.wait_for(self._stdout().readline(), timeout)
        result: dict[str, Any] = json.loads(line)
        return result

    async def kill(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        try:
            await asyncio.wait_for(process.wait(), 10.0)
        except TimeoutError:
            await self.kill()


def publisher(
    url: str,
    channels: list[str],
    count: int,
    *,
    rate: float = 0.0,
    stamped: bool = False,
    done_file: str | None = None,
) -> Child:
    """The load generator (see :mod:`bench.publisher`)."""
    plan = {
        "url": url,
        "channels": channels,
        "count": count,
        "rate": rate,
        "stamped": stamped,
        "done_file": done_file,
    }
    return Child("bench.publisher", json.dumps(plan))
