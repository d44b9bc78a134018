"""The channel state a bot tracks from CyTube's events: who is there, what is queued, its rank.

:class:`ChannelState` is fed every state-bearing event of one channel, in order, at
routing time (before the event waits in the actor's mailbox), so a handler that
awaits a command never waits behind the very event that would unblock it. It is
re-seeded on every (re)join: CyTube resends ``userlist`` and ``playlist`` then.

User names compare case-insensitively, as in CyTube. Personal data CyTube sends to
moderators (``ip``, ``aliases``) is not kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, overload

from kryten_actors.protocol.event_payloads import PlaylistItem, User
from kryten_actors.protocol.events import (
    ChangeMediaEvent,
    DeleteEvent,
    LoginEvent,
    MoveVideoEvent,
    PlaylistUpdateEvent,
    QueueEvent,
    RankEvent,
    RawEvent,
    SetAFKEvent,
    SetCurrentEvent,
    SetTempEvent,
    SetUserMetaEvent,
    SetUserRankEvent,
    UserJoinEvent,
    UserLeaveEvent,
    UserListEvent,
)

__all__ = ["STATE_EVENTS", "ChannelState", "ChannelUser", "Playlist", "UserList"]


@dataclass(frozen=True, slots=True)
class ChannelUser:
    """A user in the channel as the bot last saw them."""

    name: str
    rank: float
    afk: bool = False
    muted: bool = False
    smuted: bool = False

    @classmethod
    def from_user(cls, user: User) -> ChannelUser:
        """From CyTube's user object (``meta`` flags read; personal data dropped)."""
        meta = user.meta
        return cls(
            name=user.name,
            rank=float(user.rank),
            afk=bool(meta.get("afk", False)),
            muted=bool(meta.get("muted", False)),
            smuted=bool(meta.get("smuted", False)),
        )


