"""JetStream for event delivery: the stream, one durable pull consumer per channel, acks.

NATS features relied on (nats-server >= 2.10, checked at start by :func:`check_server`):
streams with ``limits`` retention bounded by ``max_age``/``max_bytes`` (2.2), durable
pull consumers with explicit acks, ``ack_wait`` redelivery and ``max_ack_pending``
flow control (2.7), ``filter_subjects`` with several subjects per consumer and
``inactive_threshold`` on durables (2.10). nats-py's ``JetStreamContext`` does the API.

A channel's consumer delivers that channel's events in stream order. When a consumer
is taken over with events delivered but not acknowledged (the previous process was
killed, or its acks were lost), it is recreated to start right after its ack floor,
so the unacknowledged events come again *in order* (a plain redelivery after
``ack_wait`` would come after newer ones); events up to the old consumer's last
delivered sequence are reported as ``maybe_seen``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from nats import errors as nats_errors
from nats.aio.client import Client
from nats.js import api
from nats.js import errors as js_errors
from nats.js.client import JetStreamContext

from kryten_actors.errors import KrytenConnectionError
from kryten_actors.transport.nats import NatsTransport

__all__ = [
    "MIN_SERVER_VERSION",
    "ChannelConsumer",
    "JetStreamHandler",
    "JetStreamLink",
    "StreamSettings",
    "check_server",
    "raise_if_cancelled",
]

log = logging.getLogger(__name__)

#: The oldest nats-server with every feature this module uses (multi-filter consumers).
MIN_SERVER_VERSION = (2, 10, 0)
_API_TIMEOUT = 5.0
_FETCH_WAIT = 2.0  # seconds a pull request waits for events before it is renewed
_RETRY_DELAY = 0.5

#: ``handler(subject, data, headers, reply, maybe_seen)``; returns None or an awaitable
#: to wait for before the next event (back-pressure).
JetStreamHandler = Callable[
    [str, bytes, Mapping[str, str] | None, str, bool], Awaitable[None] | None
]


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """The stream over the event subjects and the consumers' limits."""

    name: str
    subjects: tuple[str, ...]
    manage: bool
    max_age: float
    max_bytes: int
    ack_wait: float
    max_ack_pending: int
    fetch_batch: int


def _client(transport: NatsTransport) -> Client:
    # same layer: the nats-py client stays private to the transport package
    client = transport._client
    if client is None or not client.is_connected:
        raise KrytenConnectionError("JetStream delivery needs a connected NATS transport")
    return client


def check_server(client: Client) -> None:
    """Raise :class:`KrytenConnectionError` when the server is older than 2.10."""
    version = client.connected_server_version
    found = (version.major, version.minor, version.patch)
    if found < MIN_SERVER_VERSION:
        need = ".".join(map(str, MIN_SERVER_VERSION))
        raise KrytenConnectionError(
            f"delivery: jetstream needs nats-server >= {need} (multi-filter consumers); "
            f"the server runs {'.'.join(map(str, found))}: upgrade it, or use delivery: core"
        )


class JetStreamLink:
    """The stream and the ack path shared by every channel consumer of one bot.

    ``start()`` checks the server and ensures the stream; ``ack(reply)`` queues an
    acknowledgement (sent by a background task, in order); ``close()`` sends the
    queued acks and waits until the server has them.
    """

    def __init__(self, transport: NatsTransport, settings: StreamSettings) -> None:
        self._transport = transport
        self.settings = settings
        self._js: JetStreamContext | None = None
        self._acks: list[str] = []
        self._ack_ready = asyncio.Event()
        self._acker: asyncio.Task[None] | None = None
        self.acks_sent = 0
        #: the stream's name and creation time (after ``start()``): tells a stream
        #: apart from an earlier one of the same name
        self.stream_id = ""

    @property
    def js(self) -> JetStreamContext:
        """The nats-py JetStream context (after ``start()``)."""
        if self._js is None:
            raise KrytenConnectionError("JetStreamLink.start() was not called")
        return self._js

    async def start(self) -> None:
        """Check the server version and JetStream, ensure the stream, start the acker."""
        client = _client(self._transport)
        check_server(client)
        self._js = client.jetstream(timeout=_API_TIMEOUT)
        try:
            info = await self._ensure_stream()
        except (js_errors.ServiceUnavailableError, nats_errors.NoRespondersError) as exc:
            raise KrytenConnectionError(
                "delivery: jetstream needs JetStream enabled on the NATS server "
                "(nats-server -js, or a `jetstream {}` block in its config)"
            ) from exc
        self.stream_id = f"{self.settings.name} {info.created}"
        self._acker = asyncio.get_running_loop().create_task(self._ack_loop())

    async def _ensure_stream(self) -> api.StreamInfo:
        """The stream's info once it exists with our settings (created or updated)."""
        s = self.settings
        js = self.js
        try:
            info = await js.stream_info(s.name)
        except js_errors.NotFoundError:
            info = None
        if info is None:
            if not s.manage:
                raise KrytenConnectionError(
                    f"JetStream stream {s.name!r} does not exist and manage_stream is false: "
                    f"create it over {list(s.subjects)} or set jetstream.manage_stream: true"
                )
            try:
                return await js.add_stream(self._stream_config())
            except js_errors.BadRequestError as exc:
                raise KrytenConnectionError(
                    f"could not create JetStream stream {s.name!r} over {list(s.subjects)}: "
                    f"{exc.description} (another stream may already capture these subjects)"
                ) from exc
        missing = set(s.subjects) - set(info.config.subjects or ())
        if not s.manage:
            if missing:
                raise KrytenConnectionError(
                    f"JetStream stream {s.name!r} does not capture {sorted(missing)}; "
                    "add the subjects to it or set jetstream.manage_stream: true"
                )
            return info
        return await js.update_stream(self._stream_config())

    def _stream_config(self) -> api.StreamConfig:
        s = self.settings
        return api.StreamConfig(
            name=s.name,
            subjects=list(s.subjects),
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            discard=api.DiscardPolicy.OLD,
            max_age=s.max_age,
            max_bytes=s.max_bytes,
        )

    async def last_sequence(self) -> int:
        """The stream's last sequence number (0 when empty)."""
        info = await self.js.stream_info(self.settings.name)
        return int(info.state.last_seq)

    def ack(self, reply: str) -> None:
        """Queue an acknowledgement of the message whose reply subject is ``reply``."""
        self._acks.append(reply)
        self._ack_ready.set()

    async def _ack_loop(self) -> None:
        client = _client(self._transport)
        while True:
            await self._ack_ready.wait()
            await self._send_acks(client)

    async def _send_acks(self, client: Client) -> None:
        self._ack_ready.clear()
        acks, self._acks = self._acks, []
        for reply in acks:
            await client.publish(reply, b"")
        self.acks_sent += len(acks)

    async def flush_acks(self) -> None:
        """Send the queued acks now and wait until the server has them."""
        client = _client(self._transport)
        await self._send_acks(client)
        await self._transport.flush()

    async def close(self) -> None:
        """Send every queued ack and wait until the server has them; stop the acker."""
        task, self._acker = self._acker, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client = self._transport._client  # see _client()
        if client is not None and client.is_connected and self._acks:
            await self._send_acks(client)
            await self._transport.flush()


