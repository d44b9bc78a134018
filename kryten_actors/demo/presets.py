"""What a simulated channel is made of: captured CyTube defaults and the demo's content.

The permission and option maps are the ones CyTube 3.86 sent in the capture
(``tests/fixtures/events.jsonl``); the names, chat lines and media are invented for the
demo. Everything here is immutable data; :mod:`kryten_actors.demo.scenario` builds
channel state from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "CHANNEL_OPTIONS",
    "CHAT_LINES",
    "CRASH_LINE",
    "EMOTE_NAMES",
    "GREETINGS",
    "MEDIA_LIBRARY",
    "PERMISSIONS",
    "USER_NAMES",
    "MediaPreset",
]

PERMISSIONS: Final[MappingProxyType[str, float]] = MappingProxyType(
    {
        "seeplaylist": -1,
        "playlistadd": 1.5,
        "playlistnext": 1.5,
        "playlistmove": 1.5,
        "playlistdelete": 2,
        "playlistjump": 1.5,
        "playlistaddlist": 1.5,
        "oplaylistadd": -1,
        "oplaylistnext": 1.5,
        "oplaylistmove": 1.5,
        "oplaylistdelete": 2,
        "oplaylistjump": 1.5,
        "oplaylistaddlist": 1.5,
        "playlistaddcustom": 3,
        "playlistaddrawfile": 2,
        "playlistaddlive": 1.5,
        "exceedmaxlength": 2,
        "addnontemp": 2,
        "settemp": 2,
        "playlistshuffle": 2,
        "playlistclear": 2,
        "pollctl": 1.5,
        "pollvote": -1,
        "viewhiddenpoll": 1.5,
        "voteskip": -1,
        "viewvoteskip": 1.5,
        "mute": 1.5,
        "kick": 1.5,
        "ban": 2,
        "motdedit": 3,
        "filteredit": 3,
        "filterimport": 3,
        "emoteedit": 3,
        "emoteimport": 3,
        "playlistlock": 2,
        "leaderctl": 2,
        "drink": 1.5,
        "chat": 0,
        "chatclear": 2,
        "exceedmaxitems": 2,
        "deletefromchannellib": 2,
        "exceedmaxdurationperuser": 2,
    }
)
"""CyTube's default ``setPermissions`` map (node → minimum rank), key order as sent."""

CHANNEL_OPTIONS: Final[MappingProxyType[str, Any]] = MappingProxyType(
    {
        "allow_voteskip": True,
        "voteskip_ratio": 0.5,
        "afk_timeout": 600,
        "pagetitle": "",
        "maxlength": 0,
        "externalcss": "",
        "externaljs": "",
        "chat_antiflood": False,
        "chat_antiflood_params": {"burst": 4, "sustained": 1, "cooldown": 4},
        "show_public": False,
        "enable_link_regex": True,
        "password": False,
        "allow_dupes": False,
        "torbanned": False,
        "block_anonymous_users": False,
        "allow_ascii_control": False,
        "playlist_max_per_user": 0,
        "new_user_chat_delay": 0,
        "new_user_chat_link_delay": 0,
        "playlist_max_duration_per_user": 0,
    }
)
"""CyTube's default ``channelOpts`` (``pagetitle`` is set to the channel name)."""


@dataclass(frozen=True, slots=True)
class MediaPreset:
    """One playable item: CyTube's ``{id, title, seconds, type}`` (duration is derived)."""

    id: str
    title: str
    seconds: int
    type: str = "yt"


MEDIA_LIBRARY: Final[tuple[MediaPreset, ...]] = (
    MediaPreset("dQw4w9WgXcQ", "Rick Astley - Never Gonna Give You Up", 213),
    MediaPreset("9bZkp7q19f0", "PSY - GANGNAM STYLE", 253),
    MediaPreset("kJQP7kiw5Fk", "Luis Fonsi - Despacito ft. Daddy Yankee", 282),
    MediaPreset("fJ9rUzIMcZQ", "Queen - Bohemian Rhapsody", 359),
    MediaPreset("hTWKbfoikeg", "Nirvana - Smells Like Teen Spirit", 301),
    MediaPreset("y6120QOlsfU", "Darude - Sandstorm", 233),
    MediaPreset("ZZ5LpwO-An4", "HEYYEYAAEYAAAEYAEYAA", 123),
    MediaPreset("L_jWHffIx5E", "Smash Mouth - All Star", 200),
    MediaPreset("rtmp://live.example.net/live/lounge", "Livestream", 0, "rt"),
    MediaPreset("https://media.example.net/lofi.m3u8", "Lofi radio", 0, "hl"),
)

USER_NAMES: Final[tuple[str, ...]] = (
    "Alice",
    "Bob",
    "Carol",
    "Dave",
    "Erin",
    "Frank",
    "Grace",
    "Heidi",
    "Ivan",
    "Judy",
    "Mallory",
    "Niaj",
    "Olivia",
    "Peggy",
    "Rupert",
    "Sybil",
    "Trent",
    "Victor",
    "Walter",
    "Zoe",
)

CHAT_LINES: Final[tuple[str, ...]] = (
    "hello everyone",
    "this song is great",
    "skip pls",
    "who queued this? <3",
    "lol",
    "brb, coffee",
    "back",
    "can someone add more 80s stuff?",
    "Tom & Jerry > Looney Tunes",
    "<b>not bold</b>, CyTube escapes it",
    "!help",
    "!roll",
    "!uptime",
    "gg",
    "héllo wörld ✓ 日本語 😀",
    "anyone up for a poll?",
    "#kappa",
    "the stream is buffering for me",
    "that's the 3rd time today (again)",
    "first time here, hi!",
)

GREETINGS: Final[tuple[str, ...]] = ("hi all", "hey", "o/", "evening!", "yo")

EMOTE_NAMES: Final[tuple[str, ...]] = ("#kappa", "#pog", "#lul", "#wave")

CRASH_LINE: Final = "!crash"
"""What a user says on the crash channel; the demo bot raises on it (supervised restart)."""
