"""CyTube's own flood control, as the server runs it: the oracle the simulated bridges use.

This is CyTube 3.86's ``util.newRateLimiter`` (``src/utilities.js``) line for line, on
a caller-given clock (seconds). The bot's governor mirrors it from the outside; the
test kit's fake bridge and the demo's simulated bridge run it as CyTube does, so a bot
that floods sees what it would see on a real server: lines beyond the limiter are
dropped and answered with ``cooldown`` (chat) or ``queueFail`` (playlist adds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["CHAT_FLOOD", "QUEUE_FLOOD", "QUEUE_FLOOD_MODERATOR", "FloodLimit", "FloodLimiter"]


@dataclass(frozen=True, slots=True)
class FloodLimit:
    """One of CyTube's limits: ``burst`` at once, then ``sustained`` a second; the burst
    comes back after ``cooldown`` quiet seconds (default ``burst / sustained``)."""

    burst: int
    sustained: float
    cooldown: float | None = None

    @property
    def quiet(self) -> float:
        """Seconds without an accepted message after which the burst is back."""
        return self.burst / self.sustained if self.cooldown is None else self.cooldown


CHAT_FLOOD: Final = FloodLimit(burst=20, sustained=10)
"""``MIN_ANTIFLOOD`` of ``chat.js``: every chat line and PM of every user."""
QUEUE_FLOOD: Final = FloodLimit(burst=3, sustained=1)
"""Playlist adds below rank 2 (``playlist.js``)."""
QUEUE_FLOOD_MODERATOR: Final = FloodLimit(burst=10, sustained=2)
"""Playlist adds from rank 2."""


class FloodLimiter:
    """One connection's limiter: :meth:`throttle` says whether a message is dropped."""

    __slots__ = ("count", "last")

    def __init__(self) -> None:
        self.count = 0
        self.last = float("-inf")

    def throttle(self, now: float, limit: FloodLimit) -> bool:
        """True when CyTube drops a message arriving at ``now`` (and records it if not)."""
        if self.last < now - limit.quiet:
            self.count, self.last = 1, now
            return False
        if self.count < limit.burst:
            self.count += 1
            self.last = now
            return False
        if now - self.last < 1.0 / limit.sustained:
            return True
        self.last = now
        return False
