"""Simulated playlist, poll and library commands (reference §7).

Each function is an :data:`~kryten_actors.demo.outcome.Action`. Unlike the capture, where
the server had no YouTube API key, ``yt`` media queue fine here: the demo pretends CyTube
can look them up. ``addvideo`` answers at once instead of waiting up to 8 s for the uid.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from kryten_actors.demo.chat import sanitize_text
from kryten_actors.demo.effect import Effect
from kryten_actors.demo.outcome import ActionOutcome, pick, require
from kryten_actors.demo.presets import MEDIA_LIBRARY
from kryten_actors.demo.scenario import ChannelState, Poll
from kryten_actors.errors import KrytenValidationError

__all__ = [
    "add_video",
    "clear",
    "close_poll",
    "jump",
    "move_video",
    "new_poll",
    "play_next",
    "remove_video",
    "search_library",
    "set_temp",
    "shuffle",
    "vote",
    "voteskip",
]

Args = Mapping[str, Any]
_LIVE_TITLES = {"rt": "Livestream", "hl": "Livestream", "cu": "Custom Media"}
_POLL_TIMEOUT_ERROR = "Poll timeout must be between 1 and 86400 seconds"


def _queue_fail(message: str, media_type: str, media_id: str) -> ActionOutcome:
    link = f"https://youtu.be/{media_id}" if media_type == "yt" else media_id
    fail = {"msg": message, "link": link, "id": media_id}
    data = {"success": False, "error": message, "queue_fail": dict(fail)}
    return ActionOutcome([Effect("queueFail", fail)], data)


def _lookup(media_type: str, media_id: str, rng: random.Random) -> tuple[str, int]:
    for preset in MEDIA_LIBRARY:
        if preset.id == media_id:
            return preset.title, preset.seconds
    if media_type == "yt":
        return f"Simulated video {media_id}", rng.randrange(120, 360)
    return _LIVE_TITLES.get(media_type, media_id), 0


def add_video(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``addvideo``: ``queue`` + ``setPlaylistMeta``; data ``{success, uid}``.

    Without ``type`` CyTube rejects the frame (``errorMsg``) and the bridge replies
    ``uid: null``; an ``http`` HLS link or a duplicate gets ``queueFail`` and data
    ``{success: false, error, queue_fail}``.
    """
    media_type, media_id = pick(args, "type"), pick(args, "id", "url")
    if media_type is None or media_id is None:
        missing = "type" if media_type is None else "id"
        error = {"msg": f"Unexpected error for message queue: Missing key: string:{missing}"}
        return ActionOutcome([Effect("errorMsg", error)], {"success": True, "uid": None})
    media_type, media_id = str(media_type), str(media_id)
    if media_type == "hl" and not media_id.startswith("https://"):
        message = (
            "HLS links must start with HTTPS due to browser security policy.  "
            "See https://git.io/vpDLK for details."
        )
        return _queue_fail(message, media_type, media_id)
    if state.queue_flood():
        return _queue_fail("You are adding videos too quickly", media_type, media_id)
    if state.playlist.holds_media(media_id) and not state.options.get("allow_dupes", False):
        return _queue_fail("This item is already on the playlist", media_type, media_id)
    title, seconds = _lookup(media_type, media_id, rng)
    entry, effects = state.playlist.add(
        media_id=media_id,
        title=title,
        seconds=seconds,
        media_type=media_type,
        queueby=state.bot_name,
        temp=bool(pick(args, "temp", default=True)),
        pos="next" if pick(args, "pos") == "next" else "end",
    )
    return ActionOutcome(effects, {"success": True, "uid": entry.uid})


def _uid(args: Args, *keys: str) -> int | None:
    value = require(args, *keys, error="Missing uid")
    # CyTube drops a frame whose uid is not a number (type check), so nothing happens.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def remove_video(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``rmvideo``: ``delete`` + ``setPlaylistMeta`` (the next item plays if it was current)."""
    uid = _uid(args, "uid")
    return ActionOutcome([] if uid is None else state.playlist.remove(uid))


