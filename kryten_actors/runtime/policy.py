"""How a supervisor reacts to failures, and how its children are declared.

All of it is data: a :class:`SupervisionPolicy` per supervisor and a
:class:`ChildSpec` per child. The behaviour lives in ``supervisor.py``.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kryten_actors.errors import KrytenValidationError
from kryten_actors.runtime.mailbox import OverflowPolicy

if TYPE_CHECKING:
    from kryten_actors.runtime.actor import Actor

__all__ = [
    "ChildSpec",
    "Decider",
    "Directive",
    "RestartType",
    "Strategy",
    "SupervisionPolicy",
    "default_decider",
]


class RestartType(enum.StrEnum):
    """When a child is restarted after it ends.

    ``permanent``: always (after a failure and after a normal ``context.stop()``).
    ``transient``: only after a failure. ``temporary``: never.
    """

    PERMANENT = "permanent"
    TRANSIENT = "transient"
    TEMPORARY = "temporary"


class Strategy(enum.StrEnum):
    """Which children restart when one fails.

    ``one_for_one``: just the failed child. ``one_for_all``: every child.
    ``rest_for_one``: the failed child and every child started after it.
    Affected children stop in reverse start order and start again in start order.
    """

    ONE_FOR_ONE = "one_for_one"
    ONE_FOR_ALL = "one_for_all"
    REST_FOR_ONE = "rest_for_one"


class Directive(enum.StrEnum):
    """A decider's verdict on one failure.

    ``restart``: replace the instance (subject to the child's restart type,
    intensity and backoff). ``resume``: keep the instance and its state, drop the
    failing message. ``stop``: stop the child for good (state ``stopped``).
    ``escalate``: stop the child and fail the supervisor itself, so its own parent
    decides (at the top level this marks the child ``failed``).
    """

    RESTART = "restart"
    RESUME = "resume"
    STOP = "stop"
    ESCALATE = "escalate"


Decider = Callable[[BaseException], Directive]
"""Maps a failure to a :class:`Directive`. A decider that raises counts as ``restart``."""


def default_decider(error: BaseException) -> Directive:
    """Restart on every failure."""
    return Directive.RESTART


@dataclass(frozen=True)
class SupervisionPolicy:
    """Strategy, restart intensity and backoff of one supervisor.

    More than ``max_restarts`` restarts of one child within ``within_seconds``
    stops that child: under the top-level supervisor it is marked ``failed`` (the
    others keep running); under a nested supervisor the failure escalates.
    The n-th consecutive restart waits ``min(max_backoff, min_backoff * 2**(n-1))``
    seconds, varied by ``±jitter`` (a fraction) and never above ``max_backoff``;
    n resets once the child has run ``reset_after`` seconds without failing.
    """

    strategy: Strategy = Strategy.ONE_FOR_ONE
    max_restarts: int = 10
    within_seconds: float = 60.0
    min_backoff: float = 0.1
    max_backoff: float = 30.0
    jitter: float = 0.2
    reset_after: float = 60.0
    decider: Decider = default_decider

    def __post_init__(self) -> None:
        if self.max_restarts < 0 or self.within_seconds <= 0:
            raise KrytenValidationError("max_restarts must be >= 0 and within_seconds > 0")
        if not 0 <= self.min_backoff <= self.max_backoff:
            raise KrytenValidationError("backoff needs 0 <= min_backoff <= max_backoff")
        if not 0 <= self.jitter < 1:
            raise KrytenValidationError("jitter is a fraction in [0, 1)")

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before restart number ``attempt`` (1-based) of a failure streak."""
        exponent = min(max(attempt, 1) - 1, 64)  # 2**64 * any min_backoff is past every cap
        base = min(self.max_backoff, self.min_backoff * 2.0**exponent)
        if self.jitter:
            spread = (rng or random).uniform(-self.jitter, self.jitter)
            base *= 1.0 + spread
        return min(self.max_backoff, base)


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """How a supervisor creates and runs one child.

    ``factory`` makes a fresh :class:`~kryten_actors.runtime.actor.Actor` for
    every (re)start; a factory returning a ``Supervisor`` nests a subtree.
    ``shutdown_timeout`` bounds draining the mailbox on stop and then ``on_stop``
    (loop time). ``handler_timeout`` bounds each message (measured on the system
    clock, so a virtual clock controls it) and ``on_start``/``on_restart`` (loop
    time); ``None`` means no limit. ``mailbox_max_bytes`` optionally bounds the bytes
    of message bodies the mailbox holds (see :class:`~kryten_actors.runtime.Mailbox`).
    """

    name: str
    factory: Callable[[], Actor]
    restart: RestartType = RestartType.PERMANENT
    shutdown_timeout: float = 5.0
    mailbox_capacity: int = 1000
    overflow: OverflowPolicy = OverflowPolicy.DROP_NEWEST
    handler_timeout: float | None = 30.0
    mailbox_max_bytes: int | None = None

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise KrytenValidationError(
                f"child name {self.name!r} must be non-empty and contain no '/'"
            )
