"""What nats-py's failures mean to a user: retryable sets, reasons, connect checks."""

from __future__ import annotations

from pathlib import Path

import nkeys  # type: ignore[import-untyped]
from nats import errors as nats_errors

from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import KrytenConnectionError

__all__ = [
    "NOT_SENT",
    "NO_RESPONDERS",
    "REASONS",
    "check_nkey_seed",
    "describe",
    "is_auth_failure",
]

# Errors raised before a message was handed to the socket: resending cannot duplicate.
NOT_SENT: tuple[type[Exception], ...] = (
    nats_errors.ConnectionClosedError,
    nats_errors.ConnectionReconnectingError,
    nats_errors.OutboundBufferLimitError,
)
NO_RESPONDERS: tuple[type[Exception], ...] = (*NOT_SENT, nats_errors.NoRespondersError)

REASONS: dict[type[BaseException], str] = {
    nats_errors.NoRespondersError: (
        "no responders: nothing is subscribed to this subject; start the service answering it"
    ),
    nats_errors.OutboundBufferLimitError: (
        "NATS is reconnecting and the publish buffer (nats.pending_bytes) is full"
    ),
    nats_errors.MaxPayloadError: "the message is larger than the server's max_payload",
    nats_errors.BadSubjectError: "invalid subject; check for spaces and empty tokens",
    nats_errors.BadHeaderError: "invalid header name; use printable ASCII without ':'",
}


def describe(exc: BaseException) -> str:
    """Why a send failed, for a user."""
    default = f"NATS connection unavailable ({type(exc).__name__}); check the server and network"
    return REASONS.get(type(exc), default)


def is_auth_failure(exc: BaseException) -> bool:
    """True for the server's refusal of the credentials (whatever nats-py wrapped it in)."""
    text = str(exc).lower()
    return "authorization" in text or "authentication" in text


def check_nkey_seed(config: NatsConfig) -> None:
    """Fail early, and clearly, when ``nkey_seed_file`` is unreadable or holds no seed.

    nats-py reads the file inside ``connect()`` and lets ``nkeys`` errors escape as
    they are; this names the file and the problem instead. The seed itself never
    appears in a message.
    """
    path = config.nkey_seed_file
    if path is None:
        return
    try:
        seed = Path(path).read_bytes().strip()
    except OSError as exc:
        msg = (
            f"cannot read the nkey seed file {path} ({type(exc).__name__}: {exc.strerror}); "
            "check nats.nkey_seed_file and the file's permissions"
        )
        raise KrytenConnectionError(msg) from None
    try:
        nkeys.from_seed(bytearray(seed))
    except Exception as exc:  # noqa: BLE001 -- nkeys raises its own error types (and others)
        msg = (
            f"the nkey seed file {path} does not hold a valid nkey seed "
            f"({type(exc).__name__}); it must contain one user seed starting with 'SU'"
        )
        raise KrytenConnectionError(msg) from None
