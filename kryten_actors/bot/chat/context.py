"""CommandContext: what a chat command handler gets besides its arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kryten_actors.protocol.events import PrivateMessageEvent

if TYPE_CHECKING:
    from kryten_actors.bot.channel import ChannelActor
    from kryten_actors.bot.chat.command import CommandSpec
    from kryten_actors.bot.tracked import ChannelUser
    from kryten_actors.protocol.events import ChatMessageEvent
    from kryten_actors.protocol.results import CommandResult

__all__ = ["CommandContext"]


class CommandContext:
    """One invocation of a chat command: who, where, how, and a way to answer.

    ``ctx.reply(text)`` answers in the channel's chat, or by PM when the command came
    as a PM; it takes the channel's send path (pacing, bridge and rank waits), like
    ``send_chat``.
    """

    __slots__ = ("actor", "args_text", "command", "event", "invoked", "prefix")

    def __init__(
        self,
        *,
        actor: ChannelActor,
        event: ChatMessageEvent | PrivateMessageEvent,
        command: CommandSpec,
        prefix: str,
        invoked: str,
        args_text: str,
    ) -> None:
        self.actor = actor
        self.event = event
        self.command = command
        self.prefix = prefix
        #: How the user called it, prefix included (``!r`` for an alias).
        self.invoked = invoked
        #: The text after the command name, as typed.
        self.args_text = args_text

    def __repr__(self) -> str:
        return f"<CommandContext {self.invoked} by {self.username} in {self.actor.channel}>"

    @property
    def username(self) -> str:
        """Who sent the command."""
        return self.event.username

    @property
    def user(self) -> ChannelUser | None:
        """The sender as the tracked userlist knows them (None when not listed)."""
        return self.actor.userlist.get(self.event.username)

    @property
    def rank(self) -> float:
        """The sender's rank from the tracked userlist (0, a guest, when not listed)."""
        user = self.user
        return user.rank if user is not None else 0.0

    @property
    def channel(self) -> str:
        """The channel the command came from."""
        return self.actor.channel

    @property
    def is_pm(self) -> bool:
        """True when the command came as a private message."""
        return isinstance(self.event, PrivateMessageEvent)

    async def reply(self, text: str) -> CommandResult:
        """Answer in the channel (or by PM for a PM) through the channel's send path."""
        if self.is_pm:
            return await self.actor.send_pm(self.username, text)
        return await self.actor.send_chat(text)

    async def send(self, text: str, **options: Any) -> CommandResult:
        """Say ``text`` in the channel's chat whatever way the command came."""
        return await self.actor.send_chat(text, **options)
