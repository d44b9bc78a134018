"""SentCommand: one command as the bot put it on the bus, decoded back into data.

:func:`decode_sent` reads the publishes a :class:`~kryten_actors.transport.memory.MemoryTransport`
recorded and keeps the commands of either profile, so tests assert on what went over the
wire (the production encoder's output), not on which method was called.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from kryten_actors.errors import KrytenError
from kryten_actors.protocol.command import DEFAULT_MAX_CHAT_LENGTH, Command
from kryten_actors.protocol.commands import COMMANDS, SendChat
from kryten_actors.protocol.sent_commands import decode_command
from kryten_actors.transport.memory import PublishedMessage

__all__ = ["SentCommand", "decode_sent", "rebuild_command"]

# Wire keys a command's custom ``robot_args``/``seed_payload`` renames without a key table
# (kick/ban send the user as ``name``).
_FIELD_ALIASES: Final[Mapping[str, str]] = {"name": "username"}


@dataclass(frozen=True, slots=True)
class SentCommand:
    """One command the bot sent, decoded from the bytes on the bus.

    ``action`` is the seed wire action (``sendChat``) in the ``seed`` profile and the
    bridge command (``say``) in the ``kryten-robot`` profile; ``payload`` is the seed
    ``payload`` / the kryten-robot ``args`` (for ``state.*`` queries: the top-level
    parameters). ``command`` is the :class:`Command` model rebuilt from the command table,
    or ``None`` when the wire form does not map back to exactly one model's fields.
    ``body`` is the whole decoded JSON body.
    """

    action: str
    payload: dict[str, Any]
    channel: str | None
    domain: str | None
    correlation_id: str | None
    subject: str
    profile: str
    command: Command | None = None
    body: dict[str, Any] = field(default_factory=dict, repr=False)


def rebuild_command(
    profile: str,
    action: str,
    payload: Mapping[str, Any],
    *,
    max_chat_length: int = DEFAULT_MAX_CHAT_LENGTH,
) -> Command | None:
    """The command model that encodes to exactly ``payload`` for ``action``, else ``None``.

    A candidate counts only if re-encoding it gives back ``payload`` unchanged, so a
    rebuilt command is never a guess. kryten-robot's ``say`` is both ``SendChat`` and
    ``Unmute`` (``/unmute name``); it rebuilds as ``SendChat(..., as_command=True)``,
    which is what was sent.
    """
    if profile == "seed":
        model = COMMANDS.get(action)
        candidates = [model] if model is not None else []
    else:
        candidates = [c for c in COMMANDS.values() if c.robot_command == action]
    for cls in candidates:
        keys = cls.seed_keys if profile == "seed" else cls.robot_keys
        for aliases in ({}, _FIELD_ALIASES):
            data = {keys.get(k, aliases.get(k, k)): v for k, v in payload.items()}
            if cls is SendChat and isinstance(data.get("message"), str):
                data = {**data, **SendChat.fields_of(data["message"])}
            try:
                command = cls.build(data, max_chat_length=max_chat_length)
            except KrytenError:
                continue
            encoded = command.seed_payload() if profile == "seed" else command.robot_args()
            if encoded == dict(payload):
                return command
    return None


def _decode_one(message: PublishedMessage, max_chat_length: int) -> SentCommand | None:
    decoded = decode_command(message.subject, message.data)
    if decoded is None:
        return None
    return SentCommand(
        action=decoded.action,
        payload=decoded.payload,
        channel=decoded.channel,
        domain=decoded.domain,
        correlation_id=decoded.correlation_id,
        subject=decoded.subject,
        profile=decoded.profile,
        command=rebuild_command(
            decoded.profile, decoded.action, decoded.payload, max_chat_length=max_chat_length
        ),
        body=decoded.body,
    )


def decode_sent(
    published: Iterable[PublishedMessage], *, max_chat_length: int = DEFAULT_MAX_CHAT_LENGTH
) -> list[SentCommand]:
    """Every command among ``published`` (either profile), oldest first.

    Events, replies and anything that is not a command envelope are skipped. In the
    ``kryten-robot`` profile each request attempt is one publish, so a request the
    transport retried appears once per attempt.
    """
    commands: list[SentCommand] = []
    for message in published:
        sent = _decode_one(message, max_chat_length)
        if sent is not None:
            commands.append(sent)
    return commands
