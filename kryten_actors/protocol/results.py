"""What a command's reply means: :class:`CommandResult` and its typed variants.

A result says the bridge **accepted** the command — not that CyTube carried it out. CyTube
may still refuse it afterwards in a separate event (``errorMsg``, ``queueFail``,
``channelRankFail``; reference §14), which reaches the channel as an ordinary event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field

from kryten_actors.protocol.event_payloads import Emote, PlaylistItem, User

__all__ = [
    "AddMediaResult",
    "BridgeConfigResult",
    "CommandResult",
    "EmotesResult",
    "MotdResult",
    "PingResult",
    "PlaylistResult",
    "UserResult",
    "UserlistResult",
]


class CommandResult(BaseModel):
    """The bridge accepted a command. ``data`` is the reply's ``data`` object, unchanged.

    ``accepted`` is always true on a returned result (a refusal raises ``CommandRejected``);
    it exists so code reading results does not mistake "accepted" for "done".
    ``confirmed`` tells what CyTube itself said, where it says anything.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    reply_keys: ClassVar[Mapping[str, str]] = {}
    """Result field → key of the reply's ``data`` it is read from."""

    accepted: bool = True
    confirmed: bool | None = None
    """CyTube's verdict where one can be told (``outcome_window``): True when CyTube showed
    it did the command, False when it said nothing within the window, None when this
    command gets no attributable answer (or in the seed profile without a bridge echo)."""
    data: dict[str, Any] = Field(default_factory=dict)
    correlation_id: str = ""
    """The correlation ID the command was sent with (set by the bot's sender)."""

    @classmethod
    def from_reply_data(cls, data: Mapping[str, Any], correlation_id: str = "") -> Self:
        """Build the result from a successful reply's ``data`` object."""
        fields: dict[str, Any] = {"data": dict(data), "correlation_id": correlation_id}
        for field, key in cls.reply_keys.items():
            if key in data:
                fields[field] = data[key]
        return cls.model_validate(fields)


class AddMediaResult(CommandResult):
    """``addvideo``: the new item's ``uid``; ``None`` if CyTube did not confirm within 8 s."""

    reply_keys: ClassVar[Mapping[str, str]] = {"uid": "uid"}
    uid: int | None = None


class UserlistResult(CommandResult):
    """``state.userlist``: the bridge's stored user list (may lag behind CyTube)."""

    reply_keys: ClassVar[Mapping[str, str]] = {"users": "userlist"}
    users: list[User] = Field(default_factory=list)


class PlaylistResult(CommandResult):
    """``state.playlist``: the bridge's stored playlist items."""

    reply_keys: ClassVar[Mapping[str, str]] = {"items": "playlist"}
    items: list[PlaylistItem] = Field(default_factory=list)


class MotdResult(CommandResult):
    """``state.motd``: the stored MOTD HTML."""

    reply_keys: ClassVar[Mapping[str, str]] = {"motd": "motd"}
    motd: str = ""


class EmotesResult(CommandResult):
    """``state.emotes``: the stored emotes."""

    reply_keys: ClassVar[Mapping[str, str]] = {"emotes": "emotes"}
    emotes: list[Emote] = Field(default_factory=list)


class UserResult(CommandResult):
    """``state.user``: the user and profile, both ``None`` when the user is absent."""

    reply_keys: ClassVar[Mapping[str, str]] = {"user": "user", "profile": "profile"}
    user: User | None = None
    profile: dict[str, Any] | None = None


class PingResult(CommandResult):
    """``system.ping``: the bridge's clock and uptime (which tell its process apart)."""

    reply_keys: ClassVar[Mapping[str, str]] = {
        "timestamp": "timestamp",
        "uptime_seconds": "uptime_seconds",
        "version": "version",
    }
    timestamp: str = ""
    uptime_seconds: float = 0.0
    version: str = ""


class BridgeConfigResult(CommandResult):
    """``system.config``: the bridge's CyTube account name (``username``), among the rest."""

    @property
    def username(self) -> str | None:
        """The bridge's CyTube account (``cytube.user``), if it reported one."""
        cytube = self.data.get("cytube")
        user = cytube.get("user") if isinstance(cytube, dict) else None
        return user if isinstance(user, str) and user else None
