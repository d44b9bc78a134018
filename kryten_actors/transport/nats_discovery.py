"""Scatter-gather requests on NATS: one request, every reply that arrives within a window.

``$SRV.PING`` is answered by every micro service instance on the bus; a plain request
returns only the first reply. :func:`gather` collects them all.
"""

from __future__ import annotations

import asyncio
import contextlib

from nats import errors as nats_errors
from nats.aio.msg import Msg
from nats.js.api import Header

from kryten_actors.errors import KrytenConnectionError
from kryten_actors.transport.nats import NatsTransport

__all__ = ["gather"]

_NO_RESPONDERS = "503"


async def gather(
    transport: NatsTransport,
    subject: str,
    data: bytes = b"",
    *,
    window: float,
    limit: int = 10_000,
) -> list[bytes]:
    """Publish ``data`` on ``subject`` and return the bodies of the replies received
    within ``window`` seconds (at most ``limit``; it returns as soon as it has them).

    Raises :class:`KrytenConnectionError` when the transport is not connected.
    """
    client = transport._client  # same layer: the nats-py client stays in the transport
    if client is None or not client.is_connected:
        msg = "connect the NATS transport before gathering replies"
        raise KrytenConnectionError(msg)
    replies: list[bytes] = []
    enough = asyncio.Event()

    async def collect(msg: Msg) -> None:
        if msg.headers and msg.headers.get(Header.STATUS) == _NO_RESPONDERS:
            return  # the server's "nobody listens": not a reply
        if len(replies) < limit:
            replies.append(msg.data)
        if len(replies) >= limit:
            enough.set()

    inbox = client.new_inbox()
    try:
        subscription = await client.subscribe(inbox, cb=collect)
        await client.publish(subject, data, reply=inbox)
    except nats_errors.Error as exc:
        msg = f"cannot gather replies on {subject!r}: {type(exc).__name__}"
        raise KrytenConnectionError(msg) from exc
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(window):
                await enough.wait()
    finally:
        with contextlib.suppress(nats_errors.Error):
            await subscription.unsubscribe()
    return replies
