"""A simulated CyTube playlist: items with uids, the playing item, and the events changes cause.

Every mutating method returns the :class:`~kryten_actors.demo.effect.Effect` list CyTube would
broadcast for it, in CyTube's order (``queue`` then ``setPlaylistMeta``; ``setCurrent`` then
``changeMedia``, ``drinkCount`` and ``voteskip``), as in ``tests/fixtures/events.jsonl``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from kryten_actors.demo.effect import Effect

__all__ = ["Playlist", "PlaylistEntry", "format_time"]

LEAD_IN_SECONDS = 3.0
"""CyTube starts a new item at ``currentTime -3``, paused, before playing it."""


def _number(value: float) -> float | int:
    """A whole number as ``int`` so it serializes as CyTube sends it (``-3``, not ``-3.0``)."""
    return int(value) if float(value).is_integer() else value


def format_time(seconds: int) -> str:
    """CyTube's ``mm:ss`` (``h:mm:ss`` past an hour) rendering of a duration."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


@dataclass(slots=True)
class PlaylistEntry:
    """One queued item; ``seconds == 0`` means a livestream (duration ``--:--``)."""

    uid: int
    media_id: str
    title: str
    seconds: int
    media_type: str
    temp: bool
    queueby: str
    meta: dict[str, Any] = field(default_factory=dict)

    def media_payload(self) -> dict[str, Any]:
        """CyTube's media object ``{id, title, seconds, duration, type, meta}``."""
        duration = format_time(self.seconds) if self.seconds else "--:--"
        return {
            "id": self.media_id,
            "title": self.title,
            "seconds": self.seconds,
            "duration": duration,
            "type": self.media_type,
            "meta": dict(self.meta),
        }

    def payload(self) -> dict[str, Any]:
        """CyTube's playlist item ``{media, uid, temp, queueby}``."""
        return {
            "media": self.media_payload(),
            "uid": self.uid,
            "temp": self.temp,
            "queueby": self.queueby,
        }


