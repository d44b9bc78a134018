"""Dead letters described for people: reason, channel, size and a short preview."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from kryten_actors.bot.delivery import EventDelivery, EventPreview
from kryten_actors.runtime import DeadLetter

__all__ = ["PREVIEW_BYTES", "channel_of", "letter_info"]

PREVIEW_BYTES: Final = 512
"""How much of a dead letter's body a health reply shows."""
_ERROR_CHARS: Final = 300


def channel_of(recipient: str) -> str | None:
    """``domain/channel`` of a channel actor's path (``/root/domain:channel``), else None."""
    name = recipient.rsplit("/", 1)[-1]
    domain, sep, channel = name.partition(":")
    return f"{domain}/{channel}" if sep and domain and channel else None


def _body(message: Any) -> tuple[str | None, bytes | None, str | None]:
    """``(subject, body, event)`` of whatever a dead letter holds, where it has them."""
    if isinstance(message, EventDelivery):
        return message.subject, message.data, message.event
    if isinstance(message, EventPreview):  # a large body the store kept only the head of
        return message.subject, message.head, message.event
    data = getattr(message, "data", None)
    subject = getattr(message, "subject", None)
    if isinstance(data, bytes) and isinstance(subject, str):
        return subject, data, None
    if isinstance(message, BaseModel):
        event = getattr(message, "event_name", None)
        return None, message.model_dump_json().encode(), event if isinstance(event, str) else None
    return None, None, None


def letter_info(letter: DeadLetter) -> dict[str, Any]:
    """A JSON-able description of ``letter``; the preview is the body's first bytes."""
    subject, body, event = _body(letter.message)
    preview = getattr(letter, "preview", None)  # a store that keeps only a preview
    size = getattr(letter, "size", None)
    if not isinstance(preview, str):
        if body is not None:
            preview = body[:PREVIEW_BYTES].decode("utf-8", errors="replace")
        else:
            preview = repr(letter.message)[:PREVIEW_BYTES]
    if not isinstance(size, int) or size <= 0:
        size = len(body) if body is not None else None
    error = letter.error
    text = f"{type(error).__name__}: {error}" if error is not None else None
    return {
        "time": letter.timestamp,
        "reason": letter.reason,
        "recipient": letter.recipient,
        "channel": channel_of(letter.recipient),
        "event": event,
        "subject": subject,
        "size": size,
        "error": text[:_ERROR_CHARS] if text else None,
        "preview": preview[:PREVIEW_BYTES],
    }
