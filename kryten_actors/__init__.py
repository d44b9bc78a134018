"""kryten-actors: supervised actors for multi-channel CyTube bots over NATS.

Everything a bot author needs is importable from here.
"""

from kryten_actors.errors import (
    CommandRejected,
    HandlerError,
    KrytenConnectionError,
    KrytenError,
    KrytenTimeoutError,
    KrytenValidationError,
    MailboxFull,
    PublishError,
)

__version__ = "0.1.0"

__all__ = [
    "CommandRejected",
    "HandlerError",
    "KrytenConnectionError",
    "KrytenError",
    "KrytenTimeoutError",
    "KrytenValidationError",
    "MailboxFull",
    "PublishError",
]
