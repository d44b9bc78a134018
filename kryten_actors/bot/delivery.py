"""One event on its way from the router to a channel actor, and what a dead letter keeps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "CORRELATION_ID_PATTERN",
    "Acknowledgement",
    "EventDelivery",
    "EventPreview",
    "correlation_of",
]


class Acknowledgement(Protocol):
    """How an event from a durable source (JetStream) is settled once processed."""

    @property
    def redelivered(self) -> bool:
        """True when the event may have been handled before (a redelivery)."""
        ...

    def skip(self, data: bytes) -> bool:
        """True when the event is a duplicate to drop (it is then acknowledged)."""
        ...

    def done(self, data: bytes) -> None:
        """The handlers finished: acknowledge the event."""
        ...

    def dead(self, reason: str) -> None:
        """The event became a dead letter for ``reason``: acknowledge it, or not."""
        ...


class EventDelivery:
    """One event body as it arrived (not yet decoded): subject, bytes, headers.

    It is also the :class:`~kryten_actors.transport.base.InboundMessage` it came in
    (``delivery.message`` is the delivery itself), so nothing else is allocated per
    event. ``event`` is the subject's event token; ``enqueued_at`` the clock time the
    router handed it over; ``replay`` is true for chat history CyTube replayed on a join;
    ``ack`` settles an event of a durable source (``delivery: jetstream``), else None.
    """

    __slots__ = ("ack", "data", "enqueued_at", "event", "headers", "nbytes", "replay", "subject")

    def __init__(  # noqa: PLR0917 - built once per event on the hot path: positional
        self,
        subject: str,
        data: bytes,
        headers: Mapping[str, str] | None,
        event: str,
        enqueued_at: float,
        replay: bool = False,
        ack: Acknowledgement | None = None,
    ) -> None:
        self.subject = subject
        self.data = data
        self.headers = headers
        self.event = event
        self.enqueued_at = enqueued_at
        self.replay = replay
        self.ack = ack
        #: size of the body (what ``mailbox.max_bytes`` counts; an attribute, not a
        #: property: the mailbox reads it twice per event)
        self.nbytes = len(data)

    def __repr__(self) -> str:
        return f"EventDelivery(subject={self.subject!r}, bytes={len(self.data)})"

    @property
    def message(self) -> EventDelivery:
        """The inbound message (this object)."""
        return self

    @property
    def reply(self) -> str:
        """Events carry no reply subject."""
        return ""

    def on_dead_letter(self, reason: str) -> None:
        """Called by the dead letters when this event becomes one: settle it."""
        if self.ack is not None:
            self.ack.dead(reason)

    def preview(self, limit: int) -> tuple[EventPreview, int]:
        """What a dead letter keeps of this event: at most ``limit`` bytes of body."""
        data = self.data
        headers = self.headers
        trace = {k: headers[k] for k in _TRACE_HEADERS if k in headers} if headers else None
        preview = EventPreview(
            self.subject, self.event, data[:limit], len(data), trace or None, correlation_of(data)
        )
        return preview, len(data)


_TRACE_HEADERS = ("traceparent", "tracestate")
CORRELATION_ID_PATTERN = "[0-9A-Za-z._:-]{1,64}"
"""The correlation IDs :func:`correlation_of` finds (and the handled-event journal keeps)."""
_CORRELATION = re.compile(rb'"correlation_id"\s*:\s*"(%s)"' % CORRELATION_ID_PATTERN.encode())


def correlation_of(data: bytes) -> str | None:
    """The correlation ID a (possibly broken or huge) envelope names, if any."""
    found = _CORRELATION.search(data)
    return found.group(1).decode() if found else None


@dataclass(frozen=True, slots=True)
class EventPreview:
    """A dead event cut to a bounded preview: its subject, event token, first bytes, size."""

    subject: str
    event: str
    head: bytes
    size: int
    trace_headers: Mapping[str, str] | None = None
    """The event's ``traceparent``/``tracestate``, so its letter joins the event's trace."""
    correlation_id: str | None = None
    """The envelope's correlation ID when the body names one (found without parsing)."""

    @property
    def truncated(self) -> bool:
        """True when ``head`` is not the whole body."""
        return len(self.head) < self.size
