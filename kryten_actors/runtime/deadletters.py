"""Where messages go when they cannot be delivered or processed, with a reason.

:class:`DeadLetters` keeps the most recent letters (at most ``capacity`` letters
and ``byte_budget`` bytes of message bodies) and counts every letter ever recorded
by reason. A letter never pins a large body: ``bytes``/``str`` messages longer
than ``preview_bytes`` and messages offering ``preview(limit)`` (the bot's event
deliveries) are kept as a bounded preview plus their original ``size``, and the
error is kept without its traceback (the frames it references hold bodies; the
failure was logged with it). Observers see each letter as it is recorded.
"""

from __future__ import annotations

import enum
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from kryten_actors.errors import KrytenValidationError

__all__ = ["DeadLetter", "DeadLetterReason", "DeadLetters", "Previewable"]

DEFAULT_BYTE_BUDGET = 8 * 1024 * 1024
DEFAULT_PREVIEW_BYTES = 1024
_CHAIN_LIMIT = 8  # causes/contexts followed when dropping tracebacks

_log = logging.getLogger(__name__)


class DeadLetterReason(enum.StrEnum):
    """The reasons the runtime and the bot layers use; any other string is accepted too."""

    MAILBOX_FULL = "mailbox_full"
    HANDLER_FAILED = "handler_failed"
    ACTOR_STOPPED = "actor_stopped"
    UNROUTABLE = "unroutable"
    DECODE_FAILED = "decode_failed"
    OVERSIZED = "oversized"
    SPAWN_FAILED = "spawn_failed"


@runtime_checkable
class Previewable(Protocol):
    """A message that knows how to shrink itself for a dead letter."""

    def preview(self, limit: int) -> tuple[Any, int]:
        """``(what to keep, at most about limit bytes of body; the original size)``."""
        ...


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One undelivered message: who it was for, why it died, and when (``time.time()``).

    ``message`` is the message itself, or its bounded preview when it was larger
    than the store's ``preview_bytes``; ``size`` is the original body size in bytes
    (0 for messages that are not bodies).
    """

    message: Any
    recipient: str
    reason: str
    error: BaseException | None
    timestamp: float
    size: int = 0


class DeadLetters:
    """A bounded sink of dead letters.

    ``recent`` holds at most ``capacity`` letters (oldest first) whose kept bodies
    add up to at most ``byte_budget`` bytes (``bytes_held``); older letters leave
    first. ``counts`` and ``total`` cover every letter since creation, ``bytes_total``
    the original sizes of all of them.
    """

    __slots__ = (
        "_observers",
        "_recent",
        "byte_budget",
        "bytes_held",
        "bytes_total",
        "capacity",
        "counts",
        "preview_bytes",
        "total",
    )

    def __init__(
        self,
        capacity: int = 1000,
        *,
        byte_budget: int = DEFAULT_BYTE_BUDGET,
        preview_bytes: int = DEFAULT_PREVIEW_BYTES,
    ) -> None:
        if capacity < 1:
            raise KrytenValidationError(f"dead letter capacity must be at least 1, got {capacity}")
        if byte_budget < 0 or preview_bytes < 0:
            raise KrytenValidationError("dead letter byte_budget and preview_bytes must be >= 0")
        self.capacity = capacity
        self.byte_budget = byte_budget
        self.preview_bytes = preview_bytes
        self._recent: deque[tuple[DeadLetter, int]] = deque()
        self._observers: list[Callable[[DeadLetter], None]] = []
        self.counts: dict[str, int] = {}
        self.total = 0
        self.bytes_held = 0
        self.bytes_total = 0

    def __repr__(self) -> str:
        return f"<DeadLetters total={self.total} counts={self.counts}>"

    @property
    def recent(self) -> list[DeadLetter]:
        """The most recent letters, oldest first."""
        return [letter for letter, _ in self._recent]

    def record(
        self,
        message: Any,
        *,
        recipient: str,
        reason: str,
        error: BaseException | None = None,
    ) -> None:
        """Record one letter and tell every observer.

        Never raises because of an observer: an observer that raises is logged and
        the remaining observers still run. A message with an ``on_dead_letter(reason)``
        method is told first (an event from a durable source settles itself there).
        """
        reason = str(reason)
        settle = getattr(message, "on_dead_letter", None)
        if settle is not None:
            try:
                settle(reason)
            except Exception:  # noqa: BLE001 -- settling must never break record()
                _log.exception("settling dead-lettered %r failed", type(message).__name__)
        kept, size, held = self._shrink(message)
        if error is not None:
            _drop_tracebacks(error)
        letter = DeadLetter(kept, recipient, reason, error, time.time(), size)
        recent = self._recent
        recent.append((letter, held))
        self.bytes_held += held
        while len(recent) > self.capacity or (self.bytes_held > self.byte_budget and recent):
            self.bytes_held -= recent.popleft()[1]
        self.counts[reason] = self.counts.get(reason, 0) + 1
        self.total += 1
        self.bytes_total += size
        for observer in tuple(self._observers):
            try:
                observer(letter)
            except Exception:  # noqa: BLE001 -- an observer must never break record()
                _log.exception(
                    "dead letter observer %r raised; it keeps its subscription", observer
                )

    def subscribe(self, observer: Callable[[DeadLetter], None]) -> Callable[[], None]:
        """Call ``observer(letter)`` for every future letter; returns an unsubscribe function."""
        self._observers.append(observer)

        def unsubscribe() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return unsubscribe

    def clear(self) -> None:
        """Forget recent letters and counters (observers stay subscribed)."""
        self._recent.clear()
        self.counts.clear()
        self.total = 0
        self.bytes_held = 0
        self.bytes_total = 0

    def _shrink(self, message: Any) -> tuple[Any, int, int]:
        """``(what to keep, original size, bytes kept)`` for ``message``."""
        limit = self.preview_bytes
        if isinstance(message, bytes | bytearray | str):
            size = len(message)
            kept = message[:limit] if size > limit else message
            return kept, size, len(kept)
        if isinstance(message, Previewable):
            kept, size = message.preview(limit)
            return kept, size, min(size, limit)
        return message, 0, 0


def _drop_tracebacks(error: BaseException) -> None:
    """Unpin what an error references: tracebacks, and a suppressed (hidden) context,
    which for ``raise ... from None`` around a parser error holds the whole input."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < _CHAIN_LIMIT:
        current.__traceback__ = None
        if current.__suppress_context__:
            current.__context__ = None
        current = current.__cause__ or current.__context__
        seen += 1
