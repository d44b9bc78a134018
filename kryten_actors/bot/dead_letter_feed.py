"""Publishing dead letters on NATS, so operators can watch them live.

With ``publish_dead_letters: true`` every dead letter the bot records is also published
on ``kryten.deadletters.{service_name}.{channel}`` as one JSON object::

    {"bot": "dice-bot", "reason": "decode_failed", "channel": "lounge",
     "domain": "cytu.be", "recipient": "/root/cytu.be:lounge",
     "subject": "kryten.events.cytube.lounge.chatmsg", "event": "chatmsg",
     "size": 5123, "preview": "{\\"channel\\": \\"lounge\\", …", "truncated": true,
     "error": "ValueError: …", "time": "2026-12-01T10:00:00.123+00:00",
     "correlation_id": "…", "trace_id": "…", "traceparent": "00-…"}

``preview`` is at most :data:`PREVIEW_BYTES` of the body (decoded as UTF-8 with
replacement characters), ``size`` the whole body's length. A letter that has no channel
(an unroutable subject) goes to the ``_unrouted`` token. An incoming ``traceparent`` is
passed on as a header, so the letter joins the event's trace. ``kryten-actors
deadletters --follow`` prints them.

Publishing never slows the bot down or loses a count: letters queue in a bounded
buffer (:data:`QUEUE_LIMIT`) drained by one task; a full buffer drops the *letter's
publication* (``DeadLetterFeed.dropped``), never the letter, whose count the bot keeps
in health anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from kryten_actors.bot.delivery import EventDelivery, EventPreview, correlation_of
from kryten_actors.errors import KrytenError
from kryten_actors.protocol.subjects import SubjectScheme, sanitize_token
from kryten_actors.runtime import DeadLetter, DeadLetters
from kryten_actors.transport.base import Transport

__all__ = [
    "DEAD_LETTER_PREFIX",
    "PREVIEW_BYTES",
    "QUEUE_LIMIT",
    "UNROUTED",
    "DeadLetterFeed",
    "dead_letter_subject",
    "describe_letter",
]

log = logging.getLogger("kryten_actors.bot.deadletters")

DEAD_LETTER_PREFIX: Final = "kryten.deadletters"
PREVIEW_BYTES: Final = 1024
QUEUE_LIMIT: Final = 10_000
UNROUTED: Final = "_unrouted"
_ERROR_CHARS: Final = 500
_TRACE_HEADERS: Final[tuple[str, ...]] = ("traceparent", "tracestate")


def dead_letter_subject(bot: str, channel: str | None) -> str:
    """``kryten.deadletters.{bot}.{channel}`` (``_unrouted`` without a channel)."""
    token = sanitize_token(channel) if channel else ""
    return f"{DEAD_LETTER_PREFIX}.{sanitize_token(bot) or 'bot'}.{token or UNROUTED}"


def _parts(
    message: Any, size: int
) -> tuple[str | None, bytes | None, int, dict[str, str], str | None]:
    """``(subject, body, size, headers, correlation ID)`` of whatever a letter holds."""
    if isinstance(message, EventPreview):  # what the store keeps of a dead event
        trace = dict(message.trace_headers or {})
        return message.subject, message.head, message.size, trace, message.correlation_id
    if isinstance(message, EventDelivery):
        size = len(message.data)
        return message.subject, message.data, size, dict(message.headers or {}), None
    data = getattr(message, "data", None)
    subject = getattr(message, "subject", None)
    if isinstance(data, bytes | bytearray) and isinstance(subject, str):
        headers = getattr(message, "headers", None) or {}
        return subject, bytes(data), max(size, len(data)), dict(headers), None
    correlation = getattr(message, "correlation_id", None)
    dump = getattr(message, "model_dump_json", None)
    body = dump().encode() if callable(dump) else repr(message).encode(errors="replace")
    found = correlation if isinstance(correlation, str) else None
    return None, body, max(size, len(body)), {}, found


def _trace_id(headers: dict[str, str], correlation_id: str | None) -> str | None:
    parent = headers.get("traceparent", "")
    fields = parent.split("-")
    if len(fields) == 4 and len(fields[1]) == 32:
        return fields[1]
    if correlation_id:
        with contextlib.suppress(ValueError):
            return uuid.UUID(correlation_id).hex
    return None


def describe_letter(
    letter: DeadLetter, *, bot: str, scheme: SubjectScheme
) -> tuple[str | None, dict[str, Any], dict[str, str]]:
    """``(channel, JSON-able body, trace headers)`` of the published form of ``letter``."""
    subject, body, size, headers, correlation_id = _parts(letter.message, letter.size)
    parsed = scheme.parse_event(subject) if subject else None
    name = letter.recipient.rsplit("/", 1)[-1]
    domain, sep, channel = name.partition(":")
    if not sep:
        domain, channel = (parsed.domain or "", parsed.channel) if parsed else ("", "")
    data = body or b""
    if correlation_id is None:
        # the same bounded lookup as the previews' (no decode: a body may be huge or hostile)
        correlation_id = correlation_of(data)
    error = letter.error
    info: dict[str, Any] = {
        "bot": bot,
        "reason": letter.reason,
        "channel": channel or None,
        "domain": domain or None,
        "recipient": letter.recipient,
        "subject": subject,
        "event": parsed.event if parsed else None,
        "size": size,
        "preview": data[:PREVIEW_BYTES].decode("utf-8", errors="replace"),
        "truncated": size > min(len(data), PREVIEW_BYTES),
        "error": f"{type(error).__name__}: {error}"[:_ERROR_CHARS] if error else None,
        "time": datetime.fromtimestamp(letter.timestamp, UTC).isoformat(timespec="milliseconds"),
        "correlation_id": correlation_id,
        "trace_id": _trace_id(headers, correlation_id),
        "traceparent": headers.get("traceparent"),
    }
    trace: dict[str, str] = {key: headers[key] for key in _TRACE_HEADERS if key in headers}
    return channel or None, info, trace


class DeadLetterFeed:
    """Publishes every letter recorded in ``letters`` until stopped.

    ``start()`` subscribes to the store and starts the publishing task; ``stop()``
    publishes what is queued (within ``timeout`` seconds) and ends it. ``published``,
    ``dropped`` (buffer full) and ``failed`` (publish errors) count the outcomes.
    """

    def __init__(
        self,
        *,
        transport: Transport,
        letters: DeadLetters,
        bot: str,
        scheme: SubjectScheme,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        self._transport = transport
        self._letters = letters
        self._bot = bot
        self._scheme = scheme
        self._queue: deque[DeadLetter] = deque()
        self._limit = queue_limit
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._stopping = False
        self.published = 0
        self.dropped = 0
        self.failed = 0

    def _on_letter(self, letter: DeadLetter) -> None:
        if len(self._queue) >= self._limit:
            self.dropped += 1
            return
        self._queue.append(letter)
        self._wake.set()

    async def start(self) -> None:
        """Begin publishing the letters recorded from now on."""
        self._unsubscribe = self._letters.subscribe(self._on_letter)
        self._task = asyncio.create_task(self._drain(), name="kryten-dead-letter-feed")

    async def stop(self, timeout: float = 2.0) -> None:  # noqa: ASYNC109 - a shutdown budget
        """Stop taking letters, publish the queued ones within ``timeout``, then end."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            self.dropped += len(self._queue)
            self._queue.clear()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _drain(self) -> None:
        while True:
            while self._queue:
                await self._publish(self._queue.popleft())
            if self._stopping:
                return
            self._wake.clear()
            await self._wake.wait()

    async def _publish(self, letter: DeadLetter) -> None:
        try:
            channel, info, headers = describe_letter(letter, bot=self._bot, scheme=self._scheme)
            subject = dead_letter_subject(self._bot, channel)
            body = json.dumps(info, ensure_ascii=False).encode()
            await self._transport.publish(subject, body, headers=headers or None)
        except (KrytenError, ValueError) as exc:
            self.failed += 1
            log.warning("could not publish a dead letter (%s): %s", letter.reason, exc)
            return
        self.published += 1
