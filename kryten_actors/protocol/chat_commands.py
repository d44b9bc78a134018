"""Commands for chat and moderation: chat, PM, kick, ban, unban, mute, unmute, leader."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from kryten_actors.protocol.chat_text import VERBATIM_PREFIX, utf16_length, verbatim
from kryten_actors.protocol.command import (
    DEFAULT_MAX_CHAT_LENGTH,
    Command,
    Username,
    check_username,
)

__all__ = [
    "AssignLeader",
    "Ban",
    "Kick",
    "Mute",
    "SendChat",
    "SendPM",
    "ShadowMute",
    "Unban",
    "Unmute",
]


def chat_limit_of(info: ValidationInfo) -> int:
    """The chat length limit in a validation context (``max_chat_length``), else 320."""
    context = info.context if isinstance(info.context, dict) else {}
    return int(context.get("max_chat_length", DEFAULT_MAX_CHAT_LENGTH))


def _within_chat_limit(value: str, limit: int) -> str:
    length = utf16_length(value)
    if length > limit:
        msg = (
            f"is {length} characters (UTF-16 units, as CyTube counts); CyTube's limit is "
            f"{limit}. Split the text (send_chat splits by default) or raise "
            "max_chat_length if the channel allows more"
        )
        raise ValueError(msg)
    return value


def _wire_text(message: str, action: str | None, as_command: bool) -> str:
    if as_command:
        return message
    if action == "me":
        return f"/me {message}"
    return verbatim(message)


class SendChat(Command):
    """Say ``message`` in chat, shown exactly as written.

    A leading ``/`` is **not** a chat command: CyTube would run ``/ban x`` with the
    bot's rank, so the line is sent with an invisible WORD JOINER in front and people
    see the text verbatim. ``action="me"`` sends an action line (``/me waves``);
    ``as_command=True`` sends ``message`` as it is, chat commands included — an
    explicit opt-in; never pass user text with it. Prefer the typed commands
    (``Kick``, ``Mute``…) over chat commands.

    The text on the wire must be 1..320 UTF-16 units (CyTube's default limit); use
    ``SendChat.build({"message": text}, max_chat_length=n)`` for another limit.
    """

    method = "send_chat"
    robot_command = "say"
    min_rank = 0
    # chat_action and as_command come first so the message validator can see them;
    # the argument is called ``action`` (``SendChat(message=..., action="me")``)
    chat_action: Literal["me"] | None = Field(default=None, alias="action")
    as_command: bool = False
    message: str = Field(min_length=1)

    @field_validator("message")
    @classmethod
    def _fits(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            msg = "is blank; CyTube drops blank lines"
            raise ValueError(msg)
        wire = _wire_text(value, info.data.get("chat_action"), bool(info.data.get("as_command")))
        _within_chat_limit(wire, chat_limit_of(info))
        return value

    @model_validator(mode="after")
    def _one_mode(self) -> SendChat:
        if self.chat_action is not None and self.as_command:
            msg = "give action or as_command, not both"
            raise ValueError(msg)
        return self

    @property
    def text(self) -> str:
        """The line as it goes on the wire."""
        return _wire_text(self.message, self.chat_action, self.as_command)

    @classmethod
    def fields_of(cls, text: str) -> dict[str, Any]:
        """The ``message``/``action``/``as_command`` arguments that put ``text`` on the wire."""
        if text.startswith(VERBATIM_PREFIX + "/"):
            return {"message": text[len(VERBATIM_PREFIX) :]}
        if text.startswith("/me "):
            return {"message": text[4:], "action": "me"}
        if text.startswith("/"):
            return {"message": text, "as_command": True}
        return {"message": text}

    @property
    def is_chat_command(self) -> bool:
        """True when CyTube will run the line as a chat command (no chat line shows)."""
        return self.as_command and self.message.startswith("/")

    def seed_payload(self) -> dict[str, Any]:
        return {"message": self.text}

    def robot_args(self) -> dict[str, Any]:
        return {"message": self.text}


class SendPM(Command):
    """Send ``message`` privately to user ``to`` (same length rule as :class:`SendChat`)."""

    method = "send_pm"
    robot_command = "pm"
    min_rank = 0
    robot_keys: ClassVar[Mapping[str, str]] = {"to": "to", "msg": "message"}
    to: Username
    message: str = Field(min_length=1)

    @field_validator("message")
    @classmethod
    def _fits(cls, value: str, info: ValidationInfo) -> str:
        return _within_chat_limit(value, chat_limit_of(info))


class _ChatModeration(Command):
    """Kick and ban: CyTube has chat commands only (``/kick name reason``)."""

    username: Username
    reason: str = Field(default="", max_length=200)

    def seed_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"username": self.username}
        if self.reason:
            payload["reason"] = self.reason
        return payload

    def robot_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"name": self.username}
        if self.reason:
            args["reason"] = self.reason
        return args


class Kick(_ChatModeration):
    """Kick ``username`` from the channel, with an optional ``reason``."""

    method = "kick_user"
    robot_command = "kick"
    min_rank = 1.5


class Ban(_ChatModeration):
    """Ban ``username`` from the channel, with an optional ``reason``."""

    method = "ban_user"
    robot_command = "ban"
    min_rank = 2


class Unban(Command):
    """Lift the ban of ``username``; the bridge looks up the ban id(s) itself.

    ``ban_id`` (from a ``banlist`` event) is optional; an id alone does not work.
    """

    method = "unban"
    robot_command = "unban"
    min_rank = 2
    seed_keys: ClassVar[Mapping[str, str]] = {"ban_id": "ban_id", "name": "username"}
    username: Username
    ban_id: int | None = Field(default=None, ge=0)

    def robot_args(self) -> dict[str, Any]:
        if self.ban_id is None:
            return {"username": self.username}
        return {"ban_id": self.ban_id, "name": self.username}


class _UserTarget(Command):
    seed_keys: ClassVar[Mapping[str, str]] = {"username": "username"}
    robot_keys: ClassVar[Mapping[str, str]] = {"name": "username"}
    username: Username


class Mute(_UserTarget):
    """Mute ``username`` (the bridge's ``mute`` command, by name)."""

    method = "mute_user"
    robot_command = "mute"
    min_rank = 1.5


class ShadowMute(_UserTarget):
    """Shadow-mute ``username``: only moderators see their messages."""

    method = "shadow_mute_user"
    robot_command = "smute"
    min_rank = 1.5


class Unmute(_UserTarget):
    """Lift a mute or shadow mute; kryten-robot has no ``unmute``, so it is ``say /unmute``."""

    method = "unmute_user"
    robot_command = "say"
    min_rank = 1.5

    def robot_args(self) -> dict[str, Any]:
        return {"message": f"/unmute {self.username}"}


class AssignLeader(Command):
    """Make ``username`` leader; ``""`` clears the leader.

    Needs rank 2: CyTube **kicks** a lower-ranked sender, so the bot must check first.
    """

    method = "assign_leader"
    robot_command = "assignLeader"
    min_rank = 2
    seed_keys: ClassVar[Mapping[str, str]] = {"username": "username"}
    robot_keys: ClassVar[Mapping[str, str]] = {"name": "username"}
    username: str

    @field_validator("username")
    @classmethod
    def _name_or_empty(cls, value: str) -> str:
        return value if value == "" else check_username(value)
