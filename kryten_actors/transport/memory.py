"""An in-process transport with NATS semantics that records everything published.

Delivery is asynchronous and ordered per subscription, as with NATS: each
subscription owns a queue and one delivery task. ``*`` and ``>`` wildcards and
queue groups behave as on a server; a request nobody listens to fails like NATS
"no responders" does through :class:`~kryten_actors.transport.nats.NatsTransport`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from kryten_actors.errors import (
    KrytenConnectionError,
    KrytenTimeoutError,
    KrytenValidationError,
    KvUnavailable,
    PublishError,
)
from kryten_actors.transport.base import (
    ConnectionListener,
    ConnectionState,
    InboundMessage,
    MessageHandler,
    RetryPolicy,
    Subscription,
    Transport,
    TransportStats,
)
from kryten_actors.transport.listeners import ListenerSet
from kryten_actors.transport.retry import (
    ReplyAbandoned,
    abandon_replies,
    reply_abandoned,
    reply_timeout,
    send_with_retry,
)
from kryten_actors.transport.wildcards import require_valid_subject, subject_matches

__all__ = ["MemoryMessage", "MemoryTransport", "PublishedMessage"]

log = logging.getLogger(__name__)

INBOX_PREFIX = "_INBOX"


@dataclass(frozen=True, slots=True)
class MemoryMessage:
    """A delivered message (an :class:`InboundMessage`)."""

    subject: str
    data: bytes
    reply: str = ""
    headers: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class PublishedMessage:
    """One publish as the bus saw it; requests carry their reply inbox in ``reply``."""

    subject: str
    data: bytes
    headers: dict[str, str] | None = None
    reply: str = ""


class _NoResponders(Exception):
    """A request matched no subscription (retryable: nothing was delivered)."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _NoResponders):
        return (
            "no responders: nothing is subscribed to this subject; start the service answering it"
        )
    return f"{type(exc).__name__}: {exc}"


