"""The transport seam: bytes in, bytes out, over subjects.

Everything above this layer (router, channel actors, the client API) talks to a
:class:`Transport` and never to nats-py. Two implementations ship:
:class:`~kryten_actors.transport.nats.NatsTransport` (a real NATS server) and
:class:`~kryten_actors.transport.memory.MemoryTransport` (in-process, for tests and
the demo). Both honour the same contract, stated on the Protocol methods below.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

__all__ = [
    "ConnectionEvent",
    "ConnectionListener",
    "ConnectionState",
    "FrameHandler",
    "FrameSource",
    "InboundMessage",
    "MessageHandler",
    "RetryPolicy",
    "Subscription",
    "Transport",
    "TransportStats",
]


class InboundMessage(Protocol):
    """A message delivered to a subscription (nats-py's ``Msg`` satisfies this)."""

    @property
    def subject(self) -> str: ...

    @property
    def data(self) -> bytes: ...

    @property
    def reply(self) -> str:
        """The inbox to answer to, or ``""`` when the sender expects no reply."""
        ...

    @property
    def headers(self) -> dict[str, str] | None: ...


MessageHandler = Callable[[InboundMessage], Awaitable[None]]
"""Called once per delivered message, in order per subscription.

A handler that raises is logged and counted in ``TransportStats.errors``; the
subscription keeps delivering.
"""


FrameHandler = Callable[[str, bytes, Mapping[str, str] | None], Awaitable[None] | None]
"""``handler(subject, payload, headers)`` for one delivered message, called in order.

Synchronous on purpose (no coroutine per message); it returns an awaitable only
when the delivery should pause until that completes (backpressure). If it raises,
the error is logged and counted, and delivery goes on.
"""


@runtime_checkable
class FrameSource(Protocol):
    """A transport that can deliver ``(subject, payload, headers)`` without message objects."""

    async def subscribe_frames(self, subject: str, handler: FrameHandler) -> Subscription:
        """Like :meth:`Transport.subscribe`, with a synchronous :data:`FrameHandler`."""
        ...


@runtime_checkable
class Subscription(Protocol):
    """Handle of a live subscription."""

    @property
    def subject(self) -> str: ...

    async def unsubscribe(self) -> None:
        """Stop delivery; idempotent, and a no-op once the transport is closed."""
        ...


class ConnectionState(enum.StrEnum):
    """Connection state changes reported to listeners."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    RECONNECTED = "reconnected"
    CLOSED = "closed"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """One state change; ``detail`` is human-readable and never contains secrets."""

    state: ConnectionState
    detail: str = ""


ConnectionListener = Callable[[ConnectionEvent], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often a publish that provably did not leave is tried again.

    ``attempts`` counts the first try; the wait between tries starts at
    ``initial_backoff`` seconds and doubles up to ``max_backoff``.
    """

    attempts: int = 3
    initial_backoff: float = 0.1
    max_backoff: float = 2.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            msg = f"RetryPolicy.attempts must be >= 1, got {self.attempts}"
            raise ValueError(msg)
        if self.initial_backoff < 0 or self.max_backoff < 0:
            msg = "RetryPolicy backoffs must be >= 0 seconds"
            raise ValueError(msg)


@dataclass
class TransportStats:
    """Counters of one transport since it was created."""

    published: int = 0
    publish_retries: int = 0
    publish_failures: int = 0
    requests: int = 0
    request_timeouts: int = 0
    slow_consumer_drops: int = 0
    reconnects: int = 0
    errors: int = 0


class Transport(Protocol):
    """Publish, request and subscribe over subjects with NATS semantics.

    ``async with transport:`` connects, and closes on the way out.
    """

    stats: TransportStats

    @property
    def is_connected(self) -> bool: ...

    async def connect(self) -> None:
        """Connect, or raise :class:`~kryten_actors.errors.KrytenConnectionError`."""
        ...

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        reply_to: str = "",
    ) -> None:
        """Hand a message to the bus (buffered while reconnecting); ``reply_to`` names
        the subject answers go to (for gathering several replies).

        Retried per :class:`RetryPolicy` only when it provably did not leave; after
        the last attempt raises :class:`~kryten_actors.errors.PublishError` whose
        ``__cause__`` is the last error.
        """
        ...

    async def request(
        self,
        subject: str,
        data: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float,  # noqa: ASYNC109 - a per-call deadline is part of the Transport contract
    ) -> InboundMessage:
        """Send a request and return the first reply.

        No responders is retried, then :class:`~kryten_actors.errors.PublishError`.
        No reply within ``timeout`` raises
        :class:`~kryten_actors.errors.KrytenTimeoutError` with ``outcome_unknown=True``;
        the request is never sent twice. A request still waiting when the transport
        closes fails at once with :class:`~kryten_actors.errors.KrytenConnectionError`.
        """
        ...

    async def subscribe(
        self, subject: str, handler: MessageHandler, *, queue: str = ""
    ) -> Subscription:
        """Subscribe; the interest is registered at the server when this returns."""
        ...

    def new_inbox(self) -> str:
        """A fresh, unique subject to receive replies on."""
        ...

    async def kv_get(self, bucket: str, key: str) -> bytes | None:
        """The value of ``key`` in the key-value bucket ``bucket`` (JetStream KV).

        Returns None when the bucket or the key does not exist. Raises
        :class:`~kryten_actors.errors.KvUnavailable` when the server offers no
        key-value store at all (no JetStream) — callers fall back to asking.
        """
        ...

    async def flush(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a per-call deadline is part of the Transport contract
        """Return once everything published so far has reached the server."""
        ...

    async def close(self) -> None:
        """Deliver everything published before this call, unsubscribe, disconnect.

        Idempotent.
        """
        ...

    def add_listener(self, listener: ConnectionListener) -> None:
        """Call ``listener`` (synchronously, on the event loop) on every state change."""
        ...

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
