"""A :class:`~kryten_actors.transport.base.Subscription` over one nats-py subscription:
opening it (:func:`open_subscription`), what delivers its messages to a handler
(:func:`deliver_messages`, :func:`deliver_frames`), and ending it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from nats import errors as nats_errors
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscriptionHandle

from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import KrytenConnectionError, KrytenValidationError
from kryten_actors.transport.base import FrameHandler, MessageHandler, TransportStats
from kryten_actors.transport.nats_client import LeanClient

__all__ = [
    "Deliver",
    "NatsSubscription",
    "deliver_frames",
    "deliver_messages",
    "open_subscription",
]

log = logging.getLogger(__name__)

Deliver = Callable[[Msg], Awaitable[None]]
"""nats-py's callback for one subscription's messages."""


def deliver_messages(handler: MessageHandler, stats: TransportStats) -> Deliver:
    """nats-py's callback for ``handler``: a failing message is counted and logged."""

    async def deliver(msg: Msg) -> None:
        try:
            await handler(msg)
        except Exception:  # one bad message must not stop the subscription
            stats.errors += 1
            log.exception("handler for subject %r failed", msg.subject)

    return deliver


def deliver_frames(handler: FrameHandler, stats: TransportStats) -> Deliver:
    """nats-py's callback for a frame handler, where its frames cannot skip nats-py."""

    async def deliver(msg: Msg) -> None:
        try:
            pause = handler(msg.subject, msg.data, msg.headers)
            if pause is not None:
                await pause
        except Exception:  # one bad message must not stop the subscription
            stats.errors += 1
            log.exception("handler for subject %r failed", msg.subject)

    return deliver


async def open_subscription(
    client: LeanClient,
    subject: str,
    deliver: Deliver,
    *,
    queue: str,
    frames: FrameHandler | None,
    config: NatsConfig,
    on_end: Callable[[NatsSubscription], None],
) -> NatsSubscription:
    """Subscribe on ``client`` (not yet confirmed by the server); ``frames``, when given,
    receives the subscription's frames straight from the socket read.

    Raises :class:`KrytenValidationError` for a malformed subject and
    :class:`KrytenConnectionError` when the client cannot subscribe.
    """
    try:
        handle = await client.subscribe(
            subject,
            queue=queue,
            cb=deliver,
            pending_msgs_limit=config.sub_pending_msgs_limit,
            pending_bytes_limit=config.sub_pending_bytes_limit,
        )
    except nats_errors.BadSubjectError as exc:
        msg = f"invalid subscription subject {subject!r}: use '.'-separated tokens, '*', '>'"
        raise KrytenValidationError(msg, errors=[("subject", str(exc))]) from exc
    except nats_errors.Error as exc:
        msg = f"cannot subscribe to {subject!r} ({type(exc).__name__}); connect first"
        raise KrytenConnectionError(msg) from exc
    subscription = NatsSubscription(client, handle, subject, on_end)
    if frames is not None:
        client.add_frame_route(subscription.sid, frames)
    return subscription


class NatsSubscription:
    """One live interest; ``on_end`` is called once when it is unsubscribed or drained.

    A *frame* subscription (opened with ``frames``) also had its frames routed past nats-py's
    ``Msg`` path; ending it removes that route.
    """

    def __init__(
        self,
        client: LeanClient,
        handle: NatsSubscriptionHandle,
        subject: str,
        on_end: Callable[[NatsSubscription], None],
    ) -> None:
        self._client = client
        self._handle = handle
        self._subject = subject
        self._on_end = on_end
        self._active = True

    @property
    def subject(self) -> str:
        return self._subject

    @property
    def sid(self) -> int:
        """nats-py's subscription id (the ``sid`` of its frames)."""
        sid: int = self._handle._id
        return sid

    def _end(self) -> bool:
        if not self._active:
            return False
        self._active = False
        self._client.remove_frame_route(self.sid)
        self._on_end(self)
        return True

    async def unsubscribe(self) -> None:
        if not self._end():
            return
        # Already closed or draining connections dropped the interest themselves.
        with contextlib.suppress(nats_errors.Error):
            await self._handle.unsubscribe()

    async def drain(self, seconds: float) -> None:
        """Unsubscribe at the server and wait for queued messages' handlers to finish.

        A frame subscription's frames are delivered as they are read, so nothing of it
        is queued in nats-py: the server's confirmation of the unsubscribe suffices.
        """
        if not self._active:
            return
        self._active = False
        self._on_end(self)
        with contextlib.suppress(nats_errors.Error, TimeoutError):
            async with asyncio.timeout(seconds):
                await self._handle.drain()  # type: ignore[no-untyped-call]
        self._client.remove_frame_route(self.sid)
