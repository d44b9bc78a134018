"""Quiescence: waiting until an actor system has done all it can without time moving.

With a :class:`~kryten_actors.runtime.VirtualClock`, an actor waiting out its restart
backoff makes no progress until the test advances the clock; events queued for it wait
too. :class:`Quiescence` tells those actors apart (from the system's ``restarting``
events and the clock), so a wait returns when everything *else* is done, instead of
timing out.
"""

from __future__ import annotations

import asyncio
from typing import Final

from kryten_actors.errors import KrytenTimeoutError
from kryten_actors.runtime import ActorSystem, RuntimeEvent, VirtualClock

__all__ = ["Quiescence"]

_POLL: Final = 0.001
_DONE_WAITING: Final = frozenset({"started", "restarted", "stopped", "gave_up"})


class Quiescence:
    """Watches one system's restarts; :meth:`wait` returns when no actor can progress."""

    def __init__(self, system: ActorSystem, clock: VirtualClock) -> None:
        self._system = system
        self._clock = clock
        self._restart_due: dict[str, float] = {}
        self._unsubscribe = system.subscribe(self._observe)

    def _observe(self, event: RuntimeEvent) -> None:
        if event.kind == "restarting":
            # emitted just before the supervisor sleeps `delay` on this same clock
            self._restart_due[event.path] = self._clock.now() + event.delay
        elif event.kind in _DONE_WAITING:
            self._restart_due.pop(event.path, None)

    def waiting_for_time(self) -> set[str]:
        """Paths of actors whose restart backoff ends only when the clock advances."""
        now = self._clock.now()
        return {path for path, due in self._restart_due.items() if due > now}

    async def wait(self, timeout: float) -> None:  # noqa: ASYNC109 - a deadline, in real seconds
        """Return when every mailbox is drained and every due restart has finished,
        except for actors still in backoff (their mailboxes wait for the clock).

        Raises :class:`KrytenTimeoutError` after ``timeout`` real seconds.
        """
        if not self._restart_due:
            await self._system.idle(timeout)
            return
        try:
            async with asyncio.timeout(timeout):
                while True:
                    restarting = self._restarting_now()
                    busy = self._busy()
                    if not busy and not restarting:
                        return
                    if not restarting and not self.waiting_for_time():
                        await self._system.idle(timeout)
                        continue
                    # A restart runs on_start without a mailbox drain, and idle() would
                    # also wait for the actors in backoff: only polling sees these finish.
                    await asyncio.sleep(_POLL)
        except TimeoutError:
            stuck = sorted({*self._busy(), *self._restarting_now()})
            raise KrytenTimeoutError(
                f"actors still busy after {timeout}s: {stuck[:10]}; a handler or an "
                "on_start/on_restart hook may be stuck"
            ) from None

    def _restarting_now(self) -> list[str]:
        now = self._clock.now()
        return [path for path, due in self._restart_due.items() if due <= now]

    def _busy(self) -> list[str]:
        waiting = self.waiting_for_time()
        return [c.path for c in self._system.cells() if c.busy and c.path not in waiting]

    def close(self) -> None:
        """Stop watching (idempotent)."""
        self._unsubscribe()
