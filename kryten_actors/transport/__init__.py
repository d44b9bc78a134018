"""Moving bytes over subjects: the :class:`Transport` seam and its implementations.

``NatsTransport`` (in :mod:`kryten_actors.transport.nats`) is not re-exported here so
that importing the memory transport never imports nats-py.
"""

from __future__ import annotations

from kryten_actors.transport.base import (
    ConnectionEvent,
    ConnectionListener,
    ConnectionState,
    InboundMessage,
    MessageHandler,
    RetryPolicy,
    Subscription,
    Transport,
    TransportStats,
)
from kryten_actors.transport.memory import MemoryMessage, MemoryTransport, PublishedMessage
from kryten_actors.transport.wildcards import subject_matches

__all__ = [
    "ConnectionEvent",
    "ConnectionListener",
    "ConnectionState",
    "InboundMessage",
    "MemoryMessage",
    "MemoryTransport",
    "MessageHandler",
    "PublishedMessage",
    "RetryPolicy",
    "Subscription",
    "Transport",
    "TransportStats",
    "subject_matches",
]
