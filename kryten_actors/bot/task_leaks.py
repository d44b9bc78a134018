"""Finding handlers that leave tasks behind (asyncio debug mode only).

A task a handler starts with ``asyncio.create_task`` belongs to nobody: it outlives the
actor's restart and even ``bot.stop()``. ``self.spawn_job(coro)`` is the owned way (the
job is cancelled when the actor stops or restarts, and its failure is the actor's).

In asyncio's debug mode (``PYTHONASYNCIODEBUG=1``, ``python -X dev`` or
``asyncio.run(..., debug=True)``) the bot installs a task factory that notes every task a
handler creates; when the handler returns and one of its own tasks (one whose coroutine
is not kryten-actors', nats-py's, aiojobs' or asyncio's) still runs, one WARNING per
handler names it and points at ``spawn_job``. Outside debug mode nothing is installed and
a handler costs nothing extra.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterator
from contextvars import ContextVar
from typing import Any

__all__ = ["DETECTOR", "TaskLeakDetector", "owned_tasks"]

log = logging.getLogger("kryten_actors.bot")

_started: ContextVar[list[asyncio.Task[Any]] | None] = ContextVar("kryten_started", default=None)
_owned: ContextVar[bool] = ContextVar("kryten_owned_task", default=False)
_FRAMEWORK = ("kryten_actors.", "nats.", "aiojobs.", "asyncio.", "opentelemetry.")


@contextlib.contextmanager
def owned_tasks() -> Iterator[None]:
    """Tasks created inside this block have an owner (``spawn_job`` uses it)."""
    token = _owned.set(True)
    try:
        yield
    finally:
        _owned.reset(token)


def _is_framework(task: asyncio.Task[Any]) -> bool:
    coro = task.get_coro()
    frame = getattr(coro, "cr_frame", None)
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    return not isinstance(module, str) or f"{module}.".startswith(_FRAMEWORK)


def _name(task: asyncio.Task[Any]) -> str:
    return str(getattr(task.get_coro(), "__qualname__", task.get_name()))


class TaskLeakDetector:
    """The debug-mode task factory and the per-handler check (see the module docstring)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None
        self._warned: set[str] = set()
        self.leaks = 0
        """Handler runs that left at least one task of their own running."""
        self.active = False
        """True while installed on a loop (a plain attribute: read once per event)."""

    def install(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Install on ``loop`` when it runs in debug mode and has no other task factory."""
        if self._loop is not None or not loop.get_debug() or loop.get_task_factory() is not None:
            return False
        self._loop = loop
        self.active = True
        loop.set_task_factory(self._create)  # type: ignore[arg-type]  # typeshed is stricter
        return True

    def uninstall(self) -> None:
        """Give the loop back its default task factory."""
        loop, self._loop = self._loop, None
        self.active = False
        if loop is not None and loop.get_task_factory() == self._create:
            loop.set_task_factory(None)

    def _create(
        self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kwargs: Any
    ) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, **kwargs)
        started = _started.get()
        if started is not None and not _owned.get():
            started.append(task)
        return task

    @contextlib.contextmanager
    def watch(self, where: str) -> Iterator[None]:
        """Note the tasks created inside the block; warn about ours still running after it."""
        started: list[asyncio.Task[Any]] = []
        token = _started.set(started)
        try:
            yield
        finally:
            _started.reset(token)
            left = [t for t in started if not t.done() and not _is_framework(t)]
            if left:
                self.leaks += 1
                if where not in self._warned:
                    self._warned.add(where)
                    names = ", ".join(sorted({_name(t) for t in left}))
                    log.warning(
                        "%s returned and left %d task(s) running (%s): such tasks belong to "
                        "no actor and outlive its restart and bot.stop(); start them with "
                        "self.spawn_job(...) instead (warned once per handler)",
                        where,
                        len(left),
                        names,
                    )


DETECTOR = TaskLeakDetector()
"""The process's detector: every bot started on a debug-mode loop installs it."""
