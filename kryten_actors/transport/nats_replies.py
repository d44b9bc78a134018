"""Request/reply over one reply subscription whose frames skip nats-py's ``Msg`` path.

nats-py's ``Client.request`` costs the kryten-robot profile's command path more than
the command's own encoding: per request it reads ``os.urandom`` for a token
(``secrets.token_hex``), wraps the reply future in ``asyncio.wait_for``, and the
reply travels nats-py's delivery (``Msg``, a queue, a task, a callback coroutine).
:class:`ReplyMux` keeps the same protocol — one wildcard inbox subscription, a
token per request in the reply subject, the server's ``503`` status for "no
responders" — with a counter for the token, a timer handle for the deadline, and
the reply frames routed straight from the socket read
(:meth:`~kryten_actors.transport.nats_client.LeanClient.add_frame_route`). The
subscription is nats-py's, so a reconnect resubscribes it like any other.

The same inbox serves the transport's *round trips* (:meth:`ReplyMux.round_trip`): a
message published to it on this connection comes back only after the server processed
every earlier SUB and PUB of the connection.

When the connection closes (``close()``, or reconnecting given up), whatever still
waits fails at once with :class:`~kryten_actors.transport.retry.ReplyAbandoned`
(:meth:`ReplyMux.abandon`) instead of sitting out its deadline.

Where the lean parser is not available, the replies come through nats-py's own
delivery to the same matching.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from nats import errors as nats_errors
from nats.aio.msg import Msg

from kryten_actors.transport.nats_client import LeanClient
from kryten_actors.transport.retry import abandon_replies

__all__ = ["Reply", "ReplyMux"]

_NO_RESPONDERS = "503"
_STATUS = "Status"  # the header nats-py's parser gives an inline status line


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply to a request (it satisfies :class:`~kryten_actors.transport.base.InboundMessage`)."""

    subject: str
    data: bytes
    headers: dict[str, str] | None
    reply: str = ""


class ReplyMux:
    """The requests of one connection, matched to their replies by a token."""

    def __init__(self) -> None:
        self._prefix = ""
        self._start = 0  # where the token starts in a reply subject
        self._waiting: dict[str, asyncio.Future[Reply]] = {}
        self._tokens = itertools.count(1)

    @property
    def in_flight(self) -> int:
        """Requests sent whose reply has not come (nor their deadline)."""
        return len(self._waiting)

    async def attach(self, client: LeanClient) -> None:
        """Subscribe the reply inbox on ``client`` (before its first request)."""
        prefix = client.new_inbox()

        async def deliver(msg: Msg) -> None:  # a nats-py whose parser the client cannot route
            self._on_reply(msg.subject, msg.data, msg.headers)

        subscription = await client.subscribe(f"{prefix}.*", cb=deliver)
        client.add_frame_route(subscription._id, self._on_reply)
        self._prefix = prefix
        self._start = len(prefix) + 1

    def _on_reply(self, subject: str, data: bytes, headers: Mapping[str, str] | None) -> None:
        future = self._waiting.pop(subject[self._start :], None)
        if future is not None and not future.done():
            future.set_result(Reply(subject, data, dict(headers) if headers else None))

    async def request(
        self,
        client: LeanClient,
        subject: str,
        data: bytes,
        headers: dict[str, str] | None,
        timeout: float,  # noqa: ASYNC109 - the request's deadline
    ) -> Reply:
        """Publish ``data`` to ``subject`` and return the reply.

        Raises nats-py's ``TimeoutError`` when none comes within ``timeout`` seconds and
        ``NoRespondersError`` when the server says nothing listens, as ``Client.request``;
        ``ReplyAbandoned`` when the connection closes first.
        """
        token, future = self._expect()
        try:
            await client.publish(
                subject,
                data,
                reply=f"{self._prefix}.{token}",
                headers=headers,
            )
            deadline = asyncio.get_running_loop().call_later(timeout, _expire, future)
            try:
                reply = await future
            finally:
                deadline.cancel()
        finally:
            self._waiting.pop(token, None)
        if reply is _EXPIRED:
            raise nats_errors.TimeoutError
        status = reply.headers.get(_STATUS) if reply.headers else None
        if status == _NO_RESPONDERS and not reply.data:
            raise nats_errors.NoRespondersError
        return reply

    async def round_trip(self, client: LeanClient, timeout: float) -> None:  # noqa: ASYNC109 - the round trip's deadline
        """Publish an empty message to this inbox and wait until it comes back: the server
        then has processed everything this connection sent before it. Raises
        ``TimeoutError`` when that takes longer than ``timeout`` seconds (publish included),
        ``ReplyAbandoned`` when the connection closes first."""
        token, future = self._expect()
        try:
            async with asyncio.timeout(timeout):
                await client.publish(f"{self._prefix}.{token}", b"")
                await future
        finally:
            self._waiting.pop(token, None)

    def abandon(self) -> None:
        """Fail every request and round trip still waiting: their replies cannot come."""
        waiting, self._waiting = self._waiting, {}
        abandon_replies(waiting.values())

    def _expect(self) -> tuple[str, asyncio.Future[Reply]]:
        """A fresh token and the future its message will resolve."""
        token = str(next(self._tokens))
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        return token, future


_EXPIRED = Reply("", b"", None)


def _expire(future: asyncio.Future[Reply]) -> None:
    if not future.done():
        future.set_result(_EXPIRED)
