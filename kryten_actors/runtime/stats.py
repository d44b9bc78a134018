"""Snapshots of an actor's health, and the lifecycle events the runtime emits.

Counters live as plain ints on the actor's cell; an :class:`ActorStats` is built
only when someone asks for it.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

__all__ = ["ActorState", "ActorStats", "ErrorInfo", "RuntimeEvent"]


class ActorState(enum.StrEnum):
    """Lifecycle state of one actor.

    ``starting``: ``on_start``/``on_restart`` is running; messages queue up.
    ``running``: messages are processed. ``restarting``: the actor failed and is
    waiting (backoff) for its replacement; messages still queue up. ``stopped``:
    stopped on purpose. ``failed``: ended by a failure that was not restarted
    (restart intensity exceeded, a temporary child, an escalation). Messages to a
    stopped or failed actor become dead letters with reason ``actor_stopped``.
    """

    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """The last failure of an actor: exception type name, message, wall-clock time."""

    type: str
    message: str
    time: float

    @classmethod
    def from_exception(cls, error: BaseException) -> ErrorInfo:
        """Describe ``error`` now."""
        return cls(type(error).__name__, str(error), time.time())


@dataclass(frozen=True, slots=True)
class ActorStats:
    """A point-in-time view of one actor (``uptime`` counts from its last (re)start)."""

    name: str
    path: str
    state: ActorState
    mailbox_depth: int
    mailbox_high_water: int
    processed: int
    failed: int
    restarts: int
    dropped: int
    last_error: ErrorInfo | None
    uptime: float


@dataclass(frozen=True, slots=True)
class RuntimeEvent:
    """A lifecycle event of one actor, delivered to ``ActorSystem.subscribe`` observers.

    ``kind`` is one of ``started``, ``failed``, ``restarting`` (``delay`` is the
    backoff before the new instance starts), ``restarted``, ``stopped``,
    ``gave_up`` (restart intensity exceeded under the top-level supervisor),
    ``escalated`` (a supervisor passed a child's failure up to its own parent),
    ``passivated`` (an idle actor was passivated) and ``stalled`` (the event loop
    was blocked for ``delay`` seconds; ``path`` is the actor that blocked it, or the
    function when no actor was running).
    ``time`` is wall-clock (``time.time()``).
    """

    kind: str
    path: str
    error: BaseException | None
    time: float
    delay: float = 0.0
