"""Running the dashboard: a NATS connection, the fleet poller and the web server, together.

::

    async with Dashboard(NatsConfig(servers=["nats://127.0.0.1:4222"])) as dashboard:
        print("open", dashboard.url)
        await dashboard.wait_closed()

Leaving the block stops the web server (open event streams end), then the poller, then
closes the NATS connection: nothing it started outlives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Self

from aiohttp import web

from kryten_actors.config.connection import NatsConfig
from kryten_actors.dashboard.fleet import Fleet
from kryten_actors.dashboard.web import allow_port, build_app
from kryten_actors.errors import KrytenError
from kryten_actors.transport.base import RetryPolicy
from kryten_actors.transport.nats import NatsTransport

__all__ = ["Dashboard"]

log = logging.getLogger("kryten_actors.dashboard")


class Dashboard:
    """The dashboard web server on ``host:port`` (``port`` 0: any free port), polling NATS.

    ``allow_actions`` adds restart/stop/join/leave buttons that send control requests
    with this connection's credentials. ``interval`` is the poll period in seconds.
    """

    def __init__(
        self,
        nats: NatsConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 8787,
        allow_actions: bool = False,
        interval: float = 0.5,
    ) -> None:
        self.host = host
        self.port = port
        self.allow_actions = allow_actions
        self.transport = NatsTransport(nats, retry=RetryPolicy(attempts=1))
        self.fleet = Fleet(self.transport, interval=interval)
        self._runner: web.AppRunner | None = None
        self._poller: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()

    @property
    def url(self) -> str:
        """Where to point a browser."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        """Connect to NATS, start polling and serving; raises ``KrytenError`` on failure."""
        await self.transport.connect()
        try:
            self._poller = asyncio.create_task(self.fleet.run(), name="kryten-dashboard-poller")
            app = build_app(self.fleet, host=self.host, allow_actions=self.allow_actions)
            self._runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            try:
                await site.start()
            except OSError as exc:
                msg = f"cannot serve the dashboard on {self.host}:{self.port}: {exc.strerror}"
                raise KrytenError(msg) from exc
            self.port = _bound_port(self._runner, self.port)
            allow_port(app, self.host, self.port)
        except BaseException:
            await self.stop()
            raise
        log.info("dashboard serving %s", self.url)

    async def stop(self) -> None:
        """Stop serving (ending open streams), stop polling, disconnect. Idempotent."""
        try:
            if self._runner is not None:
                runner, self._runner = self._runner, None
                await runner.cleanup()
            if self._poller is not None:
                poller, self._poller = self._poller, None
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
        finally:
            await self.transport.close()
            self._stopped.set()

    async def wait_closed(self) -> None:
        """Return when :meth:`stop` ran, or raise what made the poller fail."""
        poller = self._poller
        if poller is None:
            await self._stopped.wait()
            return
        stopped = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait({poller, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if poller.done() and not poller.cancelled() and poller.exception() is not None:
            raise poller.exception()  # type: ignore[misc]

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


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    """The port the server listens on (the OS picked it when ``asked`` is 0)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked
