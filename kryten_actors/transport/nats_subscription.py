"""A :class:`~kryten_actors.transport.base.Subscription` over one nats-py subscription."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from nats import errors as nats_errors
from nats.aio.subscription import Subscription as NatsSubscriptionHandle

from kryten_actors.transport.nats_client import LeanClient

__all__ = ["NatsSubscription"]


class NatsSubscription:
    """One live interest; ``on_end`` is called once when it is unsubscribed or drained.

    A *frame* subscription (``lean=True``) also had its frames routed past nats-py's
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
