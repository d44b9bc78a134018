"""Fixtures of the demo tests: a memory bus, an event recorder, the captured traffic."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from kryten_actors.transport.base import InboundMessage, Transport
from kryten_actors.transport.memory import MemoryTransport


@dataclass
class Recorder:
    """Records every message on a subject; :meth:`wait_for` waits on a condition, not a clock."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_message(self, msg: InboundMessage) -> None:
        self.messages.append((msg.subject, bytes(msg.data)))
        self._changed.set()

    def bodies(self, subject_suffix: str = "") -> list[dict[str, Any]]:
        """Decoded JSON bodies of messages whose subject ends with ``subject_suffix``."""
        return [
            json.loads(data) for subject, data in self.messages if subject.endswith(subject_suffix)
        ]

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Return once ``condition()`` holds; fail the test after ``within`` seconds."""
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def memory() -> AsyncIterator[MemoryTransport]:
    """A connected in-memory bus, closed at teardown."""
    async with MemoryTransport() as transport:
        yield transport


async def record(transport: Transport, subject: str) -> Recorder:
    """A :class:`Recorder` subscribed to ``subject`` on ``transport``."""
    recorder = Recorder()
    await transport.subscribe(subject, recorder.on_message)
    return recorder