class ChannelConsumer:
    """One channel's durable pull consumer and the task that fetches from it.

    ``start()`` creates (or takes over) the consumer and starts fetching; each event
    goes to ``handler``. ``stop()`` ends the fetching (events fetched but not handed
    over come again to the next owner). ``pending`` is the server's count of events
    not yet delivered, as of the last fetch.
    """

    def __init__(
        self,
        link: JetStreamLink,
        *,
        name: str,
        subjects: list[str],
        from_start: bool,
        handler: JetStreamHandler,
        since: int | None = None,
    ) -> None:
        self._link = link
        self.name = name
        self._subjects = subjects
        self._from_start = from_start
        self._since = since  # a new consumer's first stream sequence (else: from now on)
        self._handler = handler
        self._seen_upto = 0
        self._task: asyncio.Task[None] | None = None
        self.pending = 0
        self.delivered = 0
        self.redelivered = 0
        self.rewound = False

    async def start(self) -> None:
        """Ensure the consumer (rewound to its ack floor if needed), then fetch."""
        await self._prepare()
        sub = await self._link.js.pull_subscribe_bind(
            durable=self.name, stream=self._link.settings.name
        )
        self._task = asyncio.get_running_loop().create_task(self._run(sub))

    async def _prepare(self) -> None:
        link = self._link
        jsm = link.js
        stream = link.settings.name
        try:
            info = await jsm.consumer_info(stream, self.name)
        except js_errors.NotFoundError:
            info = None
        if info is None:
            start = 1 if self._from_start else self._since or await link.last_sequence() + 1
            await self._create(start)
            return
        if not info.num_ack_pending and not info.num_redelivered:
            return
        # Events were delivered and not acknowledged: start again after the ack floor,
        # so they come back in stream order, before anything newer.
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        configured = info.config.opt_start_seq or 1
        self._seen_upto = info.delivered.stream_seq if info.delivered else 0
        self.rewound = True
        await jsm.delete_consumer(stream, self.name)
        await self._create(max((floor or 0) + 1, configured))

    async def _create(self, start: int) -> None:
        s = self._link.settings
        config = api.ConsumerConfig(
            durable_name=self.name,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=s.ack_wait,
            max_ack_pending=s.max_ack_pending,
            filter_subjects=self._subjects if len(self._subjects) > 1 else None,
            filter_subject=self._subjects[0] if len(self._subjects) == 1 else None,
            inactive_threshold=s.max_age,
        )
        await self._link.js.add_consumer(s.name, config)

    async def _run(self, sub: JetStreamContext.PullSubscription) -> None:
        batch = self._link.settings.fetch_batch
        handler = self._handler
        try:
            while True:
                try:
                    messages = await sub.fetch(batch, timeout=_FETCH_WAIT)
                except TimeoutError:  # nats-py raises its own and asyncio's: no events
                    raise_if_cancelled()
                    continue
                except Exception as exc:  # noqa: BLE001 -- the fetching must never die
                    # a reconnect in progress, or the server is busy: ask again shortly
                    raise_if_cancelled()
                    log.warning("fetching events of consumer %s failed: %r", self.name, exc)
                    await asyncio.sleep(_RETRY_DELAY)
                    continue
                for msg in messages:
                    meta = msg.metadata
                    seq = meta.sequence.stream
                    maybe_seen = meta.num_delivered > 1 or seq <= self._seen_upto
                    self.delivered += 1
                    self.redelivered += maybe_seen
                    self.pending = meta.num_pending
                    pause = handler(msg.subject, msg.data, msg.headers, msg.reply, maybe_seen)
                    if pause is not None:
                        await pause
        finally:
            with contextlib.suppress(nats_errors.Error):
                await sub.unsubscribe()

    async def stop(self) -> None:
        """Stop fetching (idempotent); the consumer stays on the server."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def raise_if_cancelled() -> None:
    """Re-raise a cancellation of this task that a call swallowed: nats-py turns a
    cancelled wait into its own timeout error, and ``asyncio.timeout`` into
    ``TimeoutError`` once the task is already cancelling. A loop that catches errors to
    try again calls it in its handlers, so that cancelling it always ends it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
