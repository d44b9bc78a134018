"""Commands for channel administration: MOTD, CSS/JS, options, permissions, emotes, filters,
ranks, the ban list and the channel log."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from kryten_actors.protocol.command import Command, Username

__all__ = [
    "MAX_CUSTOMIZATION_LENGTH",
    "AddFilter",
    "ReadChanLog",
    "RemoveEmote",
    "RemoveFilter",
    "RequestBanlist",
    "RequestChannelRanks",
    "SetChannelCSS",
    "SetChannelJS",
    "SetChannelRank",
    "SetMotd",
    "SetOptions",
    "SetPermissions",
    "UpdateEmote",
    "UpdateFilter",
]

MAX_CUSTOMIZATION_LENGTH = 20_000
"""CyTube keeps only this many characters (UTF-16 units) of the MOTD, CSS and JS and would cut
longer text silently, so the models refuse it before sending."""


class SetMotd(Command):
    """Set the message of the day (HTML; CyTube sanitizes it). At most 20,000 characters."""

    method = "set_motd"
    robot_command = "setMotd"
    min_rank = 3
    motd: str = Field(max_length=MAX_CUSTOMIZATION_LENGTH)


class SetChannelCSS(Command):
    """Replace the channel CSS. At most 20,000 characters."""

    method = "set_channel_css"
    robot_command = "setChannelCSS"
    min_rank = 3
    css: str = Field(max_length=MAX_CUSTOMIZATION_LENGTH)


class SetChannelJS(Command):
    """Replace the channel JavaScript. At most 20,000 characters."""

    method = "set_channel_js"
    robot_command = "setChannelJS"
    min_rank = 3
    js: str = Field(max_length=MAX_CUSTOMIZATION_LENGTH)


class SetOptions(Command):
    """Change channel options (``allow_voteskip``, ``afk_timeout``, … reference §12)."""

    method = "set_options"
    robot_command = "setOptions"
    min_rank = 2
    options: dict[str, Any] = Field(min_length=1)


class SetPermissions(Command):
    """Change permission nodes: node name → minimum rank (e.g. ``{"drink": 1.5}``)."""

    method = "set_permissions"
    robot_command = "setPermissions"
    min_rank = 3
    permissions: dict[str, float] = Field(min_length=1)


class UpdateEmote(Command):
    """Add or change emote ``name`` (names usually start with ``#``) showing ``image``."""

    method = "update_emote"
    robot_command = "updateEmote"
    min_rank = 3
    name: str = Field(min_length=1, max_length=100)
    image: str = Field(min_length=1)


class RemoveEmote(Command):
    """Remove emote ``name``."""

    method = "remove_emote"
    robot_command = "removeEmote"
    min_rank = 3
    name: str = Field(min_length=1, max_length=100)


class _FilterFields(Command):
    """A chat filter: regex ``source`` with ``flags`` replaced by ``replace``.

    CyTube reports an invalid regex afterwards with an ``errorMsg`` ("Invalid regex").
    """

    min_rank = 3
    name: str = Field(min_length=1, max_length=100)
    source: str = Field(min_length=1)
    flags: str = Field(default="gi", pattern=r"^[gimsuy]*$")
    replace: str = ""
    filterlinks: bool = False
    active: bool = True


class AddFilter(_FilterFields):
    """Add a chat filter."""

    method = "add_filter"
    robot_command = "addFilter"


class UpdateFilter(_FilterFields):
    """Change the chat filter called ``name``."""

    method = "update_filter"
    robot_command = "updateFilter"


class RemoveFilter(Command):
    """Remove the chat filter called ``name``."""

    method = "remove_filter"
    robot_command = "removeFilter"
    min_rank = 3
    name: str = Field(min_length=1, max_length=100)


class SetChannelRank(Command):
    """Give registered user ``username`` the permanent channel ``rank``.

    CyTube answers a refusal with a ``channelRankFail`` event, after the bridge said "ok".
    CyTube refuses ranks below 1 (and at or above the bot's own, except 4 for an owner).
    """

    method = "set_channel_rank"
    robot_command = "setChannelRank"
    min_rank = 3
    username: Username
    rank: int = Field(ge=1, le=255)


class RequestBanlist(Command):
    """Fetch the ban list; the kryten-robot reply holds the ``banlist`` event envelope."""

    method = "request_banlist"
    robot_command = "requestBanlist"
    min_rank = 2


class RequestChannelRanks(Command):
    """Fetch users with channel ranks; the reply holds the ``channelRanks`` envelope."""

    method = "request_channel_ranks"
    robot_command = "requestChannelRanks"
    min_rank = 3


class ReadChanLog(Command):
    """Read the channel log (``count`` lines, seed profile only).

    Needs rank 3: CyTube **kicks** a lower-ranked sender, so the bot must check first.
    """

    method = "read_chan_log"
    robot_command = "readChanLog"
    min_rank = 3
    count: int = Field(default=100, ge=1)

    def robot_args(self) -> dict[str, Any]:
        return {}
