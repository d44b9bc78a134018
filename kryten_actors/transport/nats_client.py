"""nats-py's ``Client`` made robust against subjects that are not UTF-8.

nats-py 2.16 decodes every delivered subject with ``bytes.decode()``; one message
whose subject is not valid UTF-8 raises ``UnicodeDecodeError`` inside its read loop,
which then stops without reconnecting — the connection looks healthy but delivers
nothing until the stale-connection ping gives up. Decoding with
``surrogateescape`` keeps the loop alive: the undecodable bytes become lone
surrogates, which no subject scheme accepts, so the router dead-letters the message
as ``unroutable``.
"""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client

__all__ = ["TolerantClient"]


class TolerantClient(Client):
    """A ``Client`` whose deliveries never break on a non-UTF-8 subject or reply."""

    def _build_message(
        self,
        sid: int,
        subject: bytes,
        reply: bytes,
        data: bytes,
        headers: dict[str, str] | None,
    ) -> Any:
        return self.msg_class(
            subject=subject.decode(errors="surrogateescape"),
            reply=reply.decode(errors="surrogateescape"),
            data=data,
            headers=headers,
            _client=self,
            _sid=sid,
        )
