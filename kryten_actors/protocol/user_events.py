"""Typed events about chat and users (reference §5). Each validates from the bridge envelope."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Protocol

from pydantic import BaseModel

from kryten_actors.errors import KrytenError
from kryten_actors.protocol.event_payloads import (
    ChatMessagePayload,
    ErrorMessagePayload,
    KickPayload,
    LoginPayload,
    NamePayload,
    Number,
    PrivateMessagePayload,
    SetAFKPayload,
    SetUserMetaPayload,
    SetUserRankPayload,
    User,
)
from kryten_actors.protocol.raw_event import RawEvent

__all__ = [
    "ChatMessageEvent",
    "ChatReplies",
    "CooldownEvent",
    "ErrorMessageEvent",
    "KickEvent",
    "LoginEvent",
    "PrivateMessageEvent",
    "RankEvent",
    "SetAFKEvent",
    "SetLeaderEvent",
    "SetUserMetaEvent",
    "SetUserRankEvent",
    "TypedEvent",
    "UserCountEvent",
    "UserJoinEvent",
    "UserLeaveEvent",
    "UserListEvent",
    "attach_replies",
    "ms_to_datetime",
]


def ms_to_datetime(ms: float) -> datetime:
    """Epoch milliseconds (as CyTube sends them) to an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class TypedEvent(RawEvent):
    """Base of the typed events; ``event_names`` lists the Socket.IO names it models."""

    event_names: ClassVar[tuple[str, ...]] = ()


class ChatReplies(Protocol):
    """Where a chat-like event's :meth:`reply` goes: the channel's send path (its outbox)."""

    async def send_chat(self, message: str) -> Any:
        """Say ``message`` in the channel."""

    async def send_pm(self, to: str, message: str) -> Any:
        """Send ``message`` to ``to`` privately."""


class _MessageEvent(TypedEvent):
    payload: ChatMessagePayload

    def attach_replies(self, replies: ChatReplies) -> None:
        """Say where :meth:`reply` sends (done by the bot when it delivers the event)."""
        attach_replies(self, replies)

    async def reply(self, text: str) -> Any:
        """Answer in the event's channel (a PM is answered by PM), through the channel's
        send path, exactly as ``send_chat`` from the handler would. Works on events a bot
        delivered to a handler; the result is the sent command's result."""
        marks = self.__pydantic_private__
        replies: ChatReplies | None = None if marks is None else marks.get("replies")
        if replies is None:
            raise KrytenError(
                f"reply() needs an event the bot delivered to a handler; this "
                f"{type(self).__name__} was made by hand, so it has no channel to answer in"
            )
        if isinstance(self, PrivateMessageEvent):
            return await replies.send_pm(self.username, text)
        return await replies.send_chat(text)

    @property
    def username(self) -> str:
        """Who wrote it. ``"[server]"`` marks system notices sent to moderators."""
        return self.payload.username

    @property
    def msg(self) -> str:
        """The text exactly as CyTube sent it (HTML-escaped, possibly with tags)."""
        return self.payload.msg

    @property
    def message(self) -> str:
        """The text with HTML entities unescaped (``&lt;`` → ``<``); tags are kept."""
        return html.unescape(self.payload.msg)

    @property
    def time(self) -> datetime:
        """When CyTube stamped it (aware UTC). Replayed history has old times: compare them."""
        return ms_to_datetime(self.payload.time)

    @property
    def meta(self) -> dict[str, Any]:
        """CyTube's message meta (``addClass``, ``action``, ``shadow``, …)."""
        return self.payload.meta

    @property
    def is_shadow(self) -> bool:
        """True for a shadow-muted user's message that only moderators see: ignore these."""
        return self.payload.meta.get("shadow") is True


class ChatMessageEvent(_MessageEvent):
    """``chatMsg``: a chat line. On (re)join CyTube replays up to 15 old lines."""

    event_names: ClassVar[tuple[str, ...]] = ("chatMsg",)


class PrivateMessageEvent(_MessageEvent):
    """``pm``: a private message; delivered to the recipient *and* the sender."""

    event_names: ClassVar[tuple[str, ...]] = ("pm",)
    payload: PrivateMessagePayload

    @property
    def to(self) -> str:
        """The recipient."""
        return self.payload.to