@dataclass(slots=True)
class Playlist:
    """Items in play order, the playing uid, its position and the vote-skip and drink counters."""

    entries: list[PlaylistEntry] = field(default_factory=list)
    current_uid: int | None = None
    next_uid: int = 0
    position: float = 0.0
    paused: bool = False
    voteskippers: set[str] = field(default_factory=set)
    drinks: int = 0

    # -- reading -------------------------------------------------------------------------
    def find(self, uid: int) -> PlaylistEntry | None:
        """The entry with ``uid``, or ``None``."""
        return next((entry for entry in self.entries if entry.uid == uid), None)

    def holds_media(self, media_id: str) -> bool:
        """True if an item with this media id is queued (CyTube refuses duplicates)."""
        return any(entry.media_id == media_id for entry in self.entries)

    @property
    def current(self) -> PlaylistEntry | None:
        """The playing entry, if any."""
        return None if self.current_uid is None else self.find(self.current_uid)

    def payload(self) -> list[dict[str, Any]]:
        """The ``playlist`` event payload (and ``state.playlist`` data)."""
        return [entry.payload() for entry in self.entries]

    def meta_payload(self) -> dict[str, Any]:
        """The ``setPlaylistMeta`` payload ``{count, rawTime, time}``."""
        raw = sum(entry.seconds for entry in self.entries)
        return {"count": len(self.entries), "rawTime": raw, "time": format_time(raw)}

    def change_media_payload(self) -> dict[str, Any] | None:
        """The ``changeMedia`` payload for the playing item at its current position."""
        entry = self.current
        if entry is None:
            return None
        return {
            **entry.media_payload(),
            "currentTime": _number(self.position),
            "paused": self.paused,
        }

    # -- changing ------------------------------------------------------------------------
    def add(
        self,
        *,
        media_id: str,
        title: str,
        seconds: int,
        media_type: str,
        queueby: str,
        temp: bool = True,
        pos: str = "end",
        meta: dict[str, Any] | None = None,
    ) -> tuple[PlaylistEntry, list[Effect]]:
        """Queue an item at the end or after the playing one (``pos="next"``).

        Returns the new entry and its effects; an empty playlist starts playing it.
        """
        entry = PlaylistEntry(
            self.next_uid, media_id, title, seconds, media_type, temp, queueby, meta or {}
        )
        self.next_uid += 1
        after: int | str
        current = self.current
        if not self.entries:
            after, index = "prepend", 0
        elif pos == "next" and current is not None:
            after, index = current.uid, self.entries.index(current) + 1
        else:
            after, index = self.entries[-1].uid, len(self.entries)
        self.entries.insert(index, entry)
        effects = [
            Effect("queue", {"item": entry.payload(), "after": after}),
            Effect("setPlaylistMeta", self.meta_payload()),
        ]
        if self.current_uid is None:
            effects += self.play(entry.uid)
        return entry, effects

    def play(self, uid: int) -> list[Effect]:
        """Switch to ``uid``: ``setCurrent`` then ``changeMedia`` (``[]`` if it is unknown)."""
        entry = self.find(uid)
        if entry is None:
            return []
        self.current_uid = uid
        live = entry.seconds == 0
        self.position = 0.0 if live else -LEAD_IN_SECONDS
        self.paused = not live
        self.voteskippers.clear()
        self.drinks = 0
        return [
            Effect("setCurrent", uid),
            Effect("changeMedia", self.change_media_payload()),
            Effect("drinkCount", 0),
            Effect("voteskip", {"count": 0, "need": 0}),
        ]

    def advance(self) -> list[Effect]:
        """Play the item after the current one (wrapping); a finished temp item is removed."""
        current = self.current
        if current is None:
            return self.play(self.entries[0].uid) if self.entries else []
        index = self.entries.index(current)
        if current.temp and len(self.entries) > 1:
            # CyTube deletes a temporary item once it has played, then plays its successor.
            successor = self.entries[(index + 1) % len(self.entries)]
            self.entries.remove(current)
            effects = [
                Effect("delete", {"uid": current.uid}),
                Effect("setPlaylistMeta", self.meta_payload()),
            ]
            return effects + self.play(successor.uid)
        return self.play(self.entries[(index + 1) % len(self.entries)].uid)

    def remove(self, uid: int) -> list[Effect]:
        """Delete ``uid``; deleting the playing item plays its successor (``[]`` if unknown)."""
        entry = self.find(uid)
        if entry is None:
            return []
        index = self.entries.index(entry)
        self.entries.remove(entry)
        effects = [
            Effect("delete", {"uid": uid}),
            Effect("setPlaylistMeta", self.meta_payload()),
        ]
        if uid == self.current_uid:
            self.current_uid = None
            if self.entries:
                effects += self.play(self.entries[index % len(self.entries)].uid)
        return effects

    def move(self, from_uid: int, after: int | str) -> list[Effect]:
        """Move ``from_uid`` after a uid, or to ``"prepend"``/``"append"``."""
        entry = self.find(from_uid)
        if entry is None or (isinstance(after, int) and self.find(after) is None):
            return []
        self.entries.remove(entry)
        if after == "prepend":
            self.entries.insert(0, entry)
        elif after == "append" or not isinstance(after, int):
            self.entries.append(entry)
        else:
            target = self.find(after)
            assert target is not None
            self.entries.insert(self.entries.index(target) + 1, entry)
        return [Effect("moveVideo", {"from": from_uid, "after": after})]

    def set_temp(self, uid: int, temp: bool) -> list[Effect]:
        """Mark ``uid`` temporary or permanent."""
        entry = self.find(uid)
        if entry is None:
            return []
        entry.temp = temp
        return [Effect("setTemp", {"uid": uid, "temp": temp})]

    def clear(self) -> list[Effect]:
        """Empty the playlist: ``playlist []`` then ``setPlaylistMeta``."""
        self.entries.clear()
        self.current_uid = None
        return [Effect("playlist", []), Effect("setPlaylistMeta", self.meta_payload())]

    def shuffle(self, rng: random.Random) -> list[Effect]:
        """Shuffle the items and play the first one."""
        rng.shuffle(self.entries)
        effects = [Effect("playlist", self.payload())]
        if self.entries:
            effects += self.play(self.entries[0].uid)
        return effects

    def vote_skip(self, voter: str, active_users: int) -> list[Effect]:
        """Count ``voter``'s skip vote; reaching half the active users skips the item."""
        if self.current is None:
            return []
        self.voteskippers.add(voter)
        need = max(1, math.ceil(active_users * 0.5))
        effects = [Effect("voteskip", {"count": len(self.voteskippers), "need": need})]
        if len(self.voteskippers) >= need:
            effects += self.advance()
        return effects

    def tick(self, elapsed: float) -> list[Effect]:
        """Let ``elapsed`` seconds of playback pass: ``mediaUpdate``, or the next item."""
        entry = self.current
        if entry is None:
            return []
        if self.paused and self.position + elapsed >= 0:
            self.paused = False
        self.position = round(self.position + elapsed, 3)
        if entry.seconds and self.position >= entry.seconds:
            return self.advance()
        return [
            Effect(
                "mediaUpdate", {"currentTime": _number(max(self.position, 0.0)), "paused": False}
            )
        ]
