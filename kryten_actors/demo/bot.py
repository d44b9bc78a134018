"""The demo bot: per-channel chat statistics, a few chat commands, and a deliberate crash.

:class:`DemoActor` is the multi-channel example (one actor per channel, per-channel state,
a timer) plus the chat commands the simulated crowd types (``!roll``, ``!uptime``,
``!stats``, and the generated ``!help``), written with ``@command``. On
:data:`~kryten_actors.demo.presets.CRASH_LINE` (``!crash``) it raises, so the demo shows
its supervisor restarting the actor while the other channels carry on.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Final

from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.chat import CommandContext, command
from kryten_actors.bot.handlers import on
from kryten_actors.demo.presets import CRASH_LINE
from kryten_actors.errors import KrytenError
from kryten_actors.protocol.user_events import ChatMessageEvent, UserJoinEvent, UserLeaveEvent

__all__ = ["ANNOUNCE_SECONDS", "DemoActor", "DemoCrash"]

log = logging.getLogger(__name__)

ANNOUNCE_SECONDS: Final = 10.0
"""How often each channel posts a summary of its activity (if there was any)."""


class DemoCrash(RuntimeError):
    """Raised on purpose by :class:`DemoActor` when someone says ``!crash``."""


class DemoActor(ChannelActor):
    """Counts lines and people per channel, answers chat commands, crashes on ``!crash``.

    State lives on the instance, so a restart starts the counts afresh (as in Erlang).
    A reply the bridge refuses is logged and skipped: in a demo a refused ``say`` is not
    worth a restart.
    """

    async def on_start(self) -> None:
        self.lines = 0
        self.lines_at_last_summary = 0
        self.present: set[str] = set()
        self.seen: set[str] = set()
        self.started = time.monotonic()
        # Dice for !roll; not security.
        self.dice = random.Random()  # noqa: S311
        self.every(ANNOUNCE_SECONDS, self.announce)

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        """Counts every line (the commands below answer theirs as well); crashes on
        ``!crash`` at once (a plain handler, not a command: a failing command answers
        first, which would hold the crash until the answer is out)."""
        if event.is_shadow or event.is_replay or event.username == self.username:
            return
        self.lines += 1
        self.seen.add(event.username)
        if event.message.strip() == CRASH_LINE:
            msg = f"{event.username} said {CRASH_LINE} in {self.channel}: crashing on purpose"
            raise DemoCrash(msg)

    @command("stats")
    async def stats(self, ctx: CommandContext) -> None:
        """Lines and people seen in this channel since the last restart."""
        await self.reply(
            f"{self.channel}: {self.lines} lines from {len(self.seen)} people, "
            f"{len(self.present)} here now"
        )

    @command("roll", aliases=["dice"])
    async def roll(self, ctx: CommandContext, sides: int = 6) -> None:
        """Roll a die: !roll, or !roll 20 for a 20-sided one."""
        if not 2 <= sides <= 1000:
            await self.reply("a die has 2 to 1000 sides")
            return
        await self.reply(f"{ctx.username} rolls {self.dice.randint(1, sides)}")

    @command("uptime")
    async def uptime(self, ctx: CommandContext) -> None:
        """How long this channel's actor has run (a crash restarts it)."""
        await self.reply(f"up {time.monotonic() - self.started:.0f} s since my last restart")

    @on("addUser")
    async def joined(self, event: UserJoinEvent) -> None:
        self.present.add(event.username)
        self.seen.add(event.username)

    @on("userLeave")
    async def left(self, event: UserLeaveEvent) -> None:
        self.present.discard(event.username)

    async def announce(self) -> None:
        """Timer callback: runs in this actor's turn, between events."""
        if self.lines != self.lines_at_last_summary:
            new = self.lines - self.lines_at_last_summary
            self.lines_at_last_summary = self.lines
            await self.reply(f"{new} new lines in the last {ANNOUNCE_SECONDS:g} s")

    async def reply(self, text: str) -> None:
        """Say ``text`` in this channel; a refusal or timeout is logged, not raised."""
        try:
            await self.send_chat(text)
        except KrytenError as exc:
            log.warning("%s: reply not sent: %s", self.channel, exc)
