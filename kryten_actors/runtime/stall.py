"""Event-loop stall detection: who blocked the loop, and for how long.

A handler that blocks (``time.sleep``, a CPU-bound loop, a synchronous HTTP call)
stalls every actor of the process, and nothing inside the loop can notice while it
happens. :class:`StallMonitor` keeps a heartbeat on the loop (one timer callback
every ``interval``) and a daemon thread that watches it: when the heartbeat is
older than ``threshold``, the thread looks at the loop thread's stack, finds the
innermost frame running inside an actor, and logs that actor's path and the
function once per stall. When the loop runs again, the stall's full duration is
counted (``stalls``, ``stalled_seconds``, ``longest_stall``) and reported to the
system's observers as a ``stalled`` runtime event. Costs nothing per message.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

from kryten_actors.runtime.actor import ActorContext

__all__ = ["StallMonitor"]

_log = logging.getLogger("kryten_actors.runtime.stall")
_FRAMES_SEARCHED = 64


def _culprit(frame: FrameType | None) -> tuple[str, str]:
    """``(actor path, function)`` of the innermost actor frame on the stack, or ``("", fn)``."""
    innermost = frame.f_code.co_qualname if frame is not None else "?"
    depth = 0
    while frame is not None and depth < _FRAMES_SEARCHED:
        owner = frame.f_locals.get("self")
        context = getattr(owner, "__dict__", {}).get("context")
        if isinstance(context, ActorContext):
            return context.path, frame.f_code.co_qualname
        frame = frame.f_back
        depth += 1
    return "", innermost


class StallMonitor:
    """Watches one event loop for stalls longer than ``threshold`` seconds.

    ``on_stall(path, function, seconds)`` is called on the loop once a stall is
    over. :meth:`start` and :meth:`stop` must be called on the loop.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        interval: float | None = None,
        on_stall: Callable[[str, str, float], None] | None = None,
    ) -> None:
        self.threshold = threshold
        # one heartbeat and one check per threshold: a stall is seen within two of them,
        # and an idle process wakes only a few times a second
        self.interval = interval if interval is not None else threshold
        self._on_stall = on_stall
        #: Stalls seen, their total and the longest duration (seconds).
        self.stalls = 0
        self.stalled_seconds = 0.0
        self.longest_stall = 0.0
        self._beat = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._loop_thread = 0
        self._reported: tuple[str, str] | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._thread is not None

    def start(self) -> None:
        """Start the heartbeat and the watching thread."""
        if self._thread is not None:
            return
        self._loop_thread = threading.get_ident()
        self._beat = time.monotonic()
        self._stop.clear()
        self._handle = asyncio.get_running_loop().call_later(self.interval, self._tick)
        self._thread = threading.Thread(
            target=self._watch, name="kryten-stall-monitor", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (the thread ends within one ``interval``)."""
        self._stop.set()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=2 * self.interval + 1.0)

    def _tick(self) -> None:
        now = time.monotonic()
        lag = now - self._beat - self.interval
        self._beat = now
        with self._lock:
            culprit, self._reported = self._reported, None
        if lag >= self.threshold:
            self.stalls += 1
            self.stalled_seconds += lag
            self.longest_stall = max(self.longest_stall, lag)
            path, function = culprit or ("", "?")
            if culprit is None:  # too short for the thread to see it
                _log.warning("event loop stalled for %.3f s", lag)
            else:
                _log.warning(
                    "event loop stalled for %.3f s in all; %s blocked it", lag, path or function
                )
            if self._on_stall is not None:
                self._on_stall(path, function, lag)
        if not self._stop.is_set():
            self._handle = asyncio.get_running_loop().call_later(self.interval, self._tick)

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            late = time.monotonic() - self._beat - self.interval
            if late < self.threshold:
                continue
            with self._lock:
                if self._reported is not None:
                    continue  # once per stall
                frame = sys._current_frames().get(self._loop_thread)
                self._reported = _culprit(frame)
                path, function = self._reported
            _log.warning(
                "event loop blocked for %.1f s so far by %s (running %s); every actor waits: "
                "move blocking work out of the handler (asyncio.to_thread, or an async library)",
                late,
                path or "code outside any actor",
                function,
            )
