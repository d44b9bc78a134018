"""The real transport: nats-py, bounded connect, retries, lossless close.

Two nats-py 2.16 behaviours shape this module. ``Client.flush()`` writes its PING
straight to the socket, ahead of publishes still queued for the flusher task, so
its PONG does not prove those publishes arrived; and the first ``connect()`` with
reconnection allowed can retry well past ``connect_timeout``. Hence every "the
server has it" guarantee here (subscribe, flush, close) is a *probe round trip*: a
message published on this connection to an inbox this connection subscribes to.
The server handles one connection's protocol in order, so receiving the probe
proves every earlier SUB and PUB was processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from nats import errors as nats_errors
from nats.aio.client import Client

from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import (
    KrytenConnectionError,
    KrytenTimeoutError,
    PublishError,
)
from kryten_actors.transport.base import (
    ConnectionListener,
    ConnectionState,
    FrameHandler,
    InboundMessage,
    MessageHandler,
    RetryPolicy,
    Subscription,
    Transport,
    TransportStats,
)
from kryten_actors.transport.connect_options import (
    client_options,
    connect_failure_message,
    redact,
    safe_servers,
)
from kryten_actors.transport.listeners import ListenerSet
from kryten_actors.transport.nats_client import LeanClient
from kryten_actors.transport.nats_failures import (
    NO_RESPONDERS,
    NOT_SENT,
    REASONS,
    check_nkey_seed,
    describe,
    is_auth_failure,
)
from kryten_actors.transport.nats_kv import read_kv
from kryten_actors.transport.nats_replies import ReplyMux
from kryten_actors.transport.nats_subscription import (
    Deliver,
    NatsSubscription,
    deliver_frames,
    deliver_messages,
    open_subscription,
)
from kryten_actors.transport.retry import (
    ReplyAbandoned,
    reply_abandoned,
    reply_timeout,
    send_with_retry,
)

__all__ = ["NatsTransport"]

log = logging.getLogger(__name__)


class NatsTransport(Transport):
    """:class:`Transport` over a NATS server (``async with`` connects and closes).

    Listeners hear CONNECTED once the first connect succeeds, then DISCONNECTED,
    RECONNECTED, ERROR and CLOSED as nats-py reports them. Slow-consumer drops are
    counted in ``stats.slow_consumer_drops`` (not reported as events, they come in
    bursts). ``close_timeout`` bounds each phase of :meth:`close`.
    """

    def __init__(
        self,
        config: NatsConfig,
        *,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen dataclass, safe to share
        close_timeout: float = 10.0,
    ) -> None:
        self._config = config
        self._retry = retry
        self._close_timeout = close_timeout
        self.stats = TransportStats()
        self._client: LeanClient | None = None
        self._connecting = False
        self._closed = False
        self._last_error: BaseException | None = None
        self._auth_error: BaseException | None = None
        self._listeners = ListenerSet(lambda text: redact(text, config))
        self._subscriptions: set[NatsSubscription] = set()
        self._replies = ReplyMux()  # request/reply and round trips (nats_replies.py)

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    def add_listener(self, listener: ConnectionListener) -> None:
        self._listeners.add(listener)

    async def _on_error(self, exc: Exception) -> None:
        if isinstance(exc, nats_errors.SlowConsumerError):
            self.stats.slow_consumer_drops += 1
            drops = self.stats.slow_consumer_drops
            if drops & (drops - 1) == 0:  # log at 1, 2, 4, 8, ... drops
                hint = "raise nats.sub_pending_*_limit or speed up the handlers"
                log.warning("slow consumer: %d message(s) dropped so far; %s", drops, hint)
            return
        self._last_error = exc
        if self._connecting:
            # the first refusal of the credentials is the diagnosis, whatever follows it
            if self._auth_error is None and is_auth_failure(exc):
                self._auth_error = exc
            return
        self.stats.errors += 1
        detail = redact(f"{type(exc).__name__}: {exc}", self._config)
        log.warning("NATS error: %s", detail)
        self._listeners.emit(ConnectionState.ERROR, detail)

    async def _on_disconnected(self) -> None:
        if not self._connecting and not self._closed:
            log.warning("disconnected from NATS (%s)", safe_servers(self._config))
            self._listeners.emit(
                ConnectionState.DISCONNECTED, f"disconnected from {safe_servers(self._config)}"
            )

    async def _on_reconnected(self) -> None:
        self.stats.reconnects += 1
        log.info("reconnected to NATS")
        self._listeners.emit(ConnectionState.RECONNECTED, f"reconnected to {self._connected_url()}")

    async def _on_closed(self) -> None:
        self._replies.abandon()  # no reply can come any more: fail the waiting at once
        if not self._connecting:
            self._listeners.emit(ConnectionState.CLOSED, "connection closed")

    def _connected_url(self) -> str:
        url = self._client.connected_url if self._client is not None else None
        return f"{url.scheme}://{url.hostname}:{url.port}" if url is not None else "NATS"

    async def connect(self) -> None:
        """Connect within ``connect_timeout`` (as a whole, over all servers and retries).

        Raises :class:`KrytenConnectionError` naming the servers, the last error and
        what to check. Calling it when connected is a no-op.
        """
        if self._closed:
            msg = "this NatsTransport was closed; create a new one to connect again"
            raise KrytenConnectionError(msg)
        if self._client is not None:
            return
        check_nkey_seed(self._config)
        client = LeanClient()
        self._client = client
        self._connecting = True
        self._last_error = self._auth_error = None
        try:
            await client.connect_within(
                self._config.connect_timeout,
                **client_options(self._config),
                error_cb=self._on_error,
                disconnected_cb=self._on_disconnected,
                reconnected_cb=self._on_reconnected,
                closed_cb=self._on_closed,
            )
        except Exception as exc:  # noqa: BLE001 -- every connect failure becomes one error type
            await self._abandon(client)
            cause = self._auth_error or self._last_error or exc
            raise KrytenConnectionError(connect_failure_message(self._config, cause)) from cause
        finally:
            self._connecting = False
        # nats-py reads this option on each reconnect; applying it only now keeps the
        # first connect bounded by time alone.
        client.options["max_reconnect_attempts"] = self._config.max_reconnect_attempts
        await self._replies.attach(client)
        log.info("connected to NATS at %s", self._connected_url())
        self._listeners.emit(ConnectionState.CONNECTED, f"connected to {self._connected_url()}")

    async def _abandon(self, client: Client) -> None:
        self._client = None
        # nats-py asserts on closing a client whose connect never got far
        with contextlib.suppress(nats_errors.Error, OSError, TimeoutError, AssertionError):
            async with asyncio.timeout(1.0):
                await client.close()

    def _require_client(self) -> LeanClient:
        client = self._client
        if client is None or client.is_closed:
            state = "closed" if self._closed or client is not None else "not connected"
            msg = f"the NATS transport is {state}; call connect() (or use `async with`) first"
            raise KrytenConnectionError(msg)
        return client

    async def _round_trip(self, seconds: float) -> None:
        client = self._require_client()
        try:
            await self._replies.round_trip(client, seconds)
        except ReplyAbandoned:
            msg = (
                "the NATS connection closed before the server confirmed; what was "
                "published since the last confirmation may be lost"
            )
            raise KrytenConnectionError(msg) from None
        except TimeoutError:
            msg = (
                f"the NATS server did not confirm within {seconds:g} s "
                "(disconnected or overloaded); check the connection"
            )
            raise KrytenTimeoutError(msg) from None
        except nats_errors.Error as exc:
            msg = f"cannot reach the NATS server ({type(exc).__name__}); check the connection"
            raise KrytenConnectionError(msg) from exc

    async def flush(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a per-call deadline is part of the Transport contract
        """Return once the server has processed everything published so far.

        Raises :class:`KrytenTimeoutError` when that is not confirmed in ``timeout``.
        """
        await self._round_trip(timeout)

    async def close(self) -> None:
        """Drain subscriptions (their handlers finish), confirm every earlier publish
        with a server round trip, then disconnect. Idempotent.

        When the server is unreachable for ``close_timeout``, buffered publishes are
        lost; that is logged as a warning.
        """
        if self._closed:
            return
        self._closed = True
        client = self._client
        if client is None:
            return
        subscriptions = list(self._subscriptions)
        self._subscriptions.clear()
        if not client.is_closed:
            for subscription in subscriptions:
                await subscription.drain(self._close_timeout)
            try:
                await self._round_trip(self._close_timeout)
            except (KrytenTimeoutError, KrytenConnectionError) as exc:
                log.warning(
                    "closing NATS without confirmation; %d buffered byte(s) may be lost: %s",
                    client.pending_data_size,
                    exc,
                )
        with contextlib.suppress(nats_errors.Error, OSError):
            await client.close()
        # the closed callback did it, unless client.close() failed before calling it
        self._replies.abandon()

    async def publish(
        self,
        subject: str,
        data: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        reply_to: str = "",
    ) -> None:
        client = self._require_client()
        hdrs = dict(headers) if headers else None
        try:
            await send_with_retry(
                lambda: client.publish(subject, data, reply=reply_to, headers=hdrs),
                policy=self._retry,
                stats=self.stats,
                subject=subject,
                retryable=NOT_SENT,
                describe=describe,
            )
        except nats_errors.Error as exc:
            raise self._rejected(subject, exc) from exc
        self.stats.published += 1

    async def request(
        self,
        subject: str,
        data: bytes,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float,  # noqa: ASYNC109 - a per-call deadline is part of the Transport contract
    ) -> InboundMessage:
        """See :meth:`Transport.request`; ``timeout`` applies to each attempt."""
        client = self._require_client()
        hdrs = dict(headers) if headers else None
        self.stats.requests += 1
        try:
            reply = await send_with_retry(
                lambda: self._replies.request(client, subject, data, hdrs, timeout),
                policy=self._retry,
                stats=self.stats,
                subject=subject,
                retryable=NO_RESPONDERS,
                describe=describe,
                no_responders=(nats_errors.NoRespondersError,),
            )
        except nats_errors.TimeoutError:
            self.stats.request_timeouts += 1
            raise reply_timeout(subject, timeout) from None
        except ReplyAbandoned:
            raise reply_abandoned(subject) from None
        except nats_errors.Error as exc:
            raise self._rejected(subject, exc) from exc
        self.stats.published += 1
        return reply

    def new_inbox(self) -> str:
        return self._require_client().new_inbox()

    async def kv_get(self, bucket: str, key: str) -> bytes | None:
        """See :meth:`Transport.kv_get`."""
        return await read_kv(self._require_client(), bucket, key)

    def _rejected(self, subject: str, exc: nats_errors.Error) -> PublishError:
        self.stats.publish_failures += 1
        reason = REASONS.get(type(exc), f"{type(exc).__name__}: {exc}")
        return PublishError(f"cannot publish to {subject!r}: {reason}", subject=subject, attempts=1)

    async def subscribe(
        self, subject: str, handler: MessageHandler, *, queue: str = ""
    ) -> Subscription:
        """Subscribe; returns once the server confirmed the interest (probe round trip).

        Raises :class:`KrytenValidationError` for a malformed subject and
        :class:`KrytenTimeoutError` when the server does not confirm within
        ``connect_timeout`` (the interest is withdrawn then).
        """
        deliver = deliver_messages(handler, self.stats)
        return await self._subscribe(subject, deliver, queue=queue, frames=None)

    async def subscribe_frames(self, subject: str, handler: FrameHandler) -> Subscription:
        """Like :meth:`subscribe`, delivering ``(subject, payload, headers)`` synchronously.

        The frames of this subscription skip nats-py's per-message ``Msg``, queue and
        task (see ``nats_client.py``); with a nats-py whose parser this does not know,
        they come through nats-py's own path to the same handler.
        """
        deliver = deliver_frames(handler, self.stats)
        return await self._subscribe(subject, deliver, queue="", frames=handler)

    async def _subscribe(
        self,
        subject: str,
        deliver: Deliver,
        *,
        queue: str,
        frames: FrameHandler | None,
    ) -> Subscription:
        subscription = await open_subscription(
            self._require_client(),
            subject,
            deliver,
            queue=queue,
            frames=frames,
            config=self._config,
            on_end=self._subscriptions.discard,
        )
        try:
            await self._round_trip(self._config.connect_timeout)
        except BaseException:
            await subscription.unsubscribe()
            raise
        self._subscriptions.add(subscription)
        return subscription
