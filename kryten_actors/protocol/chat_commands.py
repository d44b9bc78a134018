"""Commands for chat and moderation: chat, PM, kick, ban, unban, mute, unmute, leader."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator

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


def _within_chat_limit(value: str, info: ValidationInfo) -> str:
    context = info.context if isinstance(info.context, dict) else {}
    limit = int(context.get("max_chat_length", DEFAULT_MAX_CHAT_LENGTH))
    if len(value) > limit:
        msg = (
            f"is {len(value)} characters; CyTube's limit is {limit}. Split the text or raise "
            "max_chat_length if the channel allows more"
        )
        raise ValueError(msg)
    return value


class SendChat(Command):
    """Say ``message`` in chat. Slash commands (``/me``, ``/sp``, …) pass through.

    ``message`` must be 1..320 characters (CyTube's default limit); use
    ``SendChat.build({"message": text}, max_chat_length=n)`` for another limit.
    """

    method = "send_chat"
    robot_command = "say"
    min_rank = 0
    message: str = Field(min_length=1)

    @field_validator("message")
    @classmethod
    def _fits(cls, value: str, info: ValidationInfo) -> str:
        return _within_chat_limit(value, info)


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
        return _within_chat_limit(value, info)


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