class UserList(Mapping[str, ChannelUser]):
    """Users in the channel by name; lookups ignore case (``userlist["ALICE"]``)."""

    __slots__ = ("_users",)

    def __init__(self) -> None:
        self._users: dict[str, ChannelUser] = {}

    def __getitem__(self, name: str) -> ChannelUser:
        return self._users[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._users

    def __iter__(self) -> Iterator[str]:
        return (user.name for user in self._users.values())

    def __len__(self) -> int:
        return len(self._users)

    def __repr__(self) -> str:
        return f"UserList({sorted(self)!r})"

    def _replace(self, users: Sequence[User]) -> None:
        self._users = {user.name.lower(): ChannelUser.from_user(user) for user in users}

    def _put(self, user: ChannelUser) -> None:
        self._users[user.name.lower()] = user

    def _update(self, name: str, **changes: Any) -> None:
        key = name.lower()
        user = self._users.get(key)
        if user is not None:
            fields = {f: getattr(user, f) for f in ("name", "rank", "afk", "muted", "smuted")}
            fields.update(changes)
            self._users[key] = ChannelUser(**fields)

    def _remove(self, name: str) -> None:
        self._users.pop(name.lower(), None)


class Playlist(Sequence[PlaylistItem]):
    """The playlist items in play order; :meth:`has` and :meth:`by_uid` look up uids."""

    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[PlaylistItem] = []

    @overload
    def __getitem__(self, index: int) -> PlaylistItem: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[PlaylistItem]: ...
    def __getitem__(self, index: int | slice) -> PlaylistItem | Sequence[PlaylistItem]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Playlist(uids={[item.uid for item in self._items]!r})"

    def has(self, uid: int) -> bool:
        """True when an item with ``uid`` is queued."""
        return any(item.uid == uid for item in self._items)

    def by_uid(self, uid: int) -> PlaylistItem | None:
        """The item with ``uid``, or None."""
        for item in self._items:
            if item.uid == uid:
                return item
        return None

    @property
    def uids(self) -> list[int]:
        """The uids in play order."""
        return [item.uid for item in self._items]

    def _index(self, uid: int) -> int | None:
        for index, item in enumerate(self._items):
            if item.uid == uid:
                return index
        return None

    def _insert_after(self, item: PlaylistItem, after: int | str) -> None:
        self._remove(item.uid)
        if after == "prepend":
            self._items.insert(0, item)
            return
        index = self._index(after) if isinstance(after, int) else None
        if index is None:
            self._items.append(item)
        else:
            self._items.insert(index + 1, item)

    def _remove(self, uid: int) -> PlaylistItem | None:
        index = self._index(uid)
        return None if index is None else self._items.pop(index)

    def _move(self, uid: int, after: int | str) -> None:
        item = self._remove(uid)
        if item is not None:
            self._insert_after(item, after)

    def _set_temp(self, uid: int, temp: bool) -> None:
        index = self._index(uid)
        if index is not None:
            self._items[index] = self._items[index].model_copy(update={"temp": temp})


_NOTHING_YET: Final[Mapping[str, Any]] = MappingProxyType({})


class ChannelState:
    """Username, rank, users, playlist and media of one channel, kept from its events.

    ``rank`` is the bot's own rank from the last ``rank`` event (-1 while joining);
    whether it has settled after a (re)join is the join tracker's business.
    """

    __slots__ = (
        "current_media",
        "current_uid",
        "options",
        "permissions",
        "playlist",
        "playlist_known",
        "playlist_locked",
        "rank",
        "userlist",
        "userlist_known",
        "username",
    )

    def __init__(self) -> None:
        self.username: str | None = None
        self.rank: float | None = None
        self.userlist = UserList()
        self.playlist = Playlist()
        self.userlist_known = False
        self.playlist_known = False
        self.current_uid: int | None = None
        self.current_media: ChangeMediaEvent | None = None
        # replaced whole by channelOpts / setPermissions; until then one shared empty
        # mapping (two empty dicts were 128 bytes in every channel)
        self.options: Mapping[str, Any] = _NOTHING_YET
        self.permissions: Mapping[str, Any] = _NOTHING_YET
        self.playlist_locked = True

    def apply(self, name: str, event: RawEvent) -> None:  # noqa: PLR0912 - one branch per event
        """Update from one decoded event; ``name`` is its lowercased event name."""
        users, playlist = self.userlist, self.playlist
        if isinstance(event, RankEvent):
            self.rank = float(event.payload)
        elif isinstance(event, LoginEvent):
            if event.payload.success and event.payload.name:
                self.username = event.payload.name
        elif isinstance(event, UserListEvent):
            users._replace(event.payload)
            self.userlist_known = True
        elif isinstance(event, UserJoinEvent):
            users._put(ChannelUser.from_user(event.payload))
        elif isinstance(event, UserLeaveEvent):
            users._remove(event.payload.name)
        elif isinstance(event, SetUserRankEvent):
            users._update(event.payload.name, rank=float(event.payload.rank))
        elif isinstance(event, SetAFKEvent):
            users._update(event.payload.name, afk=event.payload.afk)
        elif isinstance(event, SetUserMetaEvent):
            meta = event.payload.meta
            flags = {k: bool(meta[k]) for k in ("afk", "muted", "smuted") if k in meta}
            users._update(event.payload.name, **flags)
        elif isinstance(event, PlaylistUpdateEvent):
            playlist._items = list(event.payload)
            self.playlist_known = True
        elif isinstance(event, QueueEvent):
            playlist._insert_after(event.payload.item, event.payload.after)
        elif isinstance(event, DeleteEvent):
            playlist._remove(event.payload.uid)
        elif isinstance(event, MoveVideoEvent):
            playlist._move(event.payload.from_, event.payload.after)
        elif isinstance(event, SetTempEvent):
            playlist._set_temp(event.payload.uid, event.payload.temp)
        elif isinstance(event, SetCurrentEvent):
            self.current_uid = event.payload
        elif isinstance(event, ChangeMediaEvent):
            self.current_media = event
        elif name == "channelopts" and isinstance(event.payload, dict):
            self.options = dict(event.payload)
        elif name == "setpermissions" and isinstance(event.payload, dict):
            self.permissions = dict(event.payload)
        elif name == "setplaylistlocked" and isinstance(event.payload, bool):
            self.playlist_locked = event.payload

    def seed_userlist(self, users: Sequence[User]) -> None:
        """The bridge's stored user list (at start), unless an event brought one already."""
        if not self.userlist_known:
            self.userlist._replace(users)
            self.userlist_known = True

    def seed_playlist(self, items: Sequence[PlaylistItem]) -> None:
        """The bridge's stored playlist (at start), unless an event brought one already."""
        if not self.playlist_known:
            self.playlist._items = list(items)
            self.playlist_known = True

    @property
    def own_user(self) -> ChannelUser | None:
        """The bot's own entry in the user list, once its name is known."""
        return self.userlist.get(self.username) if self.username else None

    def chat_antiflood(self) -> tuple[int, float] | None:
        """``(burst, per_second)`` of the channel's antiflood when it applies to the bot.

        CyTube applies ``chat_antiflood_params`` below rank 2 when ``chat_antiflood`` is on.
        """
        if not self.options.get("chat_antiflood") or (self.rank is not None and self.rank >= 2):
            return None
        params = self.options.get("chat_antiflood_params")
        if not isinstance(params, dict):
            return None
        try:
            burst, sustained = int(params.get("burst", 4)), float(params.get("sustained", 1))
        except (TypeError, ValueError):
            return None
        return (burst, sustained) if burst > 0 and sustained > 0 else None


STATE_EVENTS = frozenset(
    {
        "rank",
        "login",
        "userlist",
        "adduser",
        "userleave",
        "setuserrank",
        "setafk",
        "setusermeta",
        "playlist",
        "queue",
        "delete",
        "movevideo",
        "settemp",
        "setcurrent",
        "changemedia",
        "channelopts",
        "setpermissions",
        "setplaylistlocked",
    }
)
"""Lowercased names of the events :meth:`ChannelState.apply` learns from."""
