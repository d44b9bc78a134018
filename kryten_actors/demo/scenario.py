"""The state of one simulated CyTube channel and the events its changes produce.

:class:`ChannelState` is what the simulated bridge knows about a channel — users, playlist,
MOTD, CSS/JS, emotes, options, permissions, poll, bans — kept in small dataclasses. Mutating
methods return the :class:`~kryten_actors.demo.effect.Effect` list CyTube would broadcast
(shapes and order as in ``tests/fixtures/events.jsonl``). The bot account is channel owner
(rank 5), so user objects carry ``smuted``, ``aliases`` and a cloaked ``ip`` as they do for
the real bridge.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kryten_actors.demo.chat import content_hash, epoch_ms, escape_chat, render_chat
from kryten_actors.demo.effect import Effect
from kryten_actors.demo.playlist import Playlist
from kryten_actors.demo.presets import (
    CHANNEL_OPTIONS,
    CHAT_LINES,
    EMOTE_NAMES,
    MEDIA_LIBRARY,
    PERMISSIONS,
    USER_NAMES,
)
from kryten_actors.protocol.flood import (
    CHAT_FLOOD,
    QUEUE_FLOOD,
    QUEUE_FLOOD_MODERATOR,
    FloodLimiter,
)

__all__ = ["BOT_RANK", "SERVER_NAME", "ChannelState", "Poll", "SimUser", "emote_payload"]

BOT_RANK = 5
"""The simulated bridge account is channel owner, like the account in the capture."""
SERVER_NAME = "[server]"
HISTORY_LENGTH = 15
"""CyTube replays at most this many chat lines to a joining client."""
_REGEX_SPECIALS = str.maketrans({ch: f"\\{ch}" for ch in "\\^$.|?*+()[]{}"})


def emote_payload(name: str, image: str) -> dict[str, Any]:
    """An emote ``{name, image, source}``; ``source`` is the regex CyTube computes."""
    return {
        "name": name,
        "image": image,
        "source": f"(^|\\s){name.translate(_REGEX_SPECIALS)}(?!\\S)",
    }


def _cloaked_ip(rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return ".".join("".join(rng.choice(letters) for _ in range(3)) for _ in range(4))


@dataclass(slots=True)
class SimUser:
    """A user in the channel; ``payload()`` is CyTube's user object as a moderator sees it."""

    name: str
    rank: float
    ip: str
    afk: bool = False
    muted: bool = False
    smuted: bool = False
    profile_image: str = ""
    profile_text: str = ""

    def profile(self) -> dict[str, str]:
        """``{image, text}``."""
        return {"image": self.profile_image, "text": self.profile_text}

    def meta(self, *, privileged: bool = True) -> dict[str, Any]:
        """``{afk, muted}``, plus ``smuted``, ``aliases`` and ``ip`` for a rank ≥ 2 viewer."""
        meta: dict[str, Any] = {"afk": self.afk, "muted": self.muted}
        if privileged:
            meta.update(smuted=self.smuted, aliases=[self.name], ip=self.ip)
        return meta

    def payload(self, *, privileged: bool = True) -> dict[str, Any]:
        """CyTube's user object ``{name, rank, profile, meta}``."""
        return {
            "name": self.name,
            "rank": self.rank,
            "profile": self.profile(),
            "meta": self.meta(privileged=privileged),
        }


@dataclass(slots=True)
class Poll:
    """An open poll; hidden (``obscured``) counts read ``"N?"`` until it closes."""

    title: str
    options: list[str]
    initiator: str
    obscured: bool = False
    timestamp: int = field(default_factory=epoch_ms)
    votes: dict[str, int] = field(default_factory=dict)

    def payload(self, *, reveal: bool = False) -> dict[str, Any]:
        """The ``newPoll``/``updatePoll`` payload."""
        counts = [0] * len(self.options)
        for option in self.votes.values():
            counts[option] += 1
        shown: list[int | str] = list(counts)
        if self.obscured and not reveal:
            shown = [f"{count}?" for count in counts]
        return {
            "title": self.title,
            "options": list(self.options),
            "counts": shown,
            "initiator": self.initiator,
            "timestamp": self.timestamp,
        }


