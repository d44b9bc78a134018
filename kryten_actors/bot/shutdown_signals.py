"""SIGINT and SIGTERM for :meth:`Bot.run`: drain on the first, never lose work on the second.

* The first signal starts the graceful shutdown (stop taking events, drain the mailboxes
  for up to ``shutdown_timeout``, flush the commands, exit 0).
* A second signal while that runs is logged and ignored: the drain goes on. (Supervisors
  such as systemd, Docker and Kubernetes, and an impatient Ctrl+C, send one often.)
* A third one is taken as "exit now": it logs what is abandoned (queued events and chat
  lines) and ends the process at once with ``128 + signal number``, as a shell reports a
  process killed by that signal.

The handlers stay installed until the shutdown has finished, so no signal during it ever
reaches Python's defaults (a traceback from ``KeyboardInterrupt``, or death by SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable

__all__ = ["FORCE_AFTER", "ShutdownSignals"]

log = logging.getLogger("kryten_actors.bot")

FORCE_AFTER = 3
"""The signal count that abandons the drain and exits at once."""

_HANDLED = (signal.SIGINT, signal.SIGTERM)


class ShutdownSignals:
    """Counts SIGINT/SIGTERM during one ``run()`` and acts on each as described above.

    ``request_stop`` starts the graceful stop; ``abandoned`` says what a forced exit
    would abandon (for its log line); ``exit`` ends the process (``os._exit`` by default:
    a forced exit must not wait for anything, not even other threads).
    """

    def __init__(
        self,
        *,
        request_stop: Callable[[], None],
        abandoned: Callable[[], str],
        shutdown_timeout: float,
        exit: Callable[[int], object] = os._exit,
    ) -> None:
        self._request_stop = request_stop
        self._abandoned = abandoned
        self._timeout = shutdown_timeout
        self._exit = exit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._installed: list[signal.Signals] = []
        self.received = 0

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Handle SIGINT and SIGTERM on ``loop`` (where the platform allows it)."""
        self._loop = loop
        for sig in _HANDLED:
            # not on Windows' default loop, nor outside the main thread: then Python's
            # own handling stays, as before
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self.on_signal, sig)
                self._installed.append(sig)

    def remove(self) -> None:
        """Give the signals back to Python's defaults (after the shutdown finished)."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        for sig in self._installed:
            with contextlib.suppress(RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        self._installed.clear()

    def on_signal(self, sig: signal.Signals) -> None:
        """What one SIGINT/SIGTERM does (called by the event loop)."""
        self.received += 1
        name = sig.name
        if self.received == 1:
            log.info(
                "%s received: shutting down (draining mailboxes for up to %.3g s)",
                name,
                self._timeout,
            )
            self._request_stop()
        elif self.received < FORCE_AFTER:
            log.warning(
                "%s received again while shutting down: ignored, the drain goes on "
                "(at most %.3g s); a third signal abandons it and exits at once",
                name,
                self._timeout,
            )
        else:
            abandoned = self._abandoned()
            log.error("%s received a third time: exiting now, abandoning %s", name, abandoned)
            for handler in logging.getLogger().handlers:
                with contextlib.suppress(Exception):
                    handler.flush()
            self._exit(128 + int(sig))
