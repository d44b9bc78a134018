"""Spreading the bridge probes of the start-up over time, so they never end together.

A start-up probe (:class:`~kryten_actors.bot.lifecycle.BridgeMonitor`) that no bridge
answers lasts exactly ``bridge.probe_timeout``. Started together — 32 at once, as they
were — they also ended together, every ``probe_timeout``, and each one's ending (its
replies' clean-up, its KV reads, the next probe's requests) is ~0.4 ms of event-loop
work: a ~14 ms burst every 2 s, for a minute at 1,000 channels, that delayed every event
arriving meanwhile (the 1,000-channel event → handler p99 missed 1 ms by that alone).

:class:`ProbeSpread` is the gate between two starts: the next probe starts as soon as
the previous one finished or ``probe_timeout / at_once`` after it started, whichever
comes first. Probes that hang then start — and end — evenly spread, at most ``at_once``
of them waiting at a time. Once a probe was answered (a bridge is there), the gate
stays open and up to ``at_once`` probes run together, as fast as the bridge answers,
until a probe goes unanswered again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kryten_actors.runtime import Cancellable, Clock

__all__ = ["ProbeSpread"]


class ProbeSpread:
    """The gate between probe starts (see the module docstring); all on ``clock`` time."""

    def __init__(self, clock: Clock, timeout: float, at_once: int) -> None:
        self._clock = clock
        #: Clock seconds after which the next probe starts even if the last one still runs.
        self.spread = timeout / at_once
        #: True while the last probe to finish was answered: no spreading needed.
        self.answering = False
        self._gate: asyncio.Future[None] | None = None
        self._timer: Cancellable | None = None

    def started(self) -> Callable[[bool], None]:
        """A probe starts now; returns what it must call once it finished (any way),
        saying whether a bridge answered it."""
        self.close()
        gate = self._gate = asyncio.get_running_loop().create_future()

        def open_gate() -> None:
            if not gate.done():
                gate.set_result(None)

        def finished(answered: bool) -> None:
            self.answering = answered
            open_gate()

        self._timer = self._clock.call_later(self.spread, open_gate)
        return finished

    async def wait(self) -> None:
        """Return once the last started probe finished or ``spread`` passed since its
        start; at once while probes are answered."""
        gate = self._gate
        if gate is not None and not self.answering:
            await asyncio.shield(gate)  # a cancelled runner leaves the gate to close()

    def close(self) -> None:
        """Forget the last probe: its timer is cancelled (the next ``wait`` returns at once)."""
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        self._gate = None
