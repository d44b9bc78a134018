"""CytubeRoom: one channel as CyTube 3.86 treats the fake bridge's commands in it.

What a bot sees from the real stack, minus the network: a chat line is echoed as a
``chatMsg`` from the bot (and kept in the 15-line history CyTube replays on a join),
unless CyTube's chat flood control drops it — then the bridge still said "ok" and the
bot gets ``cooldown``. The refusals are CyTube's own, after the bridge's "ok":
``errorMsg`` for a PM to an absent user or an invalid filter regex, ``queueFail`` for a
duplicate or a too-fast add, ``channelRankFail`` for promoting a guest; and the silent
cases: delete/jump/move/settemp of an unknown uid, kick of an absent user.

Every method returns the events CyTube would send, as ``(event_name, payload)`` pairs;
:class:`~kryten_actors.testing.bridge.FakeBridge` publishes them.
"""

from __future__ import annotations

import html
import re
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from kryten_actors.protocol.flood import (
    CHAT_FLOOD,
    QUEUE_FLOOD,
    QUEUE_FLOOD_MODERATOR,
    FloodLimit,
    FloodLimiter,
)

__all__ = ["HISTORY_LINES", "CytubeRoom", "Event"]

Event = tuple[str, Any]
HISTORY_LINES: Final = 15
"""CyTube replays this many recent chat lines to a joining socket (chat.js)."""
_TOO_FAST: Final = "You are adding videos too quickly"
_DUPLICATE: Final = "This item is already on the playlist"
_GUEST: Final = (
    "The user you promoted is not a registered account.  Any rank changes are temporary "
    "and not stored in the database."
)


def _epoch_ms(now: datetime | None = None) -> int:
    return int((now or datetime.now(UTC)).timestamp() * 1000)


def _user(name: str, rank: float) -> dict[str, Any]:
    return {"name": name, "rank": rank, "profile": {"image": "", "text": ""}, "meta": {}}


