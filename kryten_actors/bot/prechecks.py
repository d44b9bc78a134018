"""Checks against the tracked channel state before a command is sent.

CyTube ignores, without a word, a delete/jump/move/settemp of a uid that is not in the
playlist and a kick of a user who is not in the channel — and a move ``after`` an
unknown uid even loses the moved item; the bot knows both from the events it tracks,
so it refuses such commands itself and says why. (A PM or mute of an absent user is
answered by CyTube itself, so those go out and its refusal is raised.) A check
runs only once the state it needs is known (a ``playlist``/``userlist`` was seen or
seeded), so a bot that just started is never refused on a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kryten_actors.protocol.commands import (
    AddFilter,
    AddMedia,
    AssignLeader,
    Ban,
    ClearPlaylist,
    ClosePoll,
    Command,
    DeleteFromLibrary,
    DeleteMedia,
    JumpTo,
    Kick,
    MoveMedia,
    Mute,
    NewPoll,
    PlayNext,
    RemoveEmote,
    RemoveFilter,
    RequestBanlist,
    SendChat,
    SetMotd,
    SetTemp,
    ShadowMute,
    ShufflePlaylist,
    Unban,
    Unmute,
    UpdateEmote,
    UpdateFilter,
    Vote,
    Voteskip,
)

if TYPE_CHECKING:
    from kryten_actors.bot.tracked import ChannelState

__all__ = ["precheck", "required_rank"]

#: The channel permission node (``setPermissions``) CyTube checks for each command; the
#: command's ``min_rank`` (CyTube's default) applies until the channel's map is known.
#: Commands not listed check a rank fixed in CyTube's code (CSS, JS, options, ranks…).
PERMISSION_NODES: dict[type[Command], str] = {
    SendChat: "chat",
    DeleteMedia: "playlistdelete",
    MoveMedia: "playlistmove",
    JumpTo: "playlistjump",
    PlayNext: "playlistjump",
    ClearPlaylist: "playlistclear",
    ShufflePlaylist: "playlistshuffle",
    SetTemp: "settemp",
    Voteskip: "voteskip",
    Kick: "kick",
    Ban: "ban",
    Unban: "ban",
    RequestBanlist: "ban",
    Mute: "mute",
    ShadowMute: "mute",
    Unmute: "mute",
    AssignLeader: "leaderctl",
    SetMotd: "motdedit",
    UpdateEmote: "emoteedit",
    RemoveEmote: "emoteedit",
    AddFilter: "filteredit",
    UpdateFilter: "filteredit",
    RemoveFilter: "filteredit",
    NewPoll: "pollctl",
    ClosePoll: "pollctl",
    Vote: "pollvote",
    DeleteFromLibrary: "deletefromchannellib",
}


def required_rank(command: Command, state: ChannelState) -> float:
    """The rank CyTube requires for ``command`` in this channel as tracked."""
    permissions = state.permissions
    if isinstance(command, AddMedia):
        node = "playlistadd" if state.playlist_locked else "oplaylistadd"
        needed = _rank(permissions, node, command.min_rank if state.playlist_locked else -1)
        if command.position == "next":
            needed = max(needed, _rank(permissions, "playlistnext", command.min_rank))
        return needed
    checked = PERMISSION_NODES.get(type(command))
    return command.min_rank if checked is None else _rank(permissions, checked, command.min_rank)


def _rank(permissions: Mapping[str, Any], node: str, default: float) -> float:
    value = permissions.get(node)
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


_UID_COMMANDS = (DeleteMedia, JumpTo, MoveMedia, SetTemp)
_USER_COMMANDS = (Kick,)


def precheck(command: Command, state: ChannelState) -> str | None:
    """Why ``command`` cannot succeed in the channel as tracked, or None."""
    if isinstance(command, _UID_COMMANDS) and state.playlist_known:
        uid = command.uid
        if not state.playlist.has(uid):
            return f"uid {uid} is not in the playlist"
        after = command.after if isinstance(command, MoveMedia) else None
        if isinstance(after, int) and not state.playlist.has(after):
            return f"uid {after} (after) is not in the playlist"
    target = command.username if isinstance(command, _USER_COMMANDS) else None
    if target is not None and state.userlist_known and target not in state.userlist:
        return f"user {target!r} is not in the channel"
    return None
