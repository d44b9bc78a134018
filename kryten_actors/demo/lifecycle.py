"""The simulated bridge process as it announces itself on ``kryten.lifecycle.robot.*``.

kryten-robot (reference §11) says ``startup`` and ``connected`` (to CyTube, naming the
channel) when it starts, and ``disconnected`` + ``shutdown`` when it stops; every message
carries the process's identity (its host and start time), which the bot uses to tell a
restarted process from the old one. The ``seed`` profile has no lifecycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from kryten_actors.protocol.lifecycle import robot_lifecycle
from kryten_actors.transport.base import Transport

__all__ = ["BridgeProcess"]


class BridgeProcess:
    """One simulated bridge process; :meth:`renew` starts another (a restart)."""

    def __init__(self, transport: Transport, *, announces: bool) -> None:
        self._transport = transport
        self._announces = announces
        self.started = datetime.now(UTC)

    def renew(self) -> None:
        """A new process: a new identity in every later message."""
        self.started = datetime.now(UTC)

    async def up(self, channels: Iterable[tuple[str, str]]) -> None:
        """``startup``, then ``connected`` + ``startup`` naming each ``(domain, channel)``."""
        if not self._announces:
            return
        await self._say("startup")
        for domain, channel in channels:
            await self._say("connected", target="CyTube", domain=domain, channel=channel)
            await self._say("startup", domain=domain, channel=channel)

    async def down(self) -> None:
        """``disconnected`` (from CyTube) and ``shutdown``."""
        if not self._announces:
            return
        await self._say("disconnected", target="CyTube", reason="Graceful shutdown")
        await self._say("shutdown", reason="Normal shutdown")

    async def _say(self, kind: str, **extra: Any) -> None:
        subject, body = robot_lifecycle(
            kind, started=self.started, hostname="simulated-bridge", **extra
        )
        await self._transport.publish(subject, body)
