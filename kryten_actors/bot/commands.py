"""Command helpers of a ChannelActor: one-liners over ``send()``, bound to its channel.

Every helper builds a typed command model (validated, with errors naming the field)
and hands it to the single ``send()`` path; nothing here encodes or publishes.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

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
    ReadChanLog,
    RemoveEmote,
    RemoveFilter,
    RequestBanlist,
    RequestChannelRanks,
    SearchLibrary,
    SendChat,
    SendPM,
    SetChannelCSS,
    SetChannelJS,
    SetChannelRank,
    SetMotd,
    SetOptions,
    SetPermissions,
    SetTemp,
    ShadowMute,
    ShufflePlaylist,
    StateEmotes,
    StateMotd,
    StatePlaylist,
    StateUser,
    StateUserlist,
    Unban,
    Unmute,
    UpdateEmote,
    UpdateFilter,
    Vote,
    Voteskip,
)
from kryten_actors.protocol.results import (
    AddMediaResult,
    CommandResult,
    EmotesResult,
    MotdResult,
    PlaylistResult,
    UserlistResult,
    UserResult,
)

__all__ = ["ChannelCommands", "StateQueries", "expect_result"]

R = TypeVar("R", bound=CommandResult)
_UNLIMITED = 1 << 31  # the outbox splits long text into lines of the channel's limit
After = int | Literal["prepend", "append"]


def expect_result(result: CommandResult, kind: type[R]) -> R:
    """Narrow a result to the type its command declares."""
    if not isinstance(result, kind):  # pragma: no cover - the encoder guarantees it
        raise TypeError(f"expected {kind.__name__}, got {type(result).__name__}")
    return result


class StateQueries:
    """The bridge's stored channel state (``kryten-robot`` profile only)."""

    def __init__(self, owner: ChannelCommands) -> None:
        self._owner = owner

    async def userlist(self) -> UserlistResult:
        """Users in the channel, as the bridge last stored them."""
        return expect_result(await self._owner.send(StateUserlist()), UserlistResult)

    async def playlist(self) -> PlaylistResult:
        """The playlist items, as the bridge last stored them."""
        return expect_result(await self._owner.send(StatePlaylist()), PlaylistResult)

    async def motd(self) -> MotdResult:
        """The channel's MOTD HTML."""
        return expect_result(await self._owner.send(StateMotd()), MotdResult)

    async def emotes(self) -> EmotesResult:
        """The channel's emotes."""
        return expect_result(await self._owner.send(StateEmotes()), EmotesResult)

    async def user(self, username: str) -> UserResult:
        """One user and their profile (both ``None`` if absent)."""
        return expect_result(await self._owner.send(StateUser(username=username)), UserResult)


