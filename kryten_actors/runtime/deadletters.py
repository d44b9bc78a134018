"""Where messages go when they cannot be delivered or processed, with a reason.

:class:`DeadLetters` keeps the most recent letters in a ring buffer (bounded
memory) and counts every letter ever recorded by reason. Observers subscribe to
see each letter as it is recorded (later layers publish them to NATS and traces).
"""

from __future__ import annotations

import enum
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kryten_actors.errors import KrytenValidationError

__all__ = ["DeadLetter", "DeadLetterReason", "DeadLetters"]

_log = logging.getLogger(__name__)


class DeadLetterReason(enum.StrEnum):
    """The reasons the runtime and the bot layers use; any other string is accepted too."""

    MAILBOX_FULL = "mailbox_full"
    HANDLER_FAILED = "handler_failed"
    ACTOR_STOPPED = "actor_stopped"
    UNROUTABLE = "unroutable"
    DECODE_FAILED = "decode_failed"
    OVERSIZED = "oversized"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One undelivered message: who it was for, why it died, and when (``time.time()``)."""

    message: Any
    recipient: str
    reason: str
    error: BaseException | None
    timestamp: float


class DeadLetters:
    """A bounded sink of dead letters.

    ``recent`` holds at most ``capacity`` letters (oldest first); ``counts`` and
    ``total`` cover every letter since creation.
    """

    __slots__ = ("_observers", "_recent", "counts", "total")

    def __init__(self, capacity: int = 1000) -> None:
        if capacity < 1:
            raise KrytenValidationError(f"dead letter capacity must be at least 1, got {capacity}")
        self._recent: deque[DeadLetter] = deque(maxlen=capacity)
        self._observers: list[Callable[[DeadLetter], None]] = []
        self.counts: dict[str, int] = {}
        self.total = 0

    def __repr__(self) -> str:
        return f"<DeadLetters total={self.total} counts={self.counts}>"

    @property
    def recent(self) -> list[DeadLetter]:
        """The most recent letters, oldest first."""
        return list(self._recent)

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
        the remaining observers still run.
        """
        reason = str(reason)
        letter = DeadLetter(message, recipient, reason, error, time.time())
        self._recent.append(letter)
        self.counts[reason] = self.counts.get(reason, 0) + 1
        self.total += 1
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
