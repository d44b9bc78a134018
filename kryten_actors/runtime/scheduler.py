"""Timers and background jobs owned by one actor.

Timers are clock callbacks (no task per timer) that put a message into the
actor's *own* mailbox, so timer work is serialized with everything else the
actor does. Jobs run on an :class:`aiojobs.Scheduler` created on the first
:meth:`ActorScheduler.spawn_job`, so actors that never spawn one pay nothing.
The owning cell cancels all timers and closes all jobs when the actor stops or
restarts: nothing scheduled survives the instance that scheduled it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import aiojobs

from kryten_actors.errors import KrytenValidationError
from kryten_actors.runtime.clock import Cancellable, Clock

__all__ = ["ActorScheduler", "Timer"]

_T = TypeVar("_T")


class Timer:
    """A pending ``schedule_once`` / ``schedule_every``; :meth:`cancel` stops it for good."""

    __slots__ = ("_handle", "_interval", "_message", "_owner")

    def __init__(self, owner: ActorScheduler, message: Any, interval: float | None) -> None:
        self._owner: ActorScheduler | None = owner
        self._message = message
        self._interval = interval
        self._handle: Cancellable | None = None

    @property
    def active(self) -> bool:
        """True until the timer fired for the last time or was cancelled."""
        return self._owner is not None

    def cancel(self) -> None:
        """Stop the timer; harmless if it already fired or was cancelled."""
        owner, self._owner = self._owner, None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if owner is not None:
            owner.timers.discard(self)

    def _arm(self, delay: float) -> None:
        owner = self._owner
        if owner is not None:
            self._handle = owner.clock.call_later(delay, self._fire)

    def _fire(self) -> None:
        owner = self._owner
        if owner is None:
            return
        if self._interval is None:
            self._handle = None
            self._owner = None
            owner.timers.discard(self)
        else:
            self._arm(self._interval)
        owner.deliver(self._message)


class ActorScheduler:
    """Timers and jobs of one actor instance.

    ``deliver(message)`` enqueues a timer message on the actor (never raises);
    ``on_job_failure(error)`` reports a job that raised to the actor's supervisor.
    """

    __slots__ = ("_jobs", "clock", "deliver", "on_job_failure", "timers")

    def __init__(
        self,
        clock: Clock,
        deliver: Callable[[Any], None],
        on_job_failure: Callable[[BaseException], None],
    ) -> None:
        self.clock = clock
        self.deliver = deliver
        self.on_job_failure = on_job_failure
        self.timers: set[Timer] = set()
        self._jobs: aiojobs.Scheduler | None = None

    def schedule_once(self, delay: float, message: Any) -> Timer:
        """Deliver ``message`` to the actor once, ``delay`` seconds from now."""
        timer = Timer(self, message, None)
        self.timers.add(timer)
        timer._arm(delay)
        return timer

    def schedule_every(self, interval: float, message: Any) -> Timer:
        """Deliver ``message`` every ``interval`` seconds (first after one interval)."""
        if interval <= 0:
            raise KrytenValidationError(f"schedule_every needs a positive interval, got {interval}")
        timer = Timer(self, message, interval)
        self.timers.add(timer)
        timer._arm(interval)
        return timer

    def spawn_job(self, coro: Coroutine[Any, Any, _T]) -> aiojobs.Job[_T]:
        """Start ``coro`` now as a job owned by the actor and return its handle.

        The job is cancelled when the actor stops or restarts. If it raises, the
        error is reported to the actor's supervisor as a failure of the actor.
        """
        jobs = self._jobs
        if jobs is None or jobs.closed:
            # limit=None: every job starts at once, so spawn() never suspends (see below)
            jobs = self._jobs = aiojobs.Scheduler(
                limit=None, close_timeout=0.5, exception_handler=self._job_failed
            )
        spawning = jobs.spawn(coro)
        try:
            spawning.send(None)
        except StopIteration as started:
            job: aiojobs.Job[_T] = started.value
            return job
        # Only reachable if a future aiojobs made spawn() wait despite limit=None.
        spawning.close()
        coro.close()
        raise RuntimeError("aiojobs.Scheduler.spawn() suspended; spawn_job cannot start the job")

    def cancel_timers(self) -> None:
        """Cancel every pending timer."""
        for timer in tuple(self.timers):
            timer.cancel()

    async def close_jobs(self) -> None:
        """Cancel every running job and wait (briefly) for them to end."""
        jobs, self._jobs = self._jobs, None
        if jobs is not None:
            await jobs.close()

    @property
    def idle(self) -> bool:
        """True when no timer is pending and no job is running."""
        jobs = self._jobs
        return not self.timers and (jobs is None or jobs.active_count + jobs.pending_count == 0)

    def _job_failed(self, scheduler: aiojobs.Scheduler, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, BaseException) and scheduler is self._jobs:
            self.on_job_failure(error)
