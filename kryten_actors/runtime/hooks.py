"""The seams between a cell and the runtime around it, as small Protocols.

A :class:`~kryten_actors.runtime.cell.Cell` knows its supervisor only as a
:class:`Guardian` and the actor system only as :class:`RuntimeHooks`; neither side
reaches into the other's private attributes. Both are leaves: this module imports
nothing of the runtime at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from kryten_actors.runtime.cell import Cell
    from kryten_actors.runtime.clock import Clock
    from kryten_actors.runtime.deadletters import DeadLetters

__all__ = ["Guardian", "RuntimeHooks"]


class Guardian(Protocol):
    """What a supervising actor does for the cells of its children."""

    def child_failed(self, child: Cell, error: BaseException) -> bool:
        """Decide on a failure of ``child``; True means it carries on at once (resume)."""
        ...

    def child_exited(self, child: Cell) -> None:
        """``child`` called ``context.stop()``; restart or stop it per its restart type."""
        ...


class RuntimeHooks(Protocol):
    """What the actor system offers every cell: time, dead letters, events, scheduling."""

    @property
    def clock(self) -> Clock: ...

    @property
    def dead_letters(self) -> DeadLetters: ...

    def emit(self, kind: str, path: str, error: BaseException | None, delay: float = 0.0) -> None:
        """Tell lifecycle observers (``started``, ``failed``, ``restarting`` ...)."""
        ...

    def ready(self, cell: Cell) -> None:
        """``cell`` has messages and no one draining it: queue it for a drain turn."""
        ...

    def drain_started(self) -> None:
        """A cell's own drain task started (its handler awaited something)."""
        ...

    def drain_finished(self) -> None:
        """A cell's own drain task ended."""
        ...
