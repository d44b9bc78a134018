"""Whether the bridge serving a channel is up: kryten-robot's lifecycle, as the bot follows it.

kryten-robot serves one channel per process and announces itself on
``kryten.lifecycle.robot.{startup,connected,disconnected,shutdown}`` (reference §11).
Only ``startup`` and ``connected`` (to CyTube) name the channel; ``shutdown`` and
``disconnected`` name no channel, so the bot tells bridge processes apart by their
start time (``timestamp - uptime_seconds``, the same in every message of one process)
and the host. At start it asks each channel's bridge (``system.ping``) to learn which
process serves it.

A channel's bridge is ``up`` once its process announced it, answered, or an event of
the channel arrived; ``down`` after its process said it is shutting down or a request
found no responder at all; ``unknown`` before anything is known.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

__all__ = ["BridgeIdentity", "BridgeLink", "BridgeState", "LifecycleNotice", "parse_lifecycle"]

log = logging.getLogger("kryten_actors.bot.bridge")

#: Two lifecycle messages whose start times differ by less than this come from one process.
_SAME_PROCESS_SECONDS: Final = 1.0


class BridgeState:
    """The three states of a channel's bridge."""

    UP: Final = "up"
    DOWN: Final = "down"
    UNKNOWN: Final = "unknown"


@dataclass(frozen=True, slots=True)
class BridgeIdentity:
    """One bridge process: its host (may be empty) and its start time (epoch seconds)."""

    hostname: str
    started: float

    def same_process(self, other: BridgeIdentity) -> bool:
        """True when both describe the same process (hosts agree where both are known)."""
        if self.hostname and other.hostname and self.hostname != other.hostname:
            return False
        return abs(self.started - other.started) < _SAME_PROCESS_SECONDS


@dataclass(frozen=True, slots=True)
class LifecycleNotice:
    """A decoded ``kryten.lifecycle.robot.*`` message."""

    kind: str
    identity: BridgeIdentity | None
    domain: str | None
    channel: str | None
    target: str | None


def identity_of(body: dict[str, Any]) -> BridgeIdentity | None:
    """The process identity in a lifecycle body or a ``system.ping`` reply's data."""
    stamp, uptime = body.get("timestamp"), body.get("uptime_seconds")
    if not isinstance(stamp, str) or not isinstance(uptime, int | float):
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    host = body.get("hostname")
    return BridgeIdentity(host if isinstance(host, str) else "", moment.timestamp() - uptime)


def parse_lifecycle(subject: str, data: bytes) -> LifecycleNotice | None:
    """Decode a bridge lifecycle message; None for anything that is not one."""
    kind = subject.rsplit(".", 1)[-1]
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(body, dict):
        return None
    domain, channel, target = body.get("domain"), body.get("channel"), body.get("target")
    return LifecycleNotice(
        kind=kind,
        identity=identity_of(body),
        domain=domain if isinstance(domain, str) and domain else None,
        channel=channel if isinstance(channel, str) and channel else None,
        target=target if isinstance(target, str) else None,
    )


class BridgeLink:
    """The bridge of one channel as the bot knows it: state, process, and who waits for it."""

    __slots__ = ("_on_down", "_up", "identity", "state", "where")

    def __init__(self, where: str, on_down: Callable[[], None] | None = None) -> None:
        self.where = where
        self._on_down = on_down  # told each time the link is marked down
        self.state: str = BridgeState.UNKNOWN
        self.identity: BridgeIdentity | None = None
        self._up: asyncio.Event | None = None

    def mark_up(self, identity: BridgeIdentity | None = None) -> None:
        """The bridge answered, announced itself or delivered an event."""
        if identity is not None:
            self.identity = identity
        if self.state != BridgeState.UP:
            if self.state == BridgeState.DOWN:
                log.info("bridge of %s is back", self.where)
            self.state = BridgeState.UP
        if self._up is not None:
            self._up.set()
            self._up = None

    def mark_down(self, why: str) -> None:
        """The bridge said it stops, or nobody answered a request."""
        if self.state != BridgeState.DOWN:
            log.warning("bridge of %s is down (%s)", self.where, why)
            self.state = BridgeState.DOWN
        if self._on_down is not None:
            self._on_down()

    @property
    def is_down(self) -> bool:
        """True while the bridge is known to be down."""
        return self.state == BridgeState.DOWN

    async def wait_up(self, timeout: float) -> bool:  # noqa: ASYNC109 - bounded by config
        """Wait until the bridge is up again; False if not within ``timeout`` seconds."""
        if self.state != BridgeState.DOWN:
            return True
        if timeout <= 0:
            return False
        if self._up is None:
            self._up = asyncio.Event()
        event = self._up
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return True
