"""A dice, quote and moderation bot on chat commands, composed of reusable command groups.

    !roll 2d6 for luck   → "alice rolled 2d6: 3 + 5 = 8 (for luck)"
    !quote               → a random quote of this channel (settings.quotes)
    !addquote text…      → adds one (rank 1+, once a minute per user)
    !kick bob spamming   → moderators only (rank 2+): the bot kicks bob
    !help, !help roll    → generated from the commands' docstrings and signatures

Each channel's settings come from its config entry and are checked by
:class:`DiceSettings` when the bot starts. Run it against a bridge::

    NATS_URL=nats://127.0.0.1:4222 KRYTEN_PROFILE=kryten-robot \\
        CYTUBE_CHANNELS=cytu.be/lounge uv run python examples/dice_bot.py
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from typing import Any

from pydantic import BaseModel, Field

from kryten_actors import (
    Bot,
    ChannelActor,
    ChannelUser,
    CommandContext,
    CommandRejected,
    Commands,
    Cooldown,
    command,
    include,
)

DICE = re.compile(r"^(\d{0,2})d(\d{1,4})$", re.IGNORECASE)


class DiceSettings(BaseModel):
    """What a channel's ``settings`` may hold."""

    max_dice: int = Field(default=10, ge=1, le=99)
    max_sides: int = Field(default=1000, ge=2, le=9999)
    quotes: list[str] = Field(default_factory=lambda: ["Never tell me the odds."])


class Dice(Commands):
    """Dice rolls: ``!roll [NdM] [comment…]``."""

    def __init__(self, actor: Any) -> None:
        super().__init__(actor)
        self.rng = random.Random()  # noqa: S311 - dice, not secrets

    @command("roll", aliases=["r", "dice"], cooldown=Cooldown(per_user=3.0))
    async def roll(self, ctx: CommandContext, dice: str = "1d6", *, comment: str = "") -> None:
        """Roll dice, e.g. !roll 2d6 or !roll d20 for initiative."""
        settings: DiceSettings = self.actor.settings
        match = DICE.match(dice)
        if match is None:
            await ctx.reply(f"{dice!r} is not dice; try 2d6 or d20")
            return
        count, sides = int(match.group(1) or 1), int(match.group(2))
        if not (1 <= count <= settings.max_dice and 2 <= sides <= settings.max_sides):
            await ctx.reply(f"at most {settings.max_dice} dice of 2-{settings.max_sides} sides")
            return
        rolls = [self.rng.randint(1, sides) for _ in range(count)]
        shown = f"{' + '.join(map(str, rolls))} = {sum(rolls)}" if count > 1 else str(rolls[0])
        note = f" ({comment})" if comment else ""
        await ctx.reply(f"{ctx.username} rolled {dice}: {shown}{note}")


class Quotes(Commands):
    """The channel's quotes (from its settings, plus what users add while it runs)."""

    def __init__(self, actor: Any) -> None:
        super().__init__(actor)
        self.added: list[str] = []

    @command("quote", aliases=["q"], pm=True)
    async def quote(self, ctx: CommandContext) -> None:
        """A random quote."""
        settings: DiceSettings = self.actor.settings
        pool = [*settings.quotes, *self.added]
        await ctx.reply(random.choice(pool) if pool else "no quotes yet")  # noqa: S311

    @command("addquote", min_rank=1, cooldown=Cooldown(per_user=60.0))
    async def add_quote(self, ctx: CommandContext, *, text: str) -> None:
        """Add a quote (registered users)."""
        self.added.append(text)
        await ctx.reply(f"quote #{len(self.added)} added")


class Moderation(Commands):
    """Moderators' commands; the bot itself needs the rank to carry them out."""

    @command("kick", min_rank=2)
    async def kick_user(self, ctx: CommandContext, who: ChannelUser, *, reason: str = "") -> None:
        """Kick a user from the channel."""
        if who.rank >= ctx.rank:
            await ctx.reply(f"you cannot kick {who.name}: their rank is not below yours")
            return
        try:
            await self.actor.kick(who.name, reason or f"kicked by {ctx.username}")
        except CommandRejected as refused:
            await ctx.reply(f"cannot kick {who.name}: {refused.reason}")


class DiceBot(ChannelActor):
    """Dice, quotes and moderation in every channel the bot serves."""

    settings_model = DiceSettings
    groups = include(Dice, Quotes, Moderation)


def make_config() -> dict[str, object]:
    """The bot's config, from the environment."""
    channels = os.environ.get("CYTUBE_CHANNELS", "cytu.be/lounge")
    return {
        "profile": os.environ.get("KRYTEN_PROFILE", "kryten-robot"),
        "service_name": "dice-bot",
        "nats": {"servers": [os.environ.get("NATS_URL", "nats://127.0.0.1:4222")]},
        "channels": [
            {"domain": d, "channel": c}
            for d, _, c in (i.partition("/") for i in channels.split(","))
        ],
    }


if __name__ == "__main__":
    asyncio.run(Bot(make_config(), actor=DiceBot).run())
