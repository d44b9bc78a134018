"""kryten-robot state queries (reference §8): read the bridge's stored channel state.

These exist only in the ``kryten-robot`` profile; the parameters sit at the top level of the
request, not in ``args``. They never reach CyTube, so any rank may send them.
"""

from __future__ import annotations

from kryten_actors.protocol.command import Command, Username
from kryten_actors.protocol.results import (
    BridgeConfigResult,
    EmotesResult,
    MotdResult,
    PingResult,
    PlaylistResult,
    UserlistResult,
    UserResult,
)

__all__ = [
    "StateEmotes",
    "StateMotd",
    "StatePlaylist",
    "StateUser",
    "StateUserlist",
    "SystemConfig",
    "SystemPing",
]


class _StateQuery(Command):
    robot_only = True
    top_level_args = True
    min_rank = -1


class StateUserlist(_StateQuery):
    """The stored user list (:class:`UserlistResult`)."""

    method = "state_userlist"
    robot_command = "state.userlist"
    result_type = UserlistResult


class StatePlaylist(_StateQuery):
    """The stored playlist (:class:`PlaylistResult`)."""

    method = "state_playlist"
    robot_command = "state.playlist"
    result_type = PlaylistResult


class StateMotd(_StateQuery):
    """The stored MOTD (:class:`MotdResult`)."""

    method = "state_motd"
    robot_command = "state.motd"
    result_type = MotdResult


class StateEmotes(_StateQuery):
    """The stored emotes (:class:`EmotesResult`)."""

    method = "state_emotes"
    robot_command = "state.emotes"
    result_type = EmotesResult


class StateUser(_StateQuery):
    """One stored user and profile (:class:`UserResult`)."""

    method = "state_user"
    robot_command = "state.user"
    result_type = UserResult
    username: Username


class SystemPing(_StateQuery):
    """Is the bridge of this channel alive, and since when (:class:`PingResult`)."""

    method = "system_ping"
    robot_command = "system.ping"
    result_type = PingResult


class SystemConfig(_StateQuery):
    """The bridge's configuration, passwords redacted (:class:`BridgeConfigResult`)."""

    method = "system_config"
    robot_command = "system.config"
    result_type = BridgeConfigResult
