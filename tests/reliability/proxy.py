"""A loopback TCP proxy the test can close to new connections: it orders reconnects.

After a nats-server restart every client races to reconnect. Putting the bot behind
this proxy lets a test hold the bot back until its independent subscriber is back and
subscribed, so "everything the bot buffered arrived" is checked without a race.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self

_CHUNK = 65536


class TcpProxy:
    """Forwards ``127.0.0.1:port`` to ``upstream``; :meth:`pause` refuses new clients.

    While paused the port does not listen, so a client sees "connection refused",
    exactly as with a server that is down. When either side of a forwarded
    connection closes, both do; connections already open are not affected by pause.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        await self.resume()
        return self

    async def pause(self) -> None:
        """Stop listening (new connections are refused)."""
        if self._server is not None:
            # close() frees the port at once; wait_closed() would also wait (3.12+) for
            # the connections already forwarded, which pause leaves alone
            self._server.close()
            self._server = None

    async def resume(self) -> None:
        """Listen again, on the same port as before."""
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for pipe in list(self._pipes):
            pipe.cancel()
        # each connection's handler closes both of its sockets once its pipes end
        if self._connections:
            await asyncio.wait(self._connections, timeout=5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._forward(reader, writer)
        finally:
            self._connections.discard(task)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        with contextlib.suppress(OSError):
            upstream = await asyncio.open_connection(*self.upstream)
        if upstream is None:
            await _close(writer)
            return
        up_reader, up_writer = upstream
        pipes = [
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.wait(pipes)
            self._pipes.difference_update(pipes)
            await _close(up_writer)
            await _close(writer)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await source.read(_CHUNK):
            sink.write(chunk)
            await sink.drain()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