class UserJoinEvent(TypedEvent):
    """``addUser``: a user joined."""

    event_names: ClassVar[tuple[str, ...]] = ("addUser",)
    payload: User

    @property
    def username(self) -> str:
        """The user's name."""
        return self.payload.name

    @property
    def rank(self) -> Number:
        """The user's rank."""
        return self.payload.rank


class UserLeaveEvent(TypedEvent):
    """``userLeave``: a user left."""

    event_names: ClassVar[tuple[str, ...]] = ("userLeave",)
    payload: NamePayload

    @property
    def username(self) -> str:
        """The user's name."""
        return self.payload.name


class UserListEvent(TypedEvent):
    """``userlist``: everyone in the channel; sent on join and when the bot's rank changes."""

    event_names: ClassVar[tuple[str, ...]] = ("userlist",)
    payload: list[User]

    @property
    def users(self) -> list[User]:
        """The users."""
        return self.payload


class UserCountEvent(TypedEvent):
    """``usercount``: how many are connected."""

    event_names: ClassVar[tuple[str, ...]] = ("usercount",)
    payload: int

    @property
    def count(self) -> int:
        """The count."""
        return self.payload


class SetUserRankEvent(TypedEvent):
    """``setUserRank``: a user's rank changed (1.5 = temporary leader)."""

    event_names: ClassVar[tuple[str, ...]] = ("setUserRank",)
    payload: SetUserRankPayload


class SetAFKEvent(TypedEvent):
    """``setAFK``: a user's AFK flag changed."""

    event_names: ClassVar[tuple[str, ...]] = ("setAFK",)
    payload: SetAFKPayload


class SetUserMetaEvent(TypedEvent):
    """``setUserMeta``: mute / shadow-mute changes (meta may hold personal data)."""

    event_names: ClassVar[tuple[str, ...]] = ("setUserMeta",)
    payload: SetUserMetaPayload


class SetLeaderEvent(TypedEvent):
    """``setLeader``: the new leader's name; ``""`` means nobody leads."""

    event_names: ClassVar[tuple[str, ...]] = ("setLeader",)
    payload: str

    @property
    def leader(self) -> str | None:
        """The leader, or ``None`` when there is none."""
        return self.payload or None


class CooldownEvent(TypedEvent):
    """``cooldown``: the bot was rate-limited; ``payload`` is the wait in milliseconds."""

    event_names: ClassVar[tuple[str, ...]] = ("cooldown",)
    payload: Number

    @property
    def seconds(self) -> float:
        """The wait in seconds."""
        return self.payload / 1000


class ErrorMessageEvent(TypedEvent):
    """``errorMsg``: CyTube refused something (also after a bridge reply said "ok")."""

    event_names: ClassVar[tuple[str, ...]] = ("errorMsg",)
    payload: ErrorMessagePayload

    @property
    def msg(self) -> str:
        """CyTube's error text."""
        return self.payload.msg


class KickEvent(TypedEvent):
    """``kick``: this connection was kicked."""

    event_names: ClassVar[tuple[str, ...]] = ("kick",)
    payload: KickPayload

    @property
    def reason(self) -> str:
        """The kick reason."""
        return self.payload.reason


class RankEvent(TypedEvent):
    """``rank``: the bot's own effective rank (-1 before login, 1.5 as leader)."""

    event_names: ClassVar[tuple[str, ...]] = ("rank",)
    payload: Number

    @property
    def rank(self) -> Number:
        """The bot's rank."""
        return self.payload


class LoginEvent(TypedEvent):
    """``login``: the bot's login result; it carries no rank (see :class:`RankEvent`)."""

    event_names: ClassVar[tuple[str, ...]] = ("login",)
    payload: LoginPayload


def attach_replies(event: _MessageEvent, replies: ChatReplies) -> None:
    """:meth:`_MessageEvent.attach_replies` as a plain function (the bot calls it on every
    chat line it delivers: no method lookup, the marks dict made in one step)."""
    marks = event.__pydantic_private__
    if marks is None:
        _set_private(event, {"replies": replies})
    else:
        marks["replies"] = replies


#: Sets a model's private-attribute dict straight through BaseModel's slot (what
#: ``object.__setattr__`` ends up calling, ~80 ns sooner: once per chat line delivered).
_set_private: Final = BaseModel.__dict__["__pydantic_private__"].__set__