class ChannelCommands:
    """Channel-bound command helpers; subclasses provide ``send`` and ``chat_limit``."""

    __slots__ = ()

    async def send(self, command: Command) -> CommandResult:
        """Send one command to this channel."""
        raise NotImplementedError

    @property
    def chat_limit(self) -> int:
        """Longest chat line accepted (``chat_max_length`` of the config)."""
        return 320

    @property
    def state(self) -> StateQueries:
        """Queries of the bridge's stored state: ``await self.state.userlist()``."""
        return StateQueries(self)

    # chat
    async def send_chat(
        self,
        message: str,
        *,
        split: bool = True,
        action: Literal["me"] | None = None,
        as_command: bool = False,
    ) -> CommandResult:
        """Say ``message`` in the channel, shown exactly as written (a leading ``/`` too).

        Lines are paced to CyTube's flood limits and keep their order; the call returns
        when the (last) line was handed to the bridge. Text longer than ``chat_limit``
        is split at word boundaries into several lines (``split=False`` refuses it
        instead). ``action="me"`` sends an action line; ``as_command=True`` lets CyTube
        run ``message`` as a chat command — never pass user text with it. Raises
        ``ChatQueueFull`` when ``chat.queue_limit`` lines are already waiting.
        """
        data = {"message": message, "action": action, "as_command": as_command}
        limit = _UNLIMITED if split and not as_command else self.chat_limit
        return await self.send(SendChat.build(data, max_chat_length=limit))

    async def send_pm(self, to: str, message: str) -> CommandResult:
        """Send a private message."""
        data = {"to": to, "message": message}
        return await self.send(SendPM.build(data, max_chat_length=self.chat_limit))

    # playlist
    async def add_media(
        self,
        media_type: str,
        media_id: str,
        position: Literal["end", "next"] = "end",
        *,
        temp: bool = True,
    ) -> AddMediaResult:
        """Queue media; in ``kryten-robot`` the result carries the new item's ``uid``."""
        command = AddMedia(media_type=media_type, media_id=media_id, position=position, temp=temp)
        return expect_result(await self.send(command), AddMediaResult)

    async def delete_media(self, uid: int) -> CommandResult:
        """Remove a playlist item."""
        return await self.send(DeleteMedia(uid=uid))

    async def move_media(self, uid: int, after: After) -> CommandResult:
        """Move a playlist item after another uid, or to ``"prepend"``/``"append"``."""
        return await self.send(MoveMedia(uid=uid, after=after))

    async def jump_to(self, uid: int) -> CommandResult:
        """Play a playlist item now."""
        return await self.send(JumpTo(uid=uid))

    async def clear_playlist(self) -> CommandResult:
        """Remove every playlist item."""
        return await self.send(ClearPlaylist())

    async def shuffle_playlist(self) -> CommandResult:
        """Shuffle the playlist."""
        return await self.send(ShufflePlaylist())

    async def set_temp(self, uid: int, temp: bool = True) -> CommandResult:
        """Mark a playlist item temporary (removed after playing) or not."""
        return await self.send(SetTemp(uid=uid, temp=temp))

    async def play_next(self) -> CommandResult:
        """Skip to the next item."""
        return await self.send(PlayNext())

    async def voteskip(self) -> CommandResult:
        """Vote to skip the current item."""
        return await self.send(Voteskip())

    # moderation
    async def kick(self, username: str, reason: str = "") -> CommandResult:
        """Kick a user."""
        return await self.send(Kick(username=username, reason=reason))

    async def ban(self, username: str, reason: str = "") -> CommandResult:
        """Ban a user by name."""
        return await self.send(Ban(username=username, reason=reason))

    async def unban(self, username: str) -> CommandResult:
        """Lift a user's bans (the bridge looks the ban ids up by name)."""
        return await self.send(Unban(username=username))

    async def mute(self, username: str) -> CommandResult:
        """Mute a user."""
        return await self.send(Mute(username=username))

    async def shadow_mute(self, username: str) -> CommandResult:
        """Shadow-mute a user (only moderators see their lines)."""
        return await self.send(ShadowMute(username=username))

    async def unmute(self, username: str) -> CommandResult:
        """Lift a mute or shadow-mute."""
        return await self.send(Unmute(username=username))

    async def assign_leader(self, username: str) -> CommandResult:
        """Give leader to a user (``""`` takes it away). Needs rank 2."""
        return await self.send(AssignLeader(username=username))

    async def set_channel_rank(self, username: str, rank: int) -> CommandResult:
        """Set a user's channel rank."""
        return await self.send(SetChannelRank(username=username, rank=rank))

    async def request_banlist(self) -> CommandResult:
        """Ask for the ban list (``data["banlist"]`` in ``kryten-robot``)."""
        return await self.send(RequestBanlist())

    async def request_channel_ranks(self) -> CommandResult:
        """Ask for the channel ranks (needs rank 3)."""
        return await self.send(RequestChannelRanks())

    async def read_chan_log(self) -> CommandResult:
        """Ask for the channel log (needs rank 3; below it CyTube kicks the bridge)."""
        return await self.send(ReadChanLog())

    # channel administration
    async def set_motd(self, motd: str) -> CommandResult:
        """Replace the MOTD (HTML)."""
        return await self.send(SetMotd(motd=motd))

    async def set_channel_css(self, css: str) -> CommandResult:
        """Replace the channel CSS."""
        return await self.send(SetChannelCSS(css=css))

    async def set_channel_js(self, js: str) -> CommandResult:
        """Replace the channel JavaScript."""
        return await self.send(SetChannelJS(js=js))

    async def set_options(self, options: dict[str, Any]) -> CommandResult:
        """Change channel options (only the keys given)."""
        return await self.send(SetOptions(options=options))

    async def set_permissions(self, permissions: dict[str, float]) -> CommandResult:
        """Change permission nodes (node → minimum rank)."""
        return await self.send(SetPermissions(permissions=permissions))

    async def update_emote(self, name: str, image: str) -> CommandResult:
        """Add or change an emote."""
        return await self.send(UpdateEmote(name=name, image=image))

    async def remove_emote(self, name: str) -> CommandResult:
        """Remove an emote."""
        return await self.send(RemoveEmote(name=name))

    async def add_filter(
        self,
        name: str,
        source: str,
        replace: str = "",
        *,
        flags: str = "gi",
        filterlinks: bool = False,
        active: bool = True,
    ) -> CommandResult:
        """Add a chat filter (``source`` is a regular expression)."""
        return await self.send(
            AddFilter(
                name=name,
                source=source,
                replace=replace,
                flags=flags,
                filterlinks=filterlinks,
                active=active,
            )
        )

    async def update_filter(
        self,
        name: str,
        source: str,
        replace: str = "",
        *,
        flags: str = "gi",
        filterlinks: bool = False,
        active: bool = True,
    ) -> CommandResult:
        """Change a chat filter (``source`` is a regular expression)."""
        return await self.send(
            UpdateFilter(
                name=name,
                source=source,
                replace=replace,
                flags=flags,
                filterlinks=filterlinks,
                active=active,
            )
        )

    async def remove_filter(self, name: str) -> CommandResult:
        """Remove a chat filter."""
        return await self.send(RemoveFilter(name=name))

    # polls
    async def new_poll(
        self,
        title: str,
        options: list[str],
        *,
        obscured: bool = False,
        timeout: int = 86400,  # noqa: ASYNC109 - the poll's duration, not a deadline
    ) -> CommandResult:
        """Open a poll; it closes after ``timeout`` seconds (1 to 86400)."""
        return await self.send(
            NewPoll(title=title, options=options, obscured=obscured, timeout=timeout)
        )

    async def vote(self, option: int) -> CommandResult:
        """Vote in the open poll."""
        return await self.send(Vote(option=option))

    async def close_poll(self) -> CommandResult:
        """Close the open poll."""
        return await self.send(ClosePoll())

    # library
    async def search_library(
        self, query: str, source: Literal["library", "yt"] = "library"
    ) -> CommandResult:
        """Search the channel library (``data["results"]`` in ``kryten-robot``)."""
        return await self.send(SearchLibrary(query=query, source=source))

    async def delete_from_library(self, media_id: str) -> CommandResult:
        """Remove media from the channel library."""
        return await self.send(DeleteFromLibrary(media_id=media_id))
