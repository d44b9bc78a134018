"""The whole exception tree of kryten-actors.

Every error the library raises on purpose derives from :class:`KrytenError`, so
``except KrytenError`` catches all of them and nothing else::

    KrytenError
    ├── KrytenConnectionError   cannot reach / authenticate to NATS, or the connection is gone
    │   └── BridgeUnavailable   the bridge serving a channel is down (bridge.down_policy: fail)
    ├── KrytenValidationError   bad configuration, bad command argument, bad subject token
    ├── KrytenTimeoutError      an ask, a request or a connect did not finish in time
    │                           (also a builtin ``TimeoutError``)
    ├── PublishError            a publish still failed after every retry
    │   └── NoResponders        a request found nobody subscribed to its subject
    ├── HandlerError            a user handler raised or overran ``handler_timeout``
    ├── CommandRejected         the bot's own checks, the bridge or CyTube refused a command
    ├── ChatQueueFull           a channel's outbound chat queue is at ``chat.queue_limit``
    └── MailboxFull             an actor's mailbox had no room under ``reject`` / ``block``

Messages say what went wrong *and what to do about it*; the attributes carry the
details for code that wants to react programmatically.
"""

from __future__ import annotations

__all__ = [
    "BridgeUnavailable",
    "ChatQueueFull",
    "CommandRejected",
    "HandlerError",
    "KrytenConnectionError",
    "KrytenError",
    "KrytenTimeoutError",
    "KrytenValidationError",
    "MailboxFull",
    "NoResponders",
    "PublishError",
]


class KrytenError(Exception):
    """Base class of every error raised by kryten-actors."""


class KrytenConnectionError(KrytenError):
    """NATS could not be reached or refused us.

    Raised by a first connect that did not succeed within ``connect_timeout`` (the
    message names the servers tried and the last cause), and by operations attempted
    on a closed connection.
    """


class BridgeUnavailable(KrytenConnectionError):
    """The bridge serving a channel is known to be down, so a command was not sent.

    Raised at once under ``bridge.down_policy: fail``, and under ``wait`` when the
    bridge did not come back within ``bridge.wait_timeout``. Nothing was sent, so the
    command may safely be retried later. ``channel`` is ``"domain/channel"``.
    """

    def __init__(self, message: str, *, channel: str = "") -> None:
        super().__init__(message)
        self.channel = channel


class KrytenValidationError(KrytenError, ValueError):
    """Input failed validation: a config field, a command argument, a subject token.

    ``errors`` lists ``(dotted.field.path, message)`` pairs, one per problem, so a
    config file with several mistakes reports all of them at once.
    """

    def __init__(self, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors: list[tuple[str, str]] = list(errors or [])


class KrytenTimeoutError(KrytenError, TimeoutError):
    """Something did not finish within its deadline (ask, request, connect, shutdown).

    ``outcome_unknown`` is true when the operation may still have taken effect on the
    other side (a command request that left but got no reply): do not blindly retry
    those, the bridge may already have run it.
    """

    def __init__(self, message: str, *, outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.outcome_unknown = outcome_unknown


class PublishError(KrytenError):
    """A publish or request failed after every retry; ``__cause__`` holds the last error."""

    def __init__(self, message: str, *, subject: str = "", attempts: int = 0) -> None:
        super().__init__(message)
        self.subject = subject
        self.attempts = attempts


class NoResponders(PublishError):
    """A request found no subscriber on its subject (NATS "no responders"), every attempt.

    Nothing was delivered, so resending later is safe. For ``kryten.robot.command`` it
    means no bridge at all is running.
    """


class HandlerError(KrytenError):
    """A user handler failed: it raised, or ran longer than ``handler_timeout``.

    ``__cause__`` holds the original exception; ``handler`` names the handler.
    """

    def __init__(self, message: str, *, handler: str = "") -> None:
        super().__init__(message)
        self.handler = handler


class CommandRejected(KrytenError):
    """A command was refused; ``source`` says by whom.

    ``"bot"``: the bot refused to send it (its settled rank is too low, it is not
    logged in, or the tracked channel state shows the uid or user does not exist;
    ``reply`` is ``None``). ``"bridge"``: the bridge answered failure (``reason`` is its
    error text, ``reply`` the decoded reply body). ``"cytube"``: the bridge accepted it
    but CyTube refused it within ``outcome_window`` (``reason`` is CyTube's own text,
    ``reply`` the refusal event's payload).
    """

    def __init__(
        self,
        message: str,
        *,
        command: str = "",
        reason: str = "",
        reply: object | None = None,
        source: str = "bridge",
    ) -> None:
        super().__init__(message)
        self.command = command
        self.reason = reason
        self.reply = reply
        self.source = source


class ChatQueueFull(KrytenError):
    """A channel's outbound chat queue holds ``chat.queue_limit`` lines already.

    The line was not queued. CyTube accepts only so many lines a second, so a bot
    that produces more for long is told here rather than losing lines silently: slow
    down, or raise ``chat.queue_limit``.
    """

    def __init__(self, message: str, *, channel: str = "", limit: int = 0) -> None:
        super().__init__(message)
        self.channel = channel
        self.limit = limit


class MailboxFull(KrytenError):
    """An actor's mailbox was full and its overflow policy does not drop silently.

    Raised to the sender under ``reject``, and by the synchronous ``tell`` under
    ``block`` (use ``await ref.put(message)`` to wait for room instead).
    """

    def __init__(self, message: str, *, recipient: str = "", capacity: int = 0) -> None:
        super().__init__(message)
        self.recipient = recipient
        self.capacity = capacity
