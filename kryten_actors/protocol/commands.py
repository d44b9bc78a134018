"""CyTube commands as data: one frozen model per command, collected in one table.

``COMMANDS`` maps the seed wire action (lowerCamel of the seed's method name, ``sendChat``)
to the model. Every model carries its kryten-robot command name and its minimum rank;
:mod:`kryten_actors.protocol.encoding` (re-exported here) turns any of them into subject +
body for a profile.
Commands CyTube ignores (``pause``, ``play``, ``seek``) have no model: asking for them raises
:class:`~kryten_actors.errors.KrytenValidationError` saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, NoReturn

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.channel_commands import (
    AddFilter,
    ReadChanLog,
    RemoveEmote,
    RemoveFilter,
    RequestBanlist,
    RequestChannelRanks,
    SetChannelCSS,
    SetChannelJS,
    SetChannelRank,
    SetMotd,
    SetOptions,
    SetPermissions,
    UpdateEmote,
    UpdateFilter,
)
from kryten_actors.protocol.chat_commands import (
    AssignLeader,
    Ban,
    Kick,
    Mute,
    SendChat,
    SendPM,
    ShadowMute,
    Unban,
    Unmute,
)
from kryten_actors.protocol.command import DEFAULT_MAX_CHAT_LENGTH, Command
from kryten_actors.protocol.encoding import (
    CommandEncoder,
    EncodedCommand,
    RobotCommandEncoder,
    SeedCommandEncoder,
    decode_reply,
    encoder_for,
)
from kryten_actors.protocol.playlist_commands import (
    AddMedia,
    ClearPlaylist,
    DeleteFromLibrary,
    DeleteMedia,
    JumpTo,
    MoveMedia,
    PlayNext,
    SearchLibrary,
    SetTemp,
    ShufflePlaylist,
    Voteskip,
)
from kryten_actors.protocol.poll_commands import ClosePoll, NewPoll, Vote
from kryten_actors.protocol.state_queries import (
    StateEmotes,
    StateMotd,
    StatePlaylist,
    StateUser,
    StateUserlist,
    SystemConfig,
    SystemPing,
)

__all__ = [
    "COMMANDS",
    "UNSUPPORTED_COMMANDS",
    "AddFilter",
    "AddMedia",
    "AssignLeader",
    "Ban",
    "ClearPlaylist",
    "ClosePoll",
    "Command",
    "CommandEncoder",
    "DeleteFromLibrary",
    "DeleteMedia",
    "EncodedCommand",
    "JumpTo",
    "Kick",
    "MoveMedia",
    "Mute",
    "NewPoll",
    "PlayNext",
    "ReadChanLog",
    "RemoveEmote",
    "RemoveFilter",
    "RequestBanlist",
    "RequestChannelRanks",
    "RobotCommandEncoder",
    "SearchLibrary",
    "SeedCommandEncoder",
    "SendChat",
    "SendPM",
    "SetChannelCSS",
    "SetChannelJS",
    "SetChannelRank",
    "SetMotd",
    "SetOptions",
    "SetPermissions",
    "SetTemp",
    "ShadowMute",
    "ShufflePlaylist",
    "StateEmotes",
    "StateMotd",
    "StatePlaylist",
    "StateUser",
    "StateUserlist",
    "SystemConfig",
    "SystemPing",
    "Unban",
    "Unmute",
    "UpdateEmote",
    "UpdateFilter",
    "Vote",
    "Voteskip",
    "build_command",
    "command_class",
    "decode_reply",
    "encoder_for",
    "unsupported_command",
]

_ALL: Final[tuple[type[Command], ...]] = (
    SendChat,
    SendPM,
    AddMedia,
    DeleteMedia,
    MoveMedia,
    JumpTo,
    ClearPlaylist,
    ShufflePlaylist,
    SetTemp,
    PlayNext,
    Voteskip,
    Kick,
    Ban,
    Unban,
    Mute,
    ShadowMute,
    Unmute,
    AssignLeader,
    SetMotd,
    SetChannelCSS,
    SetChannelJS,
    SetOptions,
    SetPermissions,
    UpdateEmote,
    RemoveEmote,
    AddFilter,
    UpdateFilter,
    RemoveFilter,
    NewPoll,
    Vote,
    ClosePoll,
    SetChannelRank,
    RequestBanlist,
    RequestChannelRanks,
    ReadChanLog,
    SearchLibrary,
    DeleteFromLibrary,
    StateUserlist,
    StatePlaylist,
    StateMotd,
    StateEmotes,
    StateUser,
    SystemPing,
    SystemConfig,
)

COMMANDS: Final[Mapping[str, type[Command]]] = MappingProxyType({c.action: c for c in _ALL})
"""Seed wire action (``sendChat``) → command model (the one table)."""

_PLAYBACK_WHY: Final = (
    "CyTube ignores {name!r} from a client: the bridge forwards it but nothing happens "
    "(reference §7). Playback control needs leader status and a mediaUpdate; use "
    "PlayNext, JumpTo or Voteskip instead."
)
UNSUPPORTED_COMMANDS: Final[Mapping[str, str]] = MappingProxyType(
    {name: _PLAYBACK_WHY.format(name=name) for name in ("pause", "play", "seek")}
)
"""Commands that look available but do nothing, with the reason."""


def unsupported_command(name: str) -> NoReturn:
    """Raise :class:`KrytenValidationError` explaining why ``name`` cannot be sent."""
    reason = UNSUPPORTED_COMMANDS.get(name.lower())
    if reason is None:
        reason = f"unknown command {name!r}; known commands: {', '.join(sorted(COMMANDS))}"
    raise KrytenValidationError(reason, [("action", reason)])


def command_class(action: str) -> type[Command]:
    """The model for seed action ``action``; raises for unknown or unsupported names."""
    try:
        return COMMANDS[action]
    except KeyError:
        unsupported_command(action)


def build_command(
    action: str,
    data: Mapping[str, Any] | None = None,
    *,
    max_chat_length: int = DEFAULT_MAX_CHAT_LENGTH,
) -> Command:
    """Validate ``data`` into the command for ``action`` (see :meth:`Command.build`)."""
    return command_class(action).build(data or {}, max_chat_length=max_chat_length)
