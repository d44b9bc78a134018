"""Test doubles that record what a transport delivers and let tests wait for it."""

from __future__ import annotations

import asyncio

from kryten_actors.transport.base import ConnectionEvent, ConnectionState, InboundMessage


class Inbox:
    """A message handler that records messages; ``wait_for(n)`` waits (bounded) for n."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self._changed = asyncio.Event()

    async def __call__(self, message: InboundMessage) -> None:
        self.messages.append(message)
        self._changed.set()

    @property
    def data(self) -> list[bytes]:
        return [m.data for m in self.messages]

    async def wait_for(self, count: int, within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()


class Events:
    """A connection listener recording events; ``wait_for(state)`` waits (bounded)."""

    def __init__(self) -> None:
        self.events: list[ConnectionEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: ConnectionEvent) -> None:
        self.events.append(event)
        self._changed.set()

    @property
    def states(self) -> list[ConnectionState]:
        return [e.state for e in self.events]

    async def wait_for(self, state: ConnectionState, within: float = 5.0) -> ConnectionEvent:
        async with asyncio.timeout(within):
            while True:
                for event in self.events:
                    if event.state is state:
                        return event
                self._changed.clear()
                await self._changed.wait()
