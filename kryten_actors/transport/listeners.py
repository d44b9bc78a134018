"""The listeners of one transport's connection state changes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kryten_actors.transport.base import ConnectionEvent, ConnectionListener, ConnectionState

__all__ = ["ListenerSet"]

log = logging.getLogger(__name__)


class ListenerSet:
    """Calls every listener, in registration order, with each event.

    ``scrub`` is applied to every detail before anyone sees it (it masks secrets).
    A listener that raises is logged and does not stop the others.
    """

    def __init__(self, scrub: Callable[[str], str] = str) -> None:
        self._listeners: list[ConnectionListener] = []
        self._scrub = scrub

    def add(self, listener: ConnectionListener) -> None:
        self._listeners.append(listener)

    def emit(self, state: ConnectionState, detail: str = "") -> None:
        event = ConnectionEvent(state, self._scrub(detail))
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a listener's bug must not break the connection callbacks
                log.exception("connection listener %r failed on %s", listener, state)
