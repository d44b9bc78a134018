"""What ties one channel actor to its bot: identity, shared services, surviving state."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kryten_actors.bot.latency import LatencyWindow

if TYPE_CHECKING:
    from kryten_actors.bot.sender import CommandSender
    from kryten_actors.observability.instrumentation import Instrumentation
    from kryten_actors.transport.base import InboundMessage

__all__ = ["ChannelBinding", "ChannelCounters", "EventDelivery", "TimerCall", "current_correlation"]

#: Correlation ID of the event being handled in the current task (None outside handlers).
#: Commands sent from a handler carry it, so a conversation stays one trace.
current_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kryten_current_correlation", default=None
)


class EventDelivery:
    """One event body on its way from the router to a channel actor (not yet decoded)."""

    __slots__ = ("enqueued_at", "event", "message")

    def __init__(self, message: InboundMessage, event: str, enqueued_at: float) -> None:
        self.message = message
        self.event = event
        self.enqueued_at = enqueued_at

    def __repr__(self) -> str:
        return f"EventDelivery(subject={self.message.subject!r}, bytes={len(self.message.data)})"


class TimerCall:
    """A timer tick that calls back into the actor, serialized with its events."""

    __slots__ = ("callback",)

    def __init__(self, callback: Any) -> None:
        self.callback = callback

    def __repr__(self) -> str:
        return f"TimerCall({getattr(self.callback, '__qualname__', self.callback)!r})"


@dataclass(slots=True)
class ChannelCounters:
    """Per-channel counters kept across actor restarts."""

    events_received: int = 0
    events_handled: int = 0
    decode_failed: int = 0
    commands_sent: int = 0
    commands_failed: int = 0
    latency_total: float = 0.0
    #: Recent latencies (router arrival to end of handlers) for the health report's p99.
    latency: LatencyWindow = field(default_factory=LatencyWindow)


@dataclass(slots=True)
class ChannelBinding:
    """Identity and services of one channel; outlives the actor instances it serves.

    The tracked bridge state (``rank``, ``current_media``, ``current_uid``,
    ``username``) lives here rather than on the actor, so a restarted actor still
    knows its rank and what is playing.
    """

    domain: str
    channel: str
    key: str
    sender: CommandSender
    instrumentation: Instrumentation
    clock: Any
    rank: float | None = None
    username: str | None = None
    current_uid: int | None = None
    current_media: Any = None
    #: The bridge serving this channel: ``up``, ``down`` or ``unknown`` (kryten-robot lifecycle).
    bridge_state: str = "unknown"
    counters: ChannelCounters = field(default_factory=ChannelCounters)