@dataclass(slots=True)
class ChannelState:
    """Everything one simulated channel holds. Create a populated one with :meth:`create`."""

    domain: str
    channel: str
    bot_name: str
    users: dict[str, SimUser] = field(default_factory=dict)
    playlist: Playlist = field(default_factory=Playlist)
    motd: str = ""
    css: str = ""
    js: str = ""
    emotes: list[dict[str, Any]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    permissions: dict[str, float] = field(default_factory=dict)
    leader: str = ""
    poll: Poll | None = None
    banlist: list[dict[str, Any]] = field(default_factory=list)
    filters: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=HISTORY_LENGTH))
    next_ban_id: int = 1
    #: what CyTube's flood control reads (seconds); the bot's connection has one limiter
    #: for chat lines, PMs and chat commands, and one for playlist adds
    clock: Callable[[], float] = time.monotonic
    chat_limiter: FloodLimiter = field(default_factory=FloodLimiter)
    queue_limiter: FloodLimiter = field(default_factory=FloodLimiter)
    flood_dropped: int = 0

    @classmethod
    def create(
        cls,
        domain: str,
        channel: str,
        *,
        bot_name: str,
        rng: random.Random,
        population: int = 6,
        queued: int = 5,
    ) -> ChannelState:
        """A channel with the bot, ``population`` users, ``queued`` items playing, some history."""
        state = cls(domain, channel, bot_name)
        state.options = {**CHANNEL_OPTIONS, "pagetitle": channel}
        state.permissions = dict(PERMISSIONS)
        state.motd = f"<h3>Welcome to {channel}</h3> Be nice &amp; have fun"
        state.emotes = [
            emote_payload(name, f"https://emotes.example.net/{name[1:]}.png")
            for name in EMOTE_NAMES
        ]
        state.users[bot_name] = SimUser(bot_name, BOT_RANK, _cloaked_ip(rng))
        for index, name in enumerate(rng.sample(USER_NAMES, min(population, len(USER_NAMES)))):
            rank = 2 if index == 0 else rng.choice((0, 1, 1))
            state.users[name] = SimUser(name, rank, _cloaked_ip(rng))
        people = [name for name in state.users if name != bot_name] or [bot_name]
        for preset in rng.sample(MEDIA_LIBRARY, min(queued, len(MEDIA_LIBRARY))):
            state.playlist.add(
                media_id=preset.id,
                title=preset.title,
                seconds=preset.seconds,
                media_type=preset.type,
                queueby=rng.choice(people),
                temp=rng.random() < 0.5,
            )
        current = state.playlist.current
        if current is not None and current.seconds:
            state.playlist.position = float(rng.randrange(current.seconds // 2 + 1))
            state.playlist.paused = False
        then = epoch_ms() - 600_000
        for offset in range(4):
            line = escape_chat(rng.choice(CHAT_LINES))
            state.history.append(
                {"username": rng.choice(people), "msg": line, "meta": {}, "time": then + offset}
            )
        return state

    # -- reading -------------------------------------------------------------------------
    def userlist(self) -> list[dict[str, Any]]:
        """``userlist`` payload (and ``state.userlist`` data)."""
        return [user.payload() for user in self.users.values()]

    def active_user_count(self) -> int:
        """Users not marked AFK (the vote-skip quorum counts these)."""
        return sum(not user.afk for user in self.users.values())

    def css_js_payload(self) -> dict[str, str]:
        """``channelCSSJS`` payload."""
        return {
            "css": self.css,
            "cssHash": content_hash(self.css),
            "js": self.js,
            "jsHash": content_hash(self.js),
        }

    def join_burst(self) -> list[Effect]:
        """What the bridge publishes when it (re)joins: settings, replayed chat, users, media."""
        bot = self.users[self.bot_name]
        others = [user for user in self.users.values() if user.name != self.bot_name]
        effects = [
            Effect("rank", -1),
            Effect("setPermissions", dict(self.permissions)),
            Effect("setPlaylistLocked", True),
            Effect("emoteList", [dict(emote) for emote in self.emotes]),
            *(Effect("chatMsg", dict(line)) for line in self.history),
            Effect("drinkCount", self.playlist.drinks),
            Effect("channelCSSJS", self.css_js_payload()),
            Effect("setMotd", self.motd),
            Effect("channelOpts", dict(self.options)),
            Effect("setPlaylistMeta", self.playlist.meta_payload()),
            Effect("playlist", self.playlist.payload()),
            Effect("userlist", [user.payload(privileged=False) for user in others]),
            Effect("usercount", len(self.users)),
            Effect("rank", 1),
            Effect("login", {"success": True, "name": self.bot_name}),
            Effect("addUser", {**bot.payload(privileged=False), "rank": 1}),
            Effect("rank", BOT_RANK),
            Effect("userlist", self.userlist()),
            Effect("setPlaylistMeta", self.playlist.meta_payload()),
            Effect("playlist", self.playlist.payload()),
            Effect("setUserRank", {"name": self.bot_name, "rank": BOT_RANK}),
        ]
        current = self.playlist.current
        if current is not None:
            effects += [
                Effect("setCurrent", current.uid),
                Effect("changeMedia", self.playlist.change_media_payload()),
            ]
        return effects

    # -- CyTube's flood control on the bot's connection -----------------------------------
    def chat_flood(self) -> Effect | None:
        """The ``cooldown`` CyTube answers when this chat line (or PM, or chat command) of
        the bot is one too many for its limiter (20 at once, then 10/s); None if it passes."""
        if self.chat_limiter.throttle(self.clock(), CHAT_FLOOD):
            self.flood_dropped += 1
            return Effect("cooldown", 1000 / CHAT_FLOOD.sustained)
        return None

    def queue_flood(self) -> bool:
        """True when CyTube drops this playlist add of the bot for coming too fast."""
        limit = QUEUE_FLOOD_MODERATOR if BOT_RANK >= 2 else QUEUE_FLOOD
        if self.queue_limiter.throttle(self.clock(), limit):
            self.flood_dropped += 1
            return True
        return False

    # -- users and chat ------------------------------------------------------------------
    def server_whisper(self, text: str) -> Effect:
        """A ``[server]`` notice as moderators see it."""
        meta = {"addClass": "server-whisper", "addClassToNameAndTimestamp": True}
        return Effect(
            "chatMsg", {"username": SERVER_NAME, "msg": text, "meta": meta, "time": epoch_ms()}
        )

    def chat(self, username: str, text: str) -> list[Effect]:
        """``username`` types ``text``: a ``chatMsg`` (``/d`` first bumps ``drinkCount``)."""
        msg, meta = render_chat(text)
        line = {"username": username, "msg": msg, "meta": meta, "time": epoch_ms()}
        self.history.append(line)
        if text.startswith("/d "):
            self.playlist.drinks += 1
            return [Effect("drinkCount", self.playlist.drinks), Effect("chatMsg", line)]
        return [Effect("chatMsg", line)]

    def private_message(self, sender: str, to: str, text: str) -> list[Effect]:
        """A ``pm`` (the bridge sees its own), or CyTube's ``errorMsg`` if ``to`` is absent."""
        if to not in self.users:
            return [
                Effect("errorMsg", {"msg": f"PM failed: {to} isn't connected to this channel."})
            ]
        payload = {"username": sender, "msg": escape_chat(text), "meta": {}, "time": epoch_ms()}
        return [Effect("pm", {**payload, "to": to})]

    def join(self, name: str, rank: float, rng: random.Random) -> list[Effect]:
        """``name`` joins: ``addUser``, the ``[server]`` notice, ``usercount``."""
        user = SimUser(name, rank, _cloaked_ip(rng))
        self.users[name] = user
        return [
            Effect("addUser", user.payload()),
            self.server_whisper(f"{name} joined (aliases: {name})"),
            Effect("usercount", len(self.users)),
        ]

    def leave(self, name: str, *, count: bool = True) -> list[Effect]:
        """``name`` leaves: ``userLeave`` then ``usercount`` (``[]`` if absent)."""
        if self.users.pop(name, None) is None:
            return []
        effects = [Effect("userLeave", {"name": name})]
        if count:
            effects.append(Effect("usercount", len(self.users)))
        return effects

    def set_afk(self, name: str, afk: bool) -> list[Effect]:
        """``setUserMeta`` then ``setAFK``."""
        user = self.users.get(name)
        if user is None or user.afk == afk:
            return []
        user.afk = afk
        return [
            Effect("setUserMeta", {"name": name, "meta": user.meta()}),
            Effect("setAFK", {"name": name, "afk": afk}),
        ]

    def set_muted(self, name: str, *, muted: bool, shadow: bool = False) -> list[Effect]:
        """Mute, shadow-mute or unmute: ``setUserMeta`` and the ``[server]`` notice."""
        user = self.users.get(name)
        if user is None:
            return []
        user.muted, user.smuted = muted, muted and shadow
        verb = ("shadowmuted" if shadow else "muted") if muted else "unmuted"
        shown = name if muted else name.lower()
        return [
            Effect("setUserMeta", {"name": name, "meta": user.meta()}),
            self.server_whisper(f"{self.bot_name} {verb} {shown}"),
        ]

    def set_rank(self, name: str, rank: float) -> list[Effect]:
        """``setUserRank`` (a present user's object is updated too)."""
        user = self.users.get(name)
        if user is not None:
            user.rank = rank
        return [Effect("setUserRank", {"name": name, "rank": rank})]
