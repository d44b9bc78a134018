"""Reading a command back from the bytes an encoder put on the bus (the inverse of encode).

Test doubles and the test kit use :func:`decode_command` to report what a bot sent in
either profile, so they record the production encoder's output instead of re-deriving it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from kryten_actors.protocol.subjects import ROBOT_COMMAND_SUBJECT, SEED_COMMAND_PREFIX

__all__ = ["DecodedCommand", "decode_command"]

_ROBOT_ENVELOPE_KEYS: Final = frozenset({"service", "command", "meta", "args"})


@dataclass(frozen=True, slots=True)
class DecodedCommand:
    """One command envelope, decoded.

    ``action`` is the seed wire action (``sendChat``) or the bridge command (``say``);
    ``payload`` is the seed ``payload`` / the kryten-robot ``args`` (for ``state.*``
    queries, the top-level parameters); ``correlation_id`` is the seed body's
    ``correlation_id`` / kryten-robot's ``meta.request_id``; ``body`` is the whole JSON.
    """

    profile: str
    subject: str
    action: str
    payload: dict[str, Any]
    channel: str | None
    domain: str | None
    correlation_id: str | None
    body: dict[str, Any]


def decode_command(subject: str, data: bytes) -> DecodedCommand | None:
    """The command published on ``subject`` with body ``data``, or None if it is not one."""
    if subject == ROBOT_COMMAND_SUBJECT:
        body = _json_object(data)
        if body is None:
            return None
        meta = _mapping(body.get("meta"))
        if "args" in body:
            payload = _mapping(body.get("args"))
        else:
            payload = {k: v for k, v in body.items() if k not in _ROBOT_ENVELOPE_KEYS}
        return DecodedCommand(
            profile="kryten-robot",
            subject=subject,
            action=str(body.get("command", "")),
            payload=payload,
            channel=_text(meta.get("channel")),
            domain=_text(meta.get("domain")),
            correlation_id=_text(meta.get("request_id", meta.get("correlation_id"))),
            body=body,
        )
    if subject.startswith(SEED_COMMAND_PREFIX + "."):
        body = _json_object(data)
        if body is None:
            return None
        return DecodedCommand(
            profile="seed",
            subject=subject,
            action=str(body.get("action", "")),
            payload=_mapping(body.get("payload")),
            channel=_text(body.get("channel")),
            domain=_text(body.get("domain")),
            correlation_id=_text(body.get("correlation_id")),
            body=body,
        )
    return None


def _json_object(data: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
