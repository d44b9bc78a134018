"""The seed's channel-first command methods of ``KrytenClient``.

Each is a one-liner delegating to the channel-bound helpers of
:class:`~kryten_actors.bot.commands.ChannelCommands`, so the command models and the
single send path are shared with ``ChannelActor``.
"""

from __future__ import annotations

from typing import Any, Literal

from kryten_actors.bot.commands import After, ChannelCommands
from kryten_actors.protocol.commands import Command
from kryten_actors.protocol.results import AddMediaResult, CommandResult

__all__ = ["BoundChannel", "ClientCommands"]


class BoundChannel(ChannelCommands):
    """A configured channel seen through a client: ``client.channel("lounge").send_chat(...)``."""

    def __init__(self, client: ClientCommands, channel: str, domain: str | None) -> None:
        self._client = client
        self._channel = channel
        self._domain = domain

    async def send(self, command: Command) -> CommandResult:
        return await self._client.send(self._channel, command, domain=self._domain)

    @property
    def chat_limit(self) -> int:
        return self._client.chat_limit


class ClientCommands:
    """Channel-first command methods; subclasses provide ``send`` and ``chat_limit``."""

    @property
    def chat_limit(self) -> int:
        """Longest chat line accepted."""
        return 320

    async def send(
        self, channel: str, command: Command, *, domain: str | None = None
    ) -> CommandResult:
        """Send one command to a configured channel."""
        raise NotImplementedError

    def channel(self, channel: str, domain: str | None = None) -> BoundChannel:
        """The command helpers bound to one channel."""
        return BoundChannel(self, channel, domain)

    async def send_chat(
        self, channel: str, message: str, *, domain: str | None = None
    ) -> CommandResult:
        """Say ``message`` in the channel (at most ``chat_limit`` characters)."""
        return await self.channel(channel, domain).send_chat(message)

    async def send_pm(
        self, channel: str, to: str, message: str, *, domain: str | None = None
    ) -> CommandResult:
        """Send a private message."""
        return await self.channel(channel, domain).send_pm(to, message)

    async def add_media(
        self,
        channel: str,
        media_type: str,
        media_id: str,
        position: Literal["end", "next"] = "end",
        *,
        temp: bool = True,
        domain: str | None = None,
    ) -> AddMediaResult:
        """Queue media; in ``kryten-robot`` the result carries the new item's ``uid``."""
        return await self.channel(channel, domain).add_media(
            media_type, media_id, position, temp=temp
        )

    async def delete_media(
        self, channel: str, uid: int, *, domain: str | None = None
    ) -> CommandResult:
        """Remove a playlist item."""
        return await self.channel(channel, domain).delete_media(uid)

    async def move_media(
        self, channel: str, uid: int, after: After, *, domain: str | None = None
    ) -> CommandResult:
        """Move a playlist item after another uid, or to ``"prepend"``/``"append"``."""
        return await self.channel(channel, domain).move_media(uid, after)

    async def jump_to(self, channel: str, uid: int, *, domain: str | None = None) -> CommandResult:
        """Play a playlist item now."""
        return await self.channel(channel, domain).jump_to(uid)

    async def clear_playlist(self, channel: str, *, domain: str | None = None) -> CommandResult:
        """Remove every playlist item."""
        return await self.channel(channel, domain).clear_playlist()

    async def shuffle_playlist(self, channel: str, *, domain: str | None = None) -> CommandResult:
        """Shuffle the playlist."""
        return await self.channel(channel, domain).shuffle_playlist()

    async def set_temp(
        self, channel: str, uid: int, temp: bool = True, *, domain: str | None = None
    ) -> CommandResult:
        """Mark a playlist item temporary (removed after playing) or not."""
        return await self.channel(channel, domain).set_temp(uid, temp)

    async def play_next(self, channel: str, *, domain: str | None = None) -> CommandResult:
        """Skip to the next item."""
        return await self.channel(channel, domain).play_next()

    async def voteskip(self, channel: str, *, domain: str | None = None) -> CommandResult:
        """Vote to skip the current item."""
        return await self.channel(channel, domain).voteskip()

    async def kick(
        self, channel: str, username: str, reason: str = "", *, domain: str | None = None
    ) -> CommandResult:
        """Kick a user."""
        return await self.channel(channel, domain).kick(username, reason)

    async def ban(
        self, channel: str, username: str, reason: str = "", *, domain: str | None = None
    ) -> CommandResult:
        """Ban a user by name."""
        return await self.channel(channel, domain).ban(username, reason)

    async def unban(
        self, channel: str, username: str, *, domain: str | None = None
    ) -> CommandResult:
        """Lift a user's bans (the bridge looks the ban ids up by name)."""
        return await self.channel(channel, domain).unban(username)

    async def mute(
        self, channel: str, username: str, *, domain: str | None = None
    ) -> CommandResult:
        """Mute a user."""
        return await self.channel(channel, domain).mute(username)

    async def shadow_mute(
        self, channel: str, username: str, *, domain: str | None = None
    ) -> CommandResult:
        """Shadow-mute a user (only moderators see their lines)."""
        return await self.channel(channel, domain).shadow_mute(username)

    async def unmute(
        self, channel: str, username: str, *, domain: str | None = None
    ) -> CommandResult:
        """Lift a mute or shadow-mute."""
        return await self.channel(channel, domain).unmute(username)

    async def assign_leader(
        self, channel: str, username: str, *, domain: str | None = None
    ) -> CommandResult:
        """Give leader to a user (``""`` takes it away). Needs rank 2."""
        return await self.channel(channel, domain).assign_leader(username)

    async def set_channel_rank(
        self, channel: str, username: str, rank: int, *, domain: str | None = None
    ) -> CommandResult:
        """Set a user's channel rank."""
        return await self.channel(channel, domain).set_channel_rank(username, rank)

    async def request_banlist(self, channel: str, *, domain: str | None = None) -> CommandResult:
        """Ask for the ban list (``data["banlist"]`` in ``kryten-robot``)."""
        return await self.channel(channel, domain).request_banlist()

    async def request_channel_ranks(
        self, channel: str, *, domain: str | None = None
    ) -> CommandResult:
        """Ask for the channel ranks (needs rank 3)."""
        return await self.channel(channel, domain).request_channel_ranks()

    async def read_chan_log(self, channel: str, *, domain: str | None = None) -> CommandResult:
        """Ask for the channel log (needs rank 3; below it CyTube kicks the bridge)."""
        return await self.channel(channel, domain).read_chan_log()

    async def set_motd(
        self, channel: str, motd: str, *, domain: str | None = None
    ) -> CommandResult:
        """Replace the MOTD (HTML)."""
        return await self.channel(channel, domain).set_motd(motd)

    async def set_channel_css(
        self, channel: str, css: str, *, domain: str | None = None
    ) -> CommandResult:
        """Replace the channel CSS."""
        return await self.channel(channel, domain).set_channel_css(css)

    async def set_channel_js(
        self, channel: str, js: str, *, domain: str | None = None
    ) -> CommandResult:
        """Replace the channel JavaScript."""
        return await self.channel(channel, domain).set_channel_js(js)

    async def set_options(
        self, channel: str, options: dict[str, Any], *, domain: str | None = None
    ) -> CommandResult:
        """Change channel options (only the keys given)."""
        return await self.channel(channel, domain).set_options(options)

    async def set_permissions(
        self, channel: str, permissions: dict[str, float], *, domain: str | None = None
    ) -> CommandResult:
        """Change permission nodes (node → minimum rank)."""
        return await self.channel(channel, domain).set_permissions(permissions)

    async def update_emote(
        self, channel: str, name: str, image: str, *, domain: str | None = None
    ) -> CommandResult:
        """Add or change an emote."""
        return await self.channel(channel, domain).update_emote(name, image)

    async def remove_emote(
        self, channel: str, name: str, *, domain: str | None = None
    ) -> CommandResult:
        """Remove an emote."""
        return await self.channel(channel, domain).remove_emote(name)

    async def add_filter(
        self,
        channel: str,
        name: str,
        source: str,
        replace: str = "",
        *,
        flags: str = "gi",
        filterlinks: bool = False,
        active: bool = True,
        domain: str | None = None,
    ) -> CommandResult:
        """Add a chat filter (``flags``, ``filterlinks``, ``active`` as keywords)."""
        return await self.channel(channel, domain).add_filter(
            name, source, replace, flags=flags, filterlinks=filterlinks, active=active
        )

    async def update_filter(
        self,
        channel: str,
        name: str,
        source: str,
        replace: str = "",
        *,
        flags: str = "gi",
        filterlinks: bool = False,
        active: bool = True,
        domain: str | None = None,
    ) -> CommandResult:
        """Change a chat filter."""
        return await self.channel(channel, domain).update_filter(
            name, source, replace, flags=flags, filterlinks=filterlinks, active=active
        )

    async def remove_filter(
        self, channel: str, name: str, *, domain: str | None = None
    ) -> CommandResult:
        """Remove a chat filter."""
        return await self.channel(channel, domain).remove_filter(name)

    async def new_poll(
        self,
        channel: str,
        title: str,
        options: list[str],
        *,
        obscured: bool = False,
        timeout: int = 86400,  # noqa: ASYNC109 - the poll's duration, not a deadline
        domain: str | None = None,
    ) -> CommandResult:
        """Open a poll; it closes after ``timeout`` seconds (1 to 86400)."""
        return await self.channel(channel, domain).new_poll(
            title, options, obscured=obscured, timeout=timeout
        )

    async def vote(self, channel: str, option: int, *, domain: str | None = None) -> CommandResult:
        """Vote in the open poll."""
        return await self.channel(channel, domain).vote(option)

    async def close_poll(self, channel: str, *, domain: str | None = None) -> CommandResult:
        """Close the open poll."""
        return await self.channel(channel, domain).close_poll()

    async def search_library(
        self,
        channel: str,
        query: str,
        source: Literal["library", "yt"] = "library",
        *,
        domain: str | None = None,
    ) -> CommandResult:
        """Search the channel library (``data["results"]`` in ``kryten-robot``)."""
        return await self.channel(channel, domain).search_library(query, source)

    async def delete_from_library(
        self, channel: str, media_id: str, *, domain: str | None = None
    ) -> CommandResult:
        """Remove media from the channel library."""
        return await self.channel(channel, domain).delete_from_library(media_id)