def move_video(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``mvvideo``: ``moveVideo``."""
    uid = _uid(args, "from", "uid")
    after = require(args, "after", error="Missing after")
    if uid is None or not isinstance(after, int | str) or isinstance(after, bool):
        return ActionOutcome()
    return ActionOutcome(state.playlist.move(uid, after))


def jump(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``jump``: a uid sent as a JSON number fails inside the bridge, as in 1.12.6."""
    value = require(args, "uid", error="Missing uid")
    if not isinstance(value, str):
        return ActionOutcome(data={"success": False, "error": "Failed to jump to video"})
    if not value.isdigit():
        return ActionOutcome()
    return ActionOutcome(state.playlist.play(int(value)))


def clear(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``clear``: ``playlist []`` + ``setPlaylistMeta``."""
    return ActionOutcome(state.playlist.clear())


def shuffle(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``shuffle``: the reordered ``playlist``, then the first item plays."""
    return ActionOutcome(state.playlist.shuffle(rng))


def set_temp(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``settemp``: ``setTemp``."""
    uid = _uid(args, "uid")
    temp = bool(pick(args, "temp", default=True))
    return ActionOutcome([] if uid is None else state.playlist.set_temp(uid, temp))


def play_next(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``playNext``: ``setCurrent`` + ``changeMedia`` of the next item."""
    return ActionOutcome(state.playlist.advance())


def voteskip(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``voteskip``: the bot's vote (``voteskip {count, need}``)."""
    return ActionOutcome(state.playlist.vote_skip(state.bot_name, state.active_user_count()))


def new_poll(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``newPoll``: ``newPoll``, or ``closePoll`` + ``errorMsg`` for a timeout outside 1..86400.

    The bridge reads ``options`` (``opts`` is an error) and sends ``timeout`` 0 when absent.
    """
    title, options = pick(args, "title"), pick(args, "options")
    if not title or not isinstance(options, list) or not options:
        raise KrytenValidationError("Missing title or options", [("options", "missing")])
    timeout = pick(args, "timeout", default=0)
    if not isinstance(timeout, int | float) or not 1 <= timeout <= 86_400:
        effects = [Effect("closePoll", None)] if state.poll is not None else []
        state.poll = None
        return ActionOutcome([*effects, Effect("errorMsg", {"msg": _POLL_TIMEOUT_ERROR})])
    state.poll = Poll(
        sanitize_text(str(title)),
        [sanitize_text(str(option)) for option in options],
        state.bot_name,
        obscured=bool(pick(args, "obscured", default=False)),
    )
    return ActionOutcome([Effect("newPoll", state.poll.payload())])


def vote(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``vote``: the bot's vote shows in ``updatePoll``."""
    option = pick(args, "option")
    poll = state.poll
    if poll is None or not isinstance(option, int) or not 0 <= option < len(poll.options):
        return ActionOutcome()
    poll.votes[state.bot_name] = option
    return ActionOutcome([Effect("updatePoll", poll.payload())])


def close_poll(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``closePoll``: a hidden poll's counts are revealed (``updatePoll``), then ``closePoll``."""
    poll, state.poll = state.poll, None
    if poll is None:
        return ActionOutcome()
    reveal = [Effect("updatePoll", poll.payload(reveal=True))] if poll.obscured else []
    return ActionOutcome([*reveal, Effect("closePoll", None)])


def search_library(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``searchLibrary``: data ``results`` is the ``searchResults`` envelope."""
    query = str(require(args, "query", error="Missing query")).lower()
    source = str(pick(args, "source", default="library"))
    results = [
        {"id": p.id, "title": p.title, "seconds": p.seconds, "type": p.type}
        for p in MEDIA_LIBRARY
        if query in p.title.lower()
    ]
    effect = Effect("searchResults", {"source": source, "results": results})
    return ActionOutcome.answering_with("results", effect)
