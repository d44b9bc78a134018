"""The handler watchdog of one cell: ``handler_timeout`` without a timer per message.

Only a cell whose handler really awaited has a drain task, and only a task can be
interrupted; so the watchdog exists while that task runs. It is one clock callback
that re-arms itself: when it finds the current message older than the timeout it
cancels the task, marks the overrun, and *keeps watching* — a handler that
swallows the cancellation is cancelled again after another ``timeout``, and the
messages after it are bounded too.
"""

from __future__ import annotations

import asyncio

from kryten_actors.runtime.clock import Cancellable, Clock

__all__ = ["Watchdog"]


class Watchdog:
    """Cancels ``task`` when one message runs longer than ``timeout`` clock seconds."""

    __slots__ = (
        "_cancels",
        "_clock",
        "_handle",
        "_started",
        "_task",
        "busy",
        "overran",
        "timeout",
    )

    def __init__(self, clock: Clock, timeout: float, task: asyncio.Task[None]) -> None:
        self._clock = clock
        self.timeout = timeout
        self._task = task
        self._started = 0.0
        self._cancels = 0
        self.busy = False
        #: Set when the watchdog cancelled the task; the drain loop consumes it.
        self.overran = False
        self._handle: Cancellable | None = clock.call_later(timeout, self._check)

    def begin(self, started: float) -> None:
        """A message started at ``started`` (clock time)."""
        self._started = started
        self.busy = True

    def end(self) -> bool:
        """The message ended; True if the watchdog had cut it off (the flag is cleared)."""
        self.busy = False
        overran, self.overran = self.overran, False
        while self._cancels:
            self._cancels -= 1
            self._task.uncancel()
        return overran

    def cancel(self) -> None:
        """Stop watching (the drain task ends)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()

    def _check(self) -> None:
        self._handle = None
        if self._task.done():
            return
        wait = self.timeout
        if self.busy:
            overrun = self._clock.now() - self._started
            if overrun >= self.timeout:
                # a handler that swallowed the last cancellation is cancelled again
                self.overran = True
                self._cancels += 1
                self._task.cancel()
            else:
                wait -= overrun
        self._handle = self._clock.call_later(wait, self._check)
