"""A channel's recent event latencies, cheap enough to record on every event.

Latencies fall into power-of-two buckets (1 µs … 2 min); a quantile is the upper
bound of the bucket it falls in, so it is exact to within a factor of two — enough to
tell 2 ms from 200 ms on a dashboard at a few hundred bytes per busy channel. Two
windows rotate every ``window`` seconds, so a quantile covers the last one to two
windows, not the channel's whole life.
"""

from __future__ import annotations

import math
from array import array
from typing import Final

__all__ = ["LatencyWindow"]

_BUCKETS: Final = 28
# frexp(x) = (m, e) with x = m * 2**e: bucket e + _OFFSET holds [2**(e-1), 2**e)
_OFFSET: Final = 20  # bucket 0 holds everything under 2**-20 s (~1 µs)
_SCALE: Final = float(2**_OFFSET)
_EMPTY: Final = array("I", bytes(4 * _BUCKETS))


class LatencyWindow:
    """Recent latencies of one channel (seconds); nothing is allocated before the first."""

    __slots__ = ("_current", "_previous", "_rotate_at", "window")

    def __init__(self, window: float = 60.0) -> None:
        self.window = window
        self._current: array[int] | None = None
        self._previous: array[int] | None = None
        self._rotate_at = 0.0

    def record(self, seconds: float, now: float) -> None:
        """Count one latency observed at ``now`` (the clock the caller uses for both)."""
        if now >= self._rotate_at:
            self._rotate(now)
        # bucket e + _OFFSET holds [2**(e-1), 2**e): the bit length of seconds * 2**20
        # (what math.frexp gives, without the call); under ~1 µs (or negative) is bucket 0
        index = int(seconds * _SCALE).bit_length() if seconds > 0 else 0
        self._current[index if index < _BUCKETS else _BUCKETS - 1] += 1  # type: ignore[index]

    def _rotate(self, now: float) -> None:
        # a window with no event in between leaves nothing worth keeping
        stale = now >= self._rotate_at + self.window
        self._previous = None if stale else self._current
        self._current = array("I", _EMPTY)
        self._rotate_at = now + self.window

    def _windows(self, now: float | None) -> tuple[array[int], array[int]]:
        current, previous = self._current or _EMPTY, self._previous or _EMPTY
        if now is None or now < self._rotate_at:
            return current, previous
        # no event since the current window ended: it has become the previous one
        return (_EMPTY, _EMPTY) if now >= self._rotate_at + self.window else (_EMPTY, current)

    def count(self, now: float | None = None) -> int:
        """How many latencies the last one to two windows hold (as of ``now``)."""
        current, previous = self._windows(now)
        return sum(current) + sum(previous)

    def quantile(self, q: float, now: float | None = None) -> float | None:
        """The ``q`` quantile (0 < q ≤ 1) in seconds, rounded up to a power of two.

        None when no latency was recorded in the last one to two windows as of ``now``
        (the same clock as :meth:`record`; omitted, whatever is held counts).
        """
        if self._current is None:
            return None  # nothing ever recorded: the common case of an idle channel
        current, previous = self._windows(now)
        counts = [a + b for a, b in zip(current, previous, strict=True)]
        total = sum(counts)
        if not total:
            return None
        rank = math.ceil(q * total)
        seen = 0
        for index, count in enumerate(counts):
            seen += count
            if seen >= rank:
                return math.ldexp(1.0, index - _OFFSET)
        return math.ldexp(1.0, _BUCKETS - 1 - _OFFSET)  # pragma: no cover - rank <= total
