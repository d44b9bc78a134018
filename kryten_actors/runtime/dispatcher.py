"""The dispatcher: one long-lived task that drains every ready mailbox of a system.

A cell that receives a message while idle is queued here once. The dispatcher
takes ready cells in turn and runs each for at most ``quantum`` messages (then
puts it back at the end of the line), so a channel with a hundred times the
traffic of the others delays them by at most one quantum. Each message's handler
is started inline: a handler that completes without suspending (the common case)
costs no task at all.

When a handler really awaits something, the dispatcher's task *becomes* that
cell's drain task — the suspended handler continues in the very task it started
in, so ``asyncio.current_task()``, ``asyncio.timeout`` and cancellation behave as
for any task — and a fresh dispatcher task takes over the other cells. Handlers
that await therefore still run concurrently across channels while one channel's
messages stay strictly ordered. Every task is owned: the dispatcher's by the
system (:meth:`Dispatcher.close`), a cell's drain task by its cell.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from kryten_actors.runtime.clock import Clock
from kryten_actors.runtime.deadletters import DeadLetters
from kryten_actors.runtime.drain import Suspended
from kryten_actors.runtime.stats import RuntimeEvent
from kryten_actors.runtime.turn import take_turn

if TYPE_CHECKING:
    from kryten_actors.runtime.cell import Cell

__all__ = ["DEFAULT_QUANTUM", "Dispatcher"]

_log = logging.getLogger("kryten_actors.runtime")

DEFAULT_QUANTUM = 64
"""Messages one cell may process per turn before the next ready cell gets its turn."""
_YIELD_AFTER = 0.005
"""Seconds of handling inline, in one pass over the ready cells, before the dispatcher
lets the event loop run (I/O, timers, other tasks). Measured on the real path: yielding
every 256 messages instead let a backlog's socket reads run ahead of the handlers, so
~45 events waited per channel at 100 channels (older, colder in the cache) and the
drain cost ~10 % more CPU per event; every ~5 ms keeps the queues short."""
_CHECK_EVERY = 64  # messages between two looks at the time


class Dispatcher:
    """Ready queue, dispatcher task and lifecycle events of one actor system.

    It implements :class:`~kryten_actors.runtime.hooks.RuntimeHooks` for the cells.
    """

    def __init__(self, clock: Clock, dead_letters: DeadLetters, quantum: int) -> None:
        self.clock = clock
        self.dead_letters = dead_letters
        self.quantum = quantum
        self.observers: list[Callable[[RuntimeEvent], None]] = []
        self._ready: deque[Cell] = deque()
        self._task: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._drains = 0
        self._quiet: asyncio.Event | None = None
        self._closed = False
        #: Turns taken and tasks handed over to cells (how often a handler awaited).
        #: The dispatcher adds its turns up whenever it lets the event loop run.
        self.turns = 0
        self.handoffs = 0

    # -- RuntimeHooks -------------------------------------------------------------------
    def ready(self, cell: Cell) -> None:
        self._ready.append(cell)
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            if not wakeup.done():
                wakeup.set_result(None)
        elif self._task is None and not self._closed:
            self._start()

    def _start(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # told from outside the loop: the next turn of the loop starts it
        self._task = self._new_task(loop)

    def drain_started(self) -> None:
        self._drains += 1

    def drain_finished(self) -> None:
        self._drains -= 1
        self._maybe_quiet()

    def emit(self, kind: str, path: str, error: BaseException | None, delay: float = 0.0) -> None:
        if not self.observers:
            return
        event = RuntimeEvent(kind, path, error, time.time(), delay)
        for observer in tuple(self.observers):
            try:
                observer(event)
            except Exception:  # noqa: BLE001 -- an observer must never break the runtime
                _log.exception("runtime event observer %r raised; it stays subscribed", observer)

    # -- quiescence ---------------------------------------------------------------------
    @property
    def working(self) -> bool:
        """True while a cell is queued or a cell's drain task runs."""
        return bool(self._ready) or self._drains > 0

    async def quiet(self) -> None:
        """Wait until nothing is queued and no drain task runs."""
        if self._ready and self._task is None and not self._closed:
            self._start()
        while self.working:
            self._quiet = self._quiet or asyncio.Event()
            self._quiet.clear()
            await self._quiet.wait()

    def _maybe_quiet(self) -> None:
        if self._quiet is not None and not self.working:
            self._quiet.set()

    # -- the dispatcher task ------------------------------------------------------------
    async def _run(self) -> None:
        ready = self._ready
        take = ready.popleft
        quantum = self.quantum
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        now = self.clock.now
        stamp = now()  # idle_since of cells this pass leaves idle (one clock read a pass)
        done = 0  # messages since the time was last looked at
        turns = 0  # added to self.turns before the task lets anything else run
        since = time.perf_counter()  # CPU-bound work since: real time, whatever the clock
        try:
            while not self._closed:
                if not ready:
                    self.turns += turns
                    turns = done = 0
                    self._maybe_quiet()
                    wakeup = self._wakeup = loop.create_future()
                    await wakeup
                    stamp = now()
                    since = time.perf_counter()
                    continue
                cell = take()
                turns += 1
                outcome = take_turn(cell, quantum)
                if type(outcome) is Suspended:  # (isinstance costs more, once per turn)
                    self.handoffs += 1
                    # This task now belongs to the cell; a new one serves the others.
                    self._task = self._new_task(loop) if ready else None
                    await cell.finish_in_task(outcome)
                    return
                if not cell._queued:  # queued again (messages left): not idle
                    cell.idle_since = stamp
                done += outcome
                if done >= _CHECK_EVERY:
                    done = 0
                    if time.perf_counter() - since >= _YIELD_AFTER:
                        self.turns += turns
                        turns = 0
                        await asyncio.sleep(0)  # let I/O and other tasks run between turns
                        stamp = now()
                        since = time.perf_counter()
        finally:
            self.turns += turns
            if self._task is me:
                self._task = None
                self._wakeup = None

    def _new_task(self, loop: asyncio.AbstractEventLoop) -> asyncio.Task[None]:
        # A fresh, empty context: no context variable a handler set (a correlation ID,
        # a span) leaks into the handlers of other cells this task runs next.
        return loop.create_task(self._run(), context=contextvars.Context())

    async def close(self) -> None:
        """Cancel the dispatcher task and wait for it; the queue is dropped."""
        self._closed = True
        task, self._task = self._task, None
        self._ready.clear()
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait((task,), timeout=1.0)
        self._maybe_quiet()