class CytubeRoom:
    """The simulated channel behind a :class:`FakeBridge` (see the module docstring).

    ``users`` maps present users to their rank (``guests`` are present but unregistered);
    ``flood_control`` turns CyTube's rate limiters on; ``antiflood`` is the channel's
    ``chat_antiflood_params`` (``(burst, per_second)``, applied below rank 2).
    ``now`` is the clock the limiters read (seconds; the bot's clock in a harness).
    """

    def __init__(
        self,
        domain: str,
        channel: str,
        *,
        username: str,
        rank: float,
        users: Mapping[str, float],
        guests: Iterable[str],
        flood_control: bool,
        antiflood: tuple[int, float] | None,
    ) -> None:
        self.domain = domain
        self.channel = channel
        self.username = username
        self.rank = rank
        self.users: dict[str, float] = {username: rank, **users}
        self.guests = {name.lower() for name in guests}
        for guest in guests:
            self.users.setdefault(guest, 0)
        self.flood_control = flood_control
        self.antiflood = antiflood
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_LINES)
        self.playlist: list[dict[str, Any]] = []
        self.shown: list[str] = []
        """Chat lines of the bot a person in the channel saw, in order (rendered text)."""
        self.dropped = 0
        """Lines and adds CyTube's flood control dropped."""
        self.logged_in = True
        """False while the bridge rejoins, until its ``login``: CyTube ignores the socket's
        commands then, without a word (the bridge still answers "ok")."""
        self._chat = FloodLimiter()
        self._queue = FloodLimiter()
        self._uid = 0

    # --- a person's view ---------------------------------------------------------------
    def present(self, name: str) -> bool:
        """True when ``name`` is in the channel (names ignore case, as in CyTube)."""
        return any(user.lower() == name.lower() for user in self.users)

    def chat(self, username: str, text: str, *, written: datetime | None = None) -> Event:
        """``username`` says ``text`` (kept in the history CyTube replays)."""
        meta: dict[str, Any] = {}
        if text.startswith("/me "):
            text, meta = text[4:], {"addClass": "action", "action": True}
        line = {
            "username": username,
            "msg": html.escape(text, quote=False),
            "meta": meta,
            "time": _epoch_ms(written),
        }
        self.history.append(line)
        return ("chatMsg", line)

    def join_sequence(self) -> list[Event]:
        """What the bridge publishes on a (re)join: ``rank -1``, the chat history, the
        join data, then login and the real rank (CyTube 3.86's order)."""
        others = [_user(name, rank) for name, rank in self.users.items() if name != self.username]
        return [
            ("rank", -1),
            ("setPermissions", {"chat": 0}),
            *(("chatMsg", dict(line)) for line in self.history),
            ("drinkCount", 0),
            ("channelOpts", self._options()),
            ("setPlaylistMeta", {"count": len(self.playlist), "rawTime": 0, "time": "00:00"}),
            ("playlist", [dict(item) for item in self.playlist]),
            ("userlist", others),
            ("usercount", len(self.users)),
            ("rank", 1),
            ("login", {"success": True, "name": self.username}),
            ("rank", self.rank),
            ("userlist", [*others, _user(self.username, self.rank)]),
            ("setUserRank", {"name": self.username, "rank": self.rank}),
        ]

    def _options(self) -> dict[str, Any]:
        if self.antiflood is None:
            return {"chat_antiflood": False}
        burst, sustained = self.antiflood
        params = {"burst": burst, "sustained": sustained, "cooldown": burst / sustained}
        return {"chat_antiflood": True, "chat_antiflood_params": params}

    def stored(self, command: str) -> dict[str, Any] | None:
        """The bridge's answer to a ``state.*`` query about this channel, or None."""
        if command == "state.userlist":
            return {"userlist": [_user(name, rank) for name, rank in self.users.items()]}
        if command == "state.playlist":
            return {"playlist": [dict(item) for item in self.playlist]}
        return None

    # --- the bot's commands --------------------------------------------------------------
    def handle(self, command: str, args: Mapping[str, Any], now: float) -> list[Event]:
        """The events CyTube sends after the bridge's "ok" for ``command`` (robot name)."""
        handler = getattr(self, f"_on_{command.lower()}", None)
        if handler is None or not self.logged_in:
            return []
        return list(handler(args, now))

    def _chat_limit(self) -> FloodLimit:
        if self.antiflood is not None and self.rank < 2:
            return FloodLimit(*self.antiflood)
        return CHAT_FLOOD

    def _throttled(self, now: float) -> Event | None:
        limit = self._chat_limit()
        if self.flood_control and self._chat.throttle(now, limit):
            self.dropped += 1
            return ("cooldown", 1000 / limit.sustained)
        return None

    def _on_say(self, args: Mapping[str, Any], now: float) -> list[Event]:
        text = str(args.get("message", ""))
        throttled = self._throttled(now)
        if throttled is not None:
            return [throttled]
        if text.startswith("/") and not text.startswith("/me "):
            return []  # a chat command: CyTube runs it, no line shows
        event = self.chat(self.username, text)
        self.shown.append(text.removeprefix("/me ").removeprefix("\u2060"))
        return [event]

    def _on_pm(self, args: Mapping[str, Any], now: float) -> list[Event]:
        to, msg = str(args.get("to", "")), str(args.get("msg", ""))
        throttled = self._throttled(now)
        if throttled is not None:
            return [throttled]
        if not self.present(to):
            text = f"PM failed: {to.lower()} isn't connected to this channel."
            return [("errorMsg", {"msg": text})]
        body = {"username": self.username, "msg": html.escape(msg, quote=False), "meta": {}}
        return [("pm", {**body, "time": _epoch_ms(), "to": to})]

    def _on_kick(self, args: Mapping[str, Any], now: float) -> list[Event]:
        name = str(args.get("name", ""))
        throttled = self._throttled(now)
        if throttled is not None:
            return [throttled]
        target = next((user for user in self.users if user.lower() == name.lower()), None)
        if target is None:
            return []  # CyTube says nothing about an absent user
        del self.users[target]
        return [("userLeave", {"name": target}), ("usercount", len(self.users))]

    def _on_addvideo(self, args: Mapping[str, Any], now: float) -> list[Event]:
        media_id, media_type = str(args.get("id", "")), str(args.get("type", "yt"))
        limit = QUEUE_FLOOD_MODERATOR if self.rank >= 2 else QUEUE_FLOOD
        fail = {"link": f"{media_type}:{media_id}", "id": media_id}
        if self.flood_control and self._queue.throttle(now, limit):
            self.dropped += 1
            return [("queueFail", {**fail, "msg": _TOO_FAST})]
        if any(item["media"]["id"] == media_id for item in self.playlist):
            return [("queueFail", {**fail, "msg": _DUPLICATE})]
        self._uid += 1
        media = {"id": media_id, "type": media_type, "title": media_id, "seconds": 60}
        item = {"media": media, "uid": self._uid, "temp": bool(args.get("temp", True))}
        item["queueby"] = self.username
        after = self.playlist[-1]["uid"] if self.playlist else "prepend"
        self.playlist.append(item)
        return [("queue", {"item": item, "after": after})]

    def _index(self, uid: Any) -> int | None:
        for index, item in enumerate(self.playlist):
            if str(item["uid"]) == str(uid):
                return index
        return None

    def _on_rmvideo(self, args: Mapping[str, Any], now: float) -> list[Event]:
        index = self._index(args.get("uid"))
        if index is None:
            return []  # an unknown uid: silence
        item = self.playlist.pop(index)
        return [("delete", {"uid": item["uid"]})]

    def _on_jump(self, args: Mapping[str, Any], now: float) -> list[Event]:
        index = self._index(args.get("uid"))
        return [] if index is None else [("setCurrent", self.playlist[index]["uid"])]

    def _on_settemp(self, args: Mapping[str, Any], now: float) -> list[Event]:
        index = self._index(args.get("uid"))
        if index is None:
            return []
        item = self.playlist[index]
        item["temp"] = bool(args.get("temp"))
        return [("setTemp", {"uid": item["uid"], "temp": item["temp"]})]

    def _on_mvvideo(self, args: Mapping[str, Any], now: float) -> list[Event]:
        index = self._index(args.get("from"))
        if index is None:
            return []
        after = args.get("after")
        return [("moveVideo", {"from": self.playlist[index]["uid"], "after": after})]

    def _on_addfilter(self, args: Mapping[str, Any], now: float) -> list[Event]:
        try:
            re.compile(str(args.get("source", "")))
        except re.error as error:
            return [("errorMsg", {"msg": f"Invalid regex: {error.msg}", "alert": True})]
        name = str(args.get("name", ""))
        flt = {key: args.get(key) for key in ("source", "flags", "replace", "active")}
        return [("addFilterSuccess", None), ("updateChatFilter", {"name": name, **flt})]

    def _on_setchannelrank(self, args: Mapping[str, Any], now: float) -> list[Event]:
        name, rank = str(args.get("username", args.get("name", ""))), args.get("rank")
        if name.lower() in self.guests:
            return [
                ("setUserRank", {"name": name, "rank": rank}),
                ("channelRankFail", {"msg": _GUEST}),
            ]
        return [("setUserRank", {"name": name, "rank": rank})]
