"""Actor arguments (class, partial, binding factory), per-channel settings, command groups."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from pydantic import BaseModel

from kryten_actors.bot.binding import ChannelBinding
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.chat import CommandContext, Commands, command, include
from kryten_actors.errors import KrytenValidationError
from kryten_actors.testing.harness import BotHarness, HarnessFactory


class DiceSettings(BaseModel):
    sides: int = 6
    greeting: str = "hello"


class Dice(ChannelActor):
    settings_model = DiceSettings

    def __init__(self, sides: int | None = None, label: str = "") -> None:
        super().__init__()
        self.sides = sides
        self.label = label

    @command("sides")
    async def show(self, ctx: CommandContext) -> None:
        """Show the sides."""
        sides = self.sides if self.sides is not None else self.settings.sides
        await ctx.reply(f"{self.label}{sides} sides, {self.settings.greeting}")


class Plain(ChannelActor):
    @command("conf")
    async def conf(self, ctx: CommandContext) -> None:
        await ctx.reply(repr(self.settings))


def lines(h: BotHarness) -> list[tuple[str | None, str]]:
    return [(c.channel, c.payload["message"]) for c in h.sent]


CHANNELS: dict[str, Any] = {
    "channels": [
        {"domain": "cytu.be", "channel": "lounge", "settings": {"sides": 20}},
        {"domain": "cytu.be", "channel": "den"},
    ]
}


async def test_settings_come_from_the_channel_entry(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Dice, config=CHANNELS) as h:
        await h.say("lounge", "alice", "!sides")
        await h.say("den", "alice", "!sides")
        assert lines(h) == [("lounge", "20 sides, hello"), ("den", "6 sides, hello")]
    async with bot_harness(Plain, config=CHANNELS) as h:
        await h.say("lounge", "alice", "!conf")
        await h.say("den", "alice", "!conf")
        assert lines(h) == [("lounge", "{'sides': 20}"), ("den", "{}")]


def test_bad_settings_fail_when_the_bot_is_built() -> None:
    config = {"channels": [{"domain": "cytu.be", "channel": "lounge", "settings": {"sides": "x"}}]}
    with pytest.raises(KrytenValidationError, match=r"settings of channel cytu.be/lounge.*sides"):
        BotHarness(Dice, config=config)


async def test_partial_and_factory_actors(bot_harness: HarnessFactory) -> None:
    async with bot_harness(partial(Dice, sides=12), config=CHANNELS) as h:
        await h.say("den", "alice", "!sides")
        assert lines(h) == [("den", "12 sides, hello")]

    def factory(binding: ChannelBinding) -> Dice:
        return Dice(label=f"{binding.channel}: ")

    async with bot_harness(factory, config=CHANNELS) as h:
        await h.say("lounge", "alice", "!sides")
        await h.say("den", "alice", "!sides")
        assert lines(h) == [("lounge", "lounge: 20 sides, hello"), ("den", "den: 6 sides, hello")]


async def test_a_factory_that_returns_no_actor_is_refused(bot_harness: HarnessFactory) -> None:
    with pytest.raises(KrytenValidationError, match="returned object, not a ChannelActor"):
        async with bot_harness(lambda binding: object()):
            pass


class Quotes(Commands):
    def __init__(self, actor: Any) -> None:
        super().__init__(actor)
        self.said = 0

    @command("quote")
    async def quote(self, ctx: CommandContext) -> None:
        """A quote."""
        self.said += 1
        await ctx.reply(f"quote {self.said} in {self.actor.channel}")


class Moderation(Commands):
    @command("kick", min_rank=2)
    async def kick(self, ctx: CommandContext, who: str) -> None:
        """Kick."""
        await ctx.reply(f"kick {who}")


class Composed(ChannelActor):
    groups = include(Quotes, Moderation)

    @command("own")
    async def own(self, ctx: CommandContext) -> None:
        """Its own."""
        await ctx.reply("own")


async def test_groups_compose_an_actor(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Composed) as h:
        await h.say("lounge", "alice", "!quote")
        await h.say("lounge", "alice", "!quote")
        await h.say("lounge", "alice", "!own")
        await h.say("lounge", "alice", "!kick bob")
        await h.say("lounge", "alice", "!help")
        assert [text for _, text in lines(h)] == [
            "quote 1 in lounge",
            "quote 2 in lounge",
            "own",
            "!kick needs rank 2 (you have 0)",
            "commands: !own, !quote — !help <command> tells more",
        ]


def test_two_commands_with_one_name_are_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"two commands answer to 'quote'"):

        class Clash(ChannelActor):
            groups = include(Quotes)

            @command("q", aliases=["quote"])
            async def mine(self, ctx: CommandContext) -> None: ...


async def test_join_channel_takes_a_factory_too(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Dice, config=CHANNELS) as h:
        await h.bot.join_channel("cytu.be", "annex", partial(Dice, sides=4, label="annex: "))
        await h.say("annex", "alice", "!sides")
        assert lines(h) == [("annex", "annex: 4 sides, hello")]  # no entry: default settings
        with pytest.raises(KrytenValidationError, match="not a ChannelActor subclass or a"):
            await h.bot.join_channel("cytu.be", "attic", 42)  # type: ignore[arg-type]