class _MemorySubscription:
    def __init__(
        self, transport: MemoryTransport, subject: str, queue: str, handler: MessageHandler
    ) -> None:
        self._transport = transport
        self._subject = subject
        self.queue = queue
        self._handler = handler
        self._inbox: asyncio.Queue[MemoryMessage] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(
            self._deliver(), name=f"memory-subscription:{subject}"
        )
        self.active = True
        self._unfinished = 0

    @property
    def subject(self) -> str:
        return self._subject

    @property
    def busy(self) -> bool:
        return self._unfinished > 0

    def offer(self, message: MemoryMessage) -> None:
        self._unfinished += 1
        self._inbox.put_nowait(message)

    async def _deliver(self) -> None:
        while True:
            message = await self._inbox.get()
            try:
                await self._handler(message)
            except Exception:  # one bad message must not stop the subscription
                self._transport.stats.errors += 1
                log.exception("handler for subject %r failed", message.subject)
            finally:
                self._unfinished -= 1
                self._inbox.task_done()

    async def settle(self) -> None:
        await self._inbox.join()

    async def unsubscribe(self) -> None:
        """Stop delivery now; queued messages are discarded, as NATS does. Idempotent."""
        if not self.active:
            return
        self.active = False
        self._transport._forget(self)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class MemoryTransport(Transport):
    """:class:`Transport` without a server; ``published`` records every publish in order.

    Handlers receive :class:`MemoryMessage`. Reply inboxes look like
    ``_INBOX.<hex>``; a subscriber answers a request by publishing to ``msg.reply``.
    Every publish, including each attempt of a request and every reply, is recorded.
    """

    def __init__(
        self,
        *,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen dataclass, safe to share
        close_timeout: float = 10.0,
    ) -> None:
        self._retry = retry
        self._close_timeout = close_timeout
        self.stats = TransportStats()
        self.published: list[PublishedMessage] = []
        self._subscriptions: list[_MemorySubscription] = []
        self._replies: dict[str, asyncio.Future[MemoryMessage]] = {}
        self._listeners = ListenerSet()
        self._group_turns: dict[tuple[str, str], itertools.count[int]] = {}
        self._connected = False
        self._closed = False
        #: The key-value store (JetStream KV stand-in), or None for "no JetStream".
        self.kv: dict[str, dict[str, bytes]] | None = None

    @property
    def is_connected(self) -> bool:
        return self._connected

    def clear(self) -> None:
        """Forget the recorded publishes (subscriptions stay)."""
        self.published.clear()

    def add_listener(self, listener: ConnectionListener) -> None:
        self._listeners.add(listener)

    async def connect(self) -> None:
        if self._closed:
            msg = "this MemoryTransport was closed; create a new one to connect again"
            raise KrytenConnectionError(msg)
        if self._connected:
            return
        self._connected = True
        self._listeners.emit(ConnectionState.CONNECTED, "connected to the in-memory bus")

    def _require_connected(self) -> None:
        if not self._connected:
            state = "closed" if self._closed else "not connected"
            msg = f"the memory transport is {state}; call connect() (or use `async with`) first"
            raise KrytenConnectionError(msg)

    async def flush(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a per-call deadline is part of the Transport contract
        """Everything published has already reached the in-memory bus; checks the state."""
        self._require_connected()

    async def settle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a per-call deadline is part of the Transport contract
        """Wait until every message delivered so far (and any it caused) was handled.

        For tests; never call it from a handler (it would wait for itself). Raises
        :class:`KrytenTimeoutError` after ``timeout`` seconds.
        """
        try:
            async with asyncio.timeout(timeout):
                while busy := [sub for sub in self._subscriptions if sub.busy]:
                    await asyncio.gather(*(sub.settle() for sub in busy))
        except TimeoutError:
            msg = f"handlers did not finish within {timeout:g} s; is one of them blocked?"
            raise KrytenTimeoutError(msg) from None

    async def close(self) -> None:
        """Let queued messages be handled (up to ``close_timeout``), then stop. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(KrytenTimeoutError):
            await self.settle(self._close_timeout)
        for subscription in list(self._subscriptions):
            await subscription.unsubscribe()
        abandon_replies(self._replies.values())  # no reply can come: fail them at once
        self._replies.clear()
        self._connected = False
        self._listeners.emit(ConnectionState.CLOSED, "connection closed")

    def _forget(self, subscription: _MemorySubscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscriptions.remove(subscription)

    def _matching(self, subject: str) -> list[_MemorySubscription]:
        matching = [s for s in self._subscriptions if subject_matches(s.subject, subject)]
        chosen = [s for s in matching if not s.queue]
        groups: dict[tuple[str, str], list[_MemorySubscription]] = {}
        for sub in matching:
            if sub.queue:
                groups.setdefault((sub.subject, sub.queue), []).append(sub)
        for key, members in groups.items():
            turn = next(self._group_turns.setdefault(key, itertools.count()))
            chosen.append(members[turn % len(members)])
        return chosen

    def _route(
        self, subject: str, data: bytes, headers: Mapping[str, str] | None, reply: str
    ) -> int:
        """Record and deliver one publish; returns how many subscriptions got it."""
        try:
            require_valid_subject(subject)
        except KrytenValidationError as exc:
            self.stats.publish_failures += 1
            raise PublishError(str(exc), subject=subject, attempts=1) from exc
        hdrs = dict(headers) if headers else None
        self.published.append(PublishedMessage(subject, data, hdrs, reply))
        message = MemoryMessage(subject, data, reply, hdrs)
        waiting = self._replies.get(subject)
        if waiting is not None and not waiting.done():
            waiting.set_result(message)
        targets = self._matching(subject)
        for subscription in targets:
            subscription.offer(message)
        return len(targets) + (waiting is not None)

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        reply_to: str = "",
    ) -> None:
        self._require_connected()
        self._route(subject, data, headers, reply_to)
        self.stats.published += 1

    def new_inbox(self) -> str:
        return f"{INBOX_PREFIX}.{uuid.uuid4().hex}"

    async def kv_get(self, bucket: str, key: str) -> bytes | None:
        """From :attr:`kv` (``{bucket: {key: value}}``); with ``kv`` unset there is no
        key-value store, as on a server without JetStream."""
        self._require_connected()
        if self.kv is None:
            raise KvUnavailable("this memory bus has no key-value store (set .kv to add one)")
        return self.kv.get(bucket, {}).get(key)

    async def request(
        self,
        subject: str,
        data: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float,  # noqa: ASYNC109 - a per-call deadline is part of the Transport contract
    ) -> InboundMessage:
        """See :meth:`Transport.request`; ``timeout`` applies to each attempt."""
        self._require_connected()
        self.stats.requests += 1
        loop = asyncio.get_running_loop()

        async def attempt() -> MemoryMessage:
            inbox = f"{INBOX_PREFIX}.{uuid.uuid4().hex}"
            future: asyncio.Future[MemoryMessage] = loop.create_future()
            self._replies[inbox] = future
            try:
                if self._route(subject, data, headers, inbox) == 0:
                    raise _NoResponders(subject)
                async with asyncio.timeout(timeout):
                    return await future
            finally:
                self._replies.pop(inbox, None)

        try:
            reply = await send_with_retry(
                attempt,
                policy=self._retry,
                stats=self.stats,
                subject=subject,
                retryable=(_NoResponders,),
                describe=_describe,
                no_responders=(_NoResponders,),
            )
        except TimeoutError:
            self.stats.request_timeouts += 1
            raise reply_timeout(subject, timeout) from None
        except ReplyAbandoned:
            raise reply_abandoned(subject) from None
        self.stats.published += 1
        return reply

    async def subscribe(
        self, subject: str, handler: MessageHandler, *, queue: str = ""
    ) -> Subscription:
        """Subscribe; the interest is active when this returns."""
        self._require_connected()
        require_valid_subject(subject, wildcards=True)
        subscription = _MemorySubscription(self, subject, queue, handler)
        self._subscriptions.append(subscription)
        return subscription
