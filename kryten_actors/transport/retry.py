"""Retrying a send that provably did not leave, with tenacity.

Shared by every transport so that "retried, then :class:`PublishError`" means the
same thing over NATS and in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from kryten_actors.errors import (
    KrytenConnectionError,
    KrytenTimeoutError,
    NoResponders,
    PublishError,
)
from kryten_actors.transport.base import RetryPolicy, TransportStats

__all__ = [
    "ReplyAbandoned",
    "abandon_replies",
    "reply_abandoned",
    "reply_timeout",
    "send_with_retry",
]

T = TypeVar("T")


async def send_with_retry(
    send: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    stats: TransportStats,
    subject: str,
    retryable: tuple[type[Exception], ...],
    describe: Callable[[BaseException], str],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    no_responders: tuple[type[Exception], ...] = (),
) -> T:
    """Run ``send`` until it succeeds, retrying only exceptions in ``retryable``.

    Any other exception (including ``CancelledError``, which is never retried)
    propagates unchanged. When every attempt failed with a retryable error, raises
    :class:`PublishError` (``__cause__`` = the last error, message from ``describe``)
    and counts a publish failure — :class:`NoResponders` when the last error is one of
    ``no_responders``. Each retry is counted in ``stats.publish_retries``.
    """

    try:
        # The common case without tenacity's machinery (tens of µs per send): one try.
        return await send()
    except retryable as exc:
        first: Exception = exc
    replayed = False

    async def again() -> T:
        # tenacity takes over from here, seeing the first attempt fail as it did
        nonlocal replayed
        if not replayed:
            replayed = True
            raise first
        return await send()

    return await _with_tenacity(
        again,
        policy=policy,
        stats=stats,
        subject=subject,
        retryable=retryable,
        describe=describe,
        sleep=sleep,
        no_responders=no_responders,
    )


async def _with_tenacity(
    send: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    stats: TransportStats,
    subject: str,
    retryable: tuple[type[Exception], ...],
    describe: Callable[[BaseException], str],
    sleep: Callable[[float], Awaitable[None]],
    no_responders: tuple[type[Exception], ...],
) -> T:
    def count_retry(_: RetryCallState) -> None:
        stats.publish_retries += 1

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential(multiplier=policy.initial_backoff, max=policy.max_backoff),
        retry=retry_if_exception_type(retryable),
        before_sleep=count_retry,
        sleep=sleep,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await send()
    except retryable as exc:
        stats.publish_failures += 1
        attempts = policy.attempts
        msg = f"{describe(exc)} (subject {subject!r}, {attempts} attempt(s))"
        kind = NoResponders if isinstance(exc, no_responders) else PublishError
        raise kind(msg, subject=subject, attempts=attempts) from exc
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover


def reply_timeout(subject: str, timeout: float) -> KrytenTimeoutError:
    """The error for a request that left but got no reply: never resend it blindly."""
    msg = (
        f"no reply to the request on {subject!r} within {timeout:g} s; it may still have "
        "been executed, so do not resend it blindly"
    )
    return KrytenTimeoutError(msg, outcome_unknown=True)


class ReplyAbandoned(Exception):
    """A request's reply can no longer come: its transport closed while it waited."""


def abandon_replies(waiting: Iterable[asyncio.Future[Any]]) -> None:
    """Fail each future still waiting for a reply with :class:`ReplyAbandoned`: its
    connection closed, so the reply cannot come."""
    for future in waiting:
        if not future.done():
            future.set_exception(ReplyAbandoned())


def reply_abandoned(subject: str) -> KrytenConnectionError:
    """The error for a request that left but whose connection closed before the reply."""
    msg = (
        f"the connection closed while waiting for the reply to the request on {subject!r}; "
        "it may still have been executed, so do not resend it blindly"
    )
    return KrytenConnectionError(msg)
