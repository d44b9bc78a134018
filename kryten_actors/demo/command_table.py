"""Which simulated action runs for a command name, in each profile.

``kryten-robot``: the command names kryten-robot 1.12.6 knows (reference §7), plus the
snake_case aliases it accepts (``set_motd``); any other name gets no reply. ``seed``: the
actions this library's seed encoder sends (``sendChat``, ``addMedia``, …), the legacy
names of reference §9 (``chat``, ``queue``, …) and the robot names, compared ignoring case
and ``_``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from kryten_actors.demo import moderation, playback
from kryten_actors.demo.outcome import Action, ActionOutcome, require
from kryten_actors.demo.scenario import ChannelState

__all__ = ["ROBOT_ACTIONS", "robot_action", "seed_action"]

_ROBOT_NAMES: Final[dict[str, Action]] = {
    "say": moderation.say,
    "pm": moderation.private_message,
    "mute": moderation.mute,
    "smute": moderation.shadow_mute,
    "kick": moderation.kick,
    "ban": moderation.ban,
    "unban": moderation.unban,
    "assignLeader": moderation.assign_leader,
    "setChannelRank": moderation.set_channel_rank,
    "requestChannelRanks": moderation.request_channel_ranks,
    "requestBanlist": moderation.request_banlist,
    "readChanLog": moderation.read_chan_log,
    "setMotd": moderation.set_motd,
    "setChannelCSS": moderation.set_channel_css,
    "setChannelJS": moderation.set_channel_js,
    "setOptions": moderation.set_options,
    "setPermissions": moderation.set_permissions,
    "updateEmote": moderation.update_emote,
    "removeEmote": moderation.remove_emote,
    "addFilter": moderation.add_filter,
    "updateFilter": moderation.update_filter,
    "removeFilter": moderation.remove_filter,
    "addvideo": playback.add_video,
    "rmvideo": playback.remove_video,
    "mvvideo": playback.move_video,
    "jump": playback.jump,
    "clear": playback.clear,
    "shuffle": playback.shuffle,
    "settemp": playback.set_temp,
    "playNext": playback.play_next,
    "voteskip": playback.voteskip,
    "newPoll": playback.new_poll,
    "vote": playback.vote,
    "closePoll": playback.close_poll,
    "searchLibrary": playback.search_library,
    # Accepted by the bridge, no visible effect (CyTube ignores them or they only drop the
    # socket, which the simulation does not do).
    "deleteFromLibrary": moderation.no_effect,
    "pause": moderation.no_effect,
    "play": moderation.no_effect,
    "seek": moderation.no_effect,
    "restart": moderation.no_effect,
    "halt": moderation.no_effect,
    "reconnect": moderation.no_effect,
    "playlist.move": moderation.no_effect,
    "playlist.queue": moderation.no_effect,
    "playlist.delete": moderation.no_effect,
}


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


ROBOT_ACTIONS: Final[Mapping[str, Action]] = MappingProxyType(
    {
        **{_snake(name): action for name, action in _ROBOT_NAMES.items() if not name.islower()},
        **_ROBOT_NAMES,
    }
)
"""kryten-robot command name (or snake_case alias) → action."""


def _seed_jump(state: ChannelState, args: Mapping[str, Any], rng: random.Random) -> ActionOutcome:
    # The seed path hands the uid over as CyTube wants it; the robot bridge's numeric-uid bug
    # (reference §7) belongs to the robot path only.
    uid = require(args, "uid", error="Missing uid")
    return playback.jump(state, {"uid": str(uid)}, rng)


def _seed_unban(state: ChannelState, args: Mapping[str, Any], rng: random.Random) -> ActionOutcome:
    # The seed body names the user ``name`` (with an optional ``ban_id``); unban by name.
    name = require(args, "username", "name", error="Missing username")
    return moderation.unban(state, {"username": name}, rng)


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace(".", "")


_SEED_ALIASES: Final[dict[str, Action]] = {
    "sendchat": moderation.say,
    "chat": moderation.say,
    "sendpm": moderation.private_message,
    "kickuser": moderation.kick,
    "banuser": moderation.ban,
    "muteuser": moderation.mute,
    "shadowmuteuser": moderation.shadow_mute,
    "unmuteuser": moderation.unmute,
    "unmute": moderation.unmute,
    "unban": _seed_unban,
    "addmedia": playback.add_video,
    "queue": playback.add_video,
    "deletemedia": playback.remove_video,
    "delete": playback.remove_video,
    "movemedia": playback.move_video,
    "move": playback.move_video,
    "jumpto": _seed_jump,
    "jump": _seed_jump,
    "clearplaylist": playback.clear,
    "shuffleplaylist": playback.shuffle,
}

_SEED_ACTIONS: Final[Mapping[str, Action]] = MappingProxyType(
    {**{_key(name): action for name, action in _ROBOT_NAMES.items()}, **_SEED_ALIASES}
)


def robot_action(command: str) -> Action | None:
    """The action of a kryten-robot command name (exact, case kept); ``None`` if unknown."""
    return ROBOT_ACTIONS.get(command)


def seed_action(action: str) -> Action | None:
    """The action of a seed command (case and ``_`` ignored); ``None`` if unknown."""
    return _SEED_ACTIONS.get(_key(action))
