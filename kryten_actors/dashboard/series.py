"""Throughput and restarts over the last minutes, for a bot's sparklines."""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any, Final, NamedTuple

__all__ = ["Sample", "Series"]

_STEP: Final = 1.0  # seconds between kept samples


class Sample(NamedTuple):
    """Cumulative counters of a bot at one moment (monotonic seconds)."""

    at: float
    events: int
    commands: int
    restarts: int


class Series:
    """The last ``span`` seconds of a bot's counters, one sample a second at most.

    Rates come from differences between neighbours; a counter that went down (a member
    restarted, or left) counts as zero for that step rather than a negative rate.
    """

    def __init__(self, span: float = 300.0) -> None:
        self._samples: deque[Sample] = deque(maxlen=int(span / _STEP) + 1)

    def add(self, sample: Sample) -> None:
        """Keep ``sample`` unless the last kept one is less than a second old."""
        if self._samples and sample.at - self._samples[-1].at < _STEP:
            return
        self._samples.append(sample)

    def rates(self) -> dict[str, Any]:
        """``{"t": seconds ago, "events": /s, "commands": /s, "restarts": per step}``."""
        samples = list(self._samples)
        now = samples[-1].at if samples else 0.0
        out: dict[str, list[float]] = {"t": [], "events": [], "commands": [], "restarts": []}
        for before, after in itertools.pairwise(samples):
            elapsed = after.at - before.at
            out["t"].append(round(after.at - now, 1))
            out["events"].append(round(max(0, after.events - before.events) / elapsed, 2))
            out["commands"].append(round(max(0, after.commands - before.commands) / elapsed, 2))
            out["restarts"].append(max(0, after.restarts - before.restarts))
        return out

    def latest_rates(self) -> tuple[float, float]:
        """Events and commands per second over the last step (0 before two samples)."""
        if len(self._samples) < 2:
            return 0.0, 0.0
        before, after = self._samples[-2], self._samples[-1]
        elapsed = after.at - before.at
        return (
            max(0, after.events - before.events) / elapsed,
            max(0, after.commands - before.commands) / elapsed,
        )
