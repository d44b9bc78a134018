"""Simulated chat, moderation and channel-administration commands (reference §7).

Each function is an :data:`~kryten_actors.demo.outcome.Action`; the effects follow what
CyTube broadcast for the same command in ``tests/fixtures/commands.jsonl``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from kryten_actors.demo.chat import sanitize_motd
from kryten_actors.demo.effect import Effect
from kryten_actors.demo.outcome import ActionOutcome, pick, require
from kryten_actors.demo.scenario import BOT_RANK, ChannelState, emote_payload
from kryten_actors.errors import KrytenValidationError

__all__ = [
    "add_filter",
    "assign_leader",
    "ban",
    "kick",
    "mute",
    "no_effect",
    "private_message",
    "read_chan_log",
    "remove_emote",
    "remove_filter",
    "request_banlist",
    "request_channel_ranks",
    "say",
    "set_channel_css",
    "set_channel_js",
    "set_channel_rank",
    "set_motd",
    "set_options",
    "set_permissions",
    "shadow_mute",
    "unban",
    "unmute",
    "update_emote",
    "update_filter",
]

MAX_CUSTOMIZATION = 20_000
"""CyTube keeps only this many characters of a MOTD, CSS or JS."""

Args = Mapping[str, Any]


def no_effect(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """Accepted by the bridge, ignored by CyTube (``pause``, ``play``, ``seek``, …)."""
    return ActionOutcome()


def _kick_effects(state: ChannelState, name: str) -> list[Effect]:
    left = state.leave(name)
    if not left:
        return []  # CyTube says nothing about kicking someone who is not there
    return [*left, state.server_whisper(f"{state.bot_name} kicked {name}")]


def _flood(state: ChannelState) -> ActionOutcome | None:
    """CyTube's ``cooldown`` when the bot's chat limiter drops this line (see scenario)."""
    cooldown = state.chat_flood()
    return None if cooldown is None else ActionOutcome([cooldown])


def _ban_effects(state: ChannelState, name: str, reason: str) -> list[Effect]:
    lowered = name.lower()
    if any(entry["name"] == lowered for entry in state.banlist):
        return [Effect("errorMsg", {"msg": f"{lowered} is already banned"})]
    entry = {
        "id": state.next_ban_id,
        "ip": "*",
        "name": lowered,
        "reason": reason,
        "bannedby": state.bot_name,
    }
    state.next_ban_id += 1
    state.banlist.append(entry)
    notice = state.server_whisper(f"{state.bot_name} namebanned {lowered}")
    return [notice, *state.leave(name, count=False)]


def _slash_command(state: ChannelState, text: str) -> list[Effect] | None:
    """Effects of the chat commands the bridge's ``say`` passes through; ``None`` if plain chat."""
    words = text.split(" ", 2)
    command, target = words[0], words[1] if len(words) > 1 else ""
    if command == "/clear":
        notice = state.server_whisper(f"{state.bot_name} cleared chat.")
        return [Effect("clearchat", {"clearedBy": state.bot_name}), notice]
    if not target or command not in {"/kick", "/ban", "/mute", "/smute", "/unmute"}:
        return None
    if command == "/kick":
        return _kick_effects(state, target)
    if command == "/ban":
        return _ban_effects(state, target, words[2] if len(words) > 2 else "")
    if command == "/unmute":
        notice = state.server_whisper(f"{state.bot_name} unmuted {target.lower()}")
        return [notice, *state.set_muted(target, muted=False)[:1]]
    return state.set_muted(target, muted=True, shadow=command == "/smute")


