"""Typed events about media, the playlist, polls and channel settings (reference §5)."""

from __future__ import annotations

from typing import ClassVar

from kryten_actors.protocol.event_payloads import (
    Emote,
    Media,
    MediaUpdatePayload,
    MoveVideoPayload,
    PlaylistItem,
    PollPayload,
    QueueFailPayload,
    QueuePayload,
    SetTempPayload,
    UidPayload,
    VoteskipPayload,
)
from kryten_actors.protocol.user_events import TypedEvent

__all__ = [
    "ChangeMediaEvent",
    "ClosePollEvent",
    "DeleteEvent",
    "EmoteListEvent",
    "MediaUpdateEvent",
    "MoveVideoEvent",
    "PlaylistUpdateEvent",
    "PollEvent",
    "QueueEvent",
    "QueueFailEvent",
    "SetCurrentEvent",
    "SetMotdEvent",
    "SetTempEvent",
    "VoteskipEvent",
]


class ChangeMediaEvent(TypedEvent):
    """``changeMedia``: new media starts. It has no uid: take it from :class:`SetCurrentEvent`."""

    event_names: ClassVar[tuple[str, ...]] = ("changeMedia",)
    payload: Media

    @property
    def media_id(self) -> str:
        """The provider's media id."""
        return self.payload.id

    @property
    def media_type(self) -> str:
        """The provider code (``yt``, ``rt``, ``hl``, ``cu``, …)."""
        return self.payload.type

    @property
    def title(self) -> str:
        """The media title."""
        return self.payload.title

    @property
    def seconds(self) -> float:
        """The media length in seconds (0 for live streams)."""
        return self.payload.seconds


class MediaUpdateEvent(TypedEvent):
    """``mediaUpdate``: the playback position, about every 5 s while playing."""

    event_names: ClassVar[tuple[str, ...]] = ("mediaUpdate",)
    payload: MediaUpdatePayload


class SetCurrentEvent(TypedEvent):
    """``setCurrent``: the uid of the playing item; always just before ``changeMedia``."""

    event_names: ClassVar[tuple[str, ...]] = ("setCurrent",)
    payload: int

    @property
    def uid(self) -> int:
        """The playing item's uid."""
        return self.payload


class PlaylistUpdateEvent(TypedEvent):
    """``playlist``: the whole playlist; ``[]`` means it was cleared."""

    event_names: ClassVar[tuple[str, ...]] = ("playlist",)
    payload: list[PlaylistItem]

    @property
    def items(self) -> list[PlaylistItem]:
        """The playlist entries in order."""
        return self.payload


class QueueEvent(TypedEvent):
    """``queue``: an item was added after ``after`` (a uid or ``"prepend"``)."""

    event_names: ClassVar[tuple[str, ...]] = ("queue",)
    payload: QueuePayload


class QueueFailEvent(TypedEvent):
    """``queueFail``: CyTube refused to queue (also when queueing too fast)."""

    event_names: ClassVar[tuple[str, ...]] = ("queueFail",)
    payload: QueueFailPayload


class DeleteEvent(TypedEvent):
    """``delete``: an item left the playlist."""

    event_names: ClassVar[tuple[str, ...]] = ("delete",)
    payload: UidPayload

    @property
    def uid(self) -> int:
        """The removed item's uid."""
        return self.payload.uid


class MoveVideoEvent(TypedEvent):
    """``moveVideo``: item ``from`` moved after a uid, ``"prepend"`` or ``"append"``."""

    event_names: ClassVar[tuple[str, ...]] = ("moveVideo",)
    payload: MoveVideoPayload


class SetTempEvent(TypedEvent):
    """``setTemp``: an item's temporary flag changed."""

    event_names: ClassVar[tuple[str, ...]] = ("setTemp",)
    payload: SetTempPayload


class VoteskipEvent(TypedEvent):
    """``voteskip``: the skip vote tally."""

    event_names: ClassVar[tuple[str, ...]] = ("voteskip",)
    payload: VoteskipPayload


class PollEvent(TypedEvent):
    """``newPoll`` / ``updatePoll``: a poll opened or its counts changed."""

    event_names: ClassVar[tuple[str, ...]] = ("newPoll", "updatePoll")
    payload: PollPayload

    @property
    def is_new(self) -> bool:
        """True for ``newPoll``."""
        return self.event_name.lower() == "newpoll"


class ClosePollEvent(TypedEvent):
    """``closePoll``: the poll closed (no payload)."""

    event_names: ClassVar[tuple[str, ...]] = ("closePoll",)
    payload: None = None


class SetMotdEvent(TypedEvent):
    """``setMotd``: the message of the day, an HTML string."""

    event_names: ClassVar[tuple[str, ...]] = ("setMotd",)
    payload: str

    @property
    def motd(self) -> str:
        """The MOTD HTML."""
        return self.payload


class EmoteListEvent(TypedEvent):
    """``emoteList``: every channel emote."""

    event_names: ClassVar[tuple[str, ...]] = ("emoteList",)
    payload: list[Emote]
