"""Payload shapes of the CyTube events (reference §5), as frozen pydantic models.

Payload models keep unknown extra fields (``extra="allow"``) so nothing CyTube adds is lost,
and default every field CyTube or the bridge may omit. Times CyTube sends in epoch
milliseconds stay plain integers here (fast to validate); the event classes expose them as
aware datetimes.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = [
    "ChatMessagePayload",
    "Emote",
    "ErrorMessagePayload",
    "KickPayload",
    "LoginPayload",
    "Media",
    "MediaUpdatePayload",
    "MoveVideoPayload",
    "NamePayload",
    "Number",
    "Payload",
    "PlaylistItem",
    "PollPayload",
    "PrivateMessagePayload",
    "QueueFailPayload",
    "QueuePayload",
    "SetAFKPayload",
    "SetTempPayload",
    "SetUserMetaPayload",
    "SetUserRankPayload",
    "UidPayload",
    "User",
    "UserProfile",
    "VoteskipPayload",
]


Number = int | float
"""CyTube numbers: ints stay ints (so re-encoding is byte-identical), 1.5 stays a float."""


class Payload(BaseModel):
    """Base of every payload model: frozen, extra fields kept."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class UserProfile(Payload):
    """``{image, text}`` of a user."""

    image: str = ""
    text: str = ""


class User(Payload):
    """A CyTube user object ``{name, rank, profile, meta}``.

    ``meta`` holds ``afk``/``muted`` and, when the bot has rank ≥ 2, ``smuted``, ``aliases``
    and a cloaked ``ip`` — treat those as personal data and never log them.
    """

    name: str
    rank: Number = 0
    profile: UserProfile = Field(default_factory=UserProfile)
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def afk(self) -> bool:
        """True if the user is marked AFK."""
        return bool(self.meta.get("afk", False))

    @property
    def muted(self) -> bool:
        """True if the user is muted (not shadow-muted)."""
        return bool(self.meta.get("muted", False))


class ChatMessagePayload(Payload):
    """``chatMsg``: ``msg`` is HTML-escaped; ``time`` is epoch milliseconds.

    ``message`` is accepted in place of ``msg`` (the seed's test payloads use it).
    """

    username: str
    msg: str = Field(validation_alias=AliasChoices("msg", "message"))
    meta: dict[str, Any] = Field(default_factory=dict)
    time: int = 0


class PrivateMessagePayload(ChatMessagePayload):
    """``pm``: a chat message plus the recipient ``to`` (sent to recipient and sender)."""

    to: str = ""


class NamePayload(Payload):
    """Payloads that only name a user or an item: ``userLeave``, ``removeEmote``, …"""

    name: str


class Media(Payload):
    """A media object. ``changeMedia`` adds ``currentTime`` and ``paused`` (and has no uid)."""

    id: str
    title: str = ""
    seconds: Number = 0
    duration: str = ""
    type: str
    meta: dict[str, Any] = Field(default_factory=dict)
    current_time: Number = Field(default=0, alias="currentTime")
    paused: bool = False


class MediaUpdatePayload(Payload):
    """``mediaUpdate``: playback position, about every 5 s while playing."""

    current_time: Number = Field(alias="currentTime")
    paused: bool = False


class PlaylistItem(Payload):
    """One playlist entry ``{media, uid, temp, queueby}``."""

    media: Media
    uid: int
    temp: bool = False
    queueby: str = ""


class QueuePayload(Payload):
    """``queue``: ``after`` is a uid or ``"prepend"``."""

    item: PlaylistItem
    after: int | str


class UidPayload(Payload):
    """``delete``: ``{uid}``."""

    uid: int


class MoveVideoPayload(Payload):
    """``moveVideo``: ``after`` is a uid, ``"prepend"`` or ``"append"``."""

    from_: int = Field(alias="from")
    after: int | str


class SetTempPayload(Payload):
    """``setTemp``: ``{uid, temp}``."""

    uid: int
    temp: bool


class PollPayload(Payload):
    """``newPoll`` / ``updatePoll``. Hidden polls carry ``"?"`` / ``"N?"`` counts."""

    title: str
    options: list[str] = Field(default_factory=list)
    counts: list[int | str] = Field(default_factory=list)
    initiator: str = ""
    timestamp: int = 0


class SetUserRankPayload(Payload):
    """``setUserRank``: ``rank`` 1.5 means temporary leader."""

    name: str
    rank: Number


class SetAFKPayload(Payload):
    """``setAFK``: ``{name, afk}``."""

    name: str
    afk: bool


class SetUserMetaPayload(Payload):
    """``setUserMeta``: mute and shadow-mute changes arrive here."""

    name: str
    meta: dict[str, Any] = Field(default_factory=dict)


class ErrorMessagePayload(Payload):
    """``errorMsg``: how CyTube rejects bad input; ``msg`` names what was refused."""

    msg: str
    alert: bool = False
    code: str | None = None


class KickPayload(Payload):
    """``kick``: only the kicked connection receives it."""

    reason: str = ""


class LoginPayload(Payload):
    """``login``: ``{success, name, guest?}`` or ``{success: false, error}``; no rank."""

    success: bool
    name: str = ""
    guest: bool = False
    error: str = ""


class QueueFailPayload(Payload):
    """``queueFail``: also sent when queueing too fast."""

    msg: str
    link: str = ""
    id: str = ""


class VoteskipPayload(Payload):
    """``voteskip``: ``{count, need}``."""

    count: int
    need: int


class Emote(Payload):
    """A channel emote ``{name, image, source}``; ``source`` is a server-computed regex."""

    name: str
    image: str = ""
    source: str = ""