def say(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``say``: the bot's line as a ``chatMsg`` (HTML-escaped); slash commands take effect."""
    text = str(require(args, "message", "msg", error="Missing message"))
    if (flooded := _flood(state)) is not None:
        return flooded
    effects = _slash_command(state, text)
    return ActionOutcome(effects if effects is not None else state.chat(state.bot_name, text))


def private_message(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``pm``: the ``pm`` event, or CyTube's ``errorMsg`` when the recipient is absent."""
    to = str(require(args, "to", "username", error="Missing to or msg"))
    text = str(require(args, "msg", "message", error="Missing to or msg"))
    if (flooded := _flood(state)) is not None:
        return flooded
    return ActionOutcome(state.private_message(state.bot_name, to, text))


def _target(args: Args) -> str:
    return str(require(args, "name", "username", error="Missing username"))


def mute(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``mute``: ``setUserMeta`` and the ``[server]`` notice."""
    name = _target(args)
    if (flooded := _flood(state)) is not None:
        return flooded
    return ActionOutcome(state.set_muted(name, muted=True))


def shadow_mute(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``smute``: like ``mute`` with ``smuted``."""
    name = _target(args)
    if (flooded := _flood(state)) is not None:
        return flooded
    return ActionOutcome(state.set_muted(name, muted=True, shadow=True))


def unmute(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """Seed ``unmuteUser`` (kryten-robot has no ``unmute``: it is ``say /unmute``)."""
    return ActionOutcome(state.set_muted(_target(args), muted=False))


def kick(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``kick``: ``userLeave``, ``usercount``, ``[server] … kicked …``."""
    name = _target(args)
    if (flooded := _flood(state)) is not None:
        return flooded
    return ActionOutcome(_kick_effects(state, name))


def ban(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``ban``: name-ban (``errorMsg`` if already banned)."""
    name = _target(args)
    if (flooded := _flood(state)) is not None:
        return flooded
    return ActionOutcome(_ban_effects(state, name, str(pick(args, "reason", default=""))))


def unban(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``unban`` by ``username`` (or ``ban_id`` + ``name``); data ``{success, removed}``."""
    username = pick(args, "username")
    ban_id, name = pick(args, "ban_id"), pick(args, "name")
    if username is None and (ban_id is None or name is None):
        raise KrytenValidationError("Missing username or ban_id", [("username", "missing")])
    lowered = str(username if username is not None else name).lower()
    removed = [entry for entry in state.banlist if entry["name"] == lowered]
    effects = [Effect("banlist", [dict(entry) for entry in state.banlist])]
    for entry in removed:
        state.banlist.remove(entry)
        effects.append(Effect("banlistRemove", {"id": entry["id"], "name": entry["name"]}))
    if removed:
        effects.append(state.server_whisper(f"{state.bot_name} unbanned {lowered}"))
    return ActionOutcome(effects, {"success": True, "removed": len(removed)})


def assign_leader(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``assignLeader``: ``setLeader`` (``""`` clears it)."""
    state.leader = str(pick(args, "name", "username", default=""))
    return ActionOutcome([Effect("setLeader", state.leader)])


def set_channel_rank(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``setChannelRank``: ``setUserRank``, or ``channelRankFail`` at or above the bot's rank."""
    name = _target(args)
    rank = float(require(args, "rank", error="Missing username or rank"))
    guest = state.users.get(name)
    if guest is not None and guest.rank == 0 and 1 <= rank < BOT_RANK:
        # CyTube broadcasts the change, then says a guest's rank cannot be stored
        msg = (
            "The user you promoted is not a registered account.  Any rank changes are "
            "temporary and not stored in the database."
        )
        return ActionOutcome([*state.set_rank(name, rank), Effect("channelRankFail", {"msg": msg})])
    if rank >= BOT_RANK or rank < 1:
        msg = (
            "Updating user rank failed: You can't promote someone to a rank equal or higher "
            "than yourself, or demote them to below rank 1."
        )
        return ActionOutcome([Effect("channelRankFail", {"msg": msg})])
    return ActionOutcome(state.set_rank(name, int(rank) if rank.is_integer() else rank))


def request_channel_ranks(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``requestChannelRanks``: data ``ranks`` is the ``channelRanks`` envelope."""
    ranks = [
        {"name": user.name, "rank": user.rank, "channel": state.channel.lower()}
        for user in sorted(state.users.values(), key=lambda user: user.name)
        if user.rank >= 2
    ]
    return ActionOutcome.answering_with("ranks", Effect("channelRanks", ranks))


def request_banlist(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``requestBanlist``: data ``banlist`` is the ``banlist`` envelope."""
    banlist = [dict(entry) for entry in state.banlist]
    return ActionOutcome.answering_with("banlist", Effect("banlist", banlist))


def read_chan_log(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``readChanLog``: data ``log`` is the ``readChanLog`` envelope."""
    log = f"[init] Loaded channel {state.channel} (simulated)\n[login] {state.bot_name} joined"
    payload = {"success": True, "data": log}
    return ActionOutcome.answering_with("log", Effect("readChanLog", payload))


def set_motd(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``setMotd``: CyTube sanitizes the HTML and broadcasts ``setMotd``."""
    state.motd = sanitize_motd(str(pick(args, "motd", default="")))[:MAX_CUSTOMIZATION]
    return ActionOutcome([Effect("setMotd", state.motd)])


def set_channel_css(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``setChannelCSS``: ``channelCSSJS`` with the new hash."""
    state.css = str(pick(args, "css", default=""))[:MAX_CUSTOMIZATION]
    return ActionOutcome([Effect("channelCSSJS", state.css_js_payload())])


def set_channel_js(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``setChannelJS``: ``channelCSSJS`` with the new hash."""
    state.js = str(pick(args, "js", default=""))[:MAX_CUSTOMIZATION]
    return ActionOutcome([Effect("channelCSSJS", state.css_js_payload())])


def set_options(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``setOptions``: the merged ``channelOpts``."""
    state.options.update(dict(pick(args, "options", default={})))
    return ActionOutcome([Effect("channelOpts", dict(state.options))])


def set_permissions(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``setPermissions``: the merged ``setPermissions`` map."""
    state.permissions.update(dict(pick(args, "permissions", default={})))
    return ActionOutcome([Effect("setPermissions", dict(state.permissions))])


def update_emote(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``updateEmote``: add or replace an emote."""
    emote = emote_payload(_emote_name(args), str(pick(args, "image", default="")))
    state.emotes = [e for e in state.emotes if e["name"] != emote["name"]] + [emote]
    return ActionOutcome([Effect("updateEmote", dict(emote))])


def remove_emote(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``removeEmote``."""
    name = _emote_name(args)
    state.emotes = [emote for emote in state.emotes if emote["name"] != name]
    return ActionOutcome([Effect("removeEmote", {"name": name})])


def _emote_name(args: Args) -> str:
    return str(require(args, "name", error="Missing emote name"))


def _filter(args: Args) -> dict[str, Any]:
    return {
        "name": str(require(args, "name", error="Missing filter name")),
        "source": str(pick(args, "source", default="")),
        "replace": str(pick(args, "replace", default="")),
        "flags": str(pick(args, "flags", default="gi")),
        "active": bool(pick(args, "active", default=True)),
        "filterlinks": bool(pick(args, "filterlinks", default=False)),
    }


def add_filter(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``addFilter``: ``addFilterSuccess`` + ``updateChatFilter``, or ``errorMsg`` (bad regex)."""
    chat_filter = _filter(args)
    try:
        re.compile(chat_filter["source"])
    except re.error as exc:
        return ActionOutcome(
            [Effect("errorMsg", {"msg": f"Invalid regex: {exc.msg}", "alert": True})]
        )
    state.filters[chat_filter["name"]] = chat_filter
    return ActionOutcome(
        [Effect("addFilterSuccess", None), Effect("updateChatFilter", chat_filter)]
    )


def update_filter(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``updateFilter``: ``updateChatFilter``."""
    chat_filter = _filter(args)
    state.filters[chat_filter["name"]] = chat_filter
    return ActionOutcome([Effect("updateChatFilter", chat_filter)])


def remove_filter(state: ChannelState, args: Args, rng: random.Random) -> ActionOutcome:
    """``removeFilter``: ``deleteChatFilter``."""
    name = str(require(args, "name", error="Missing filter name"))
    state.filters.pop(name, None)
    return ActionOutcome([Effect("deleteChatFilter", {"name": name})])
