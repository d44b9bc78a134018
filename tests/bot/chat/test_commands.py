"""Chat commands on a real Bot (BotHarness): replies, checks, help, what is ignored, failures."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.chat import CheckFailure, CommandContext, Cooldown, command
from kryten_actors.bot.chat.dispatch import FAILURE_ANSWER_SECONDS
from kryten_actors.bot.tracked import ChannelUser
from kryten_actors.testing.harness import BotHarness, HarnessFactory
from tests.polling import wait_until


def said(h: BotHarness) -> list[str]:
    """Chat lines and PMs the bot sent, PMs as ``@to text``."""
    out = []
    for sent in h.sent:
        if "to" in sent.payload:
            out.append(f"@{sent.payload['to']} {sent.payload['message']}")
        elif "message" in sent.payload:
            out.append(sent.payload["message"])
    return out


def user(name: str, rank: int, **meta: Any) -> dict[str, Any]:
    return {"name": name, "rank": rank, "meta": meta}


def not_bob(ctx: CommandContext) -> bool | str:
    return "bob may not" if ctx.username == "bob" else True


async def raising_check(ctx: CommandContext) -> bool:
    if ctx.args_text == "no":
        raise CheckFailure("you said no")
    return True


class Dice(ChannelActor):
    @command("roll", aliases=["r"], cooldown=Cooldown(per_user=5.0))
    async def roll(self, ctx: CommandContext, dice: str = "1d6", *, comment: str = "") -> None:
        """Roll dice, e.g. !roll 2d6.

        Longer text that help does not show.
        """
        await ctx.reply(f"{ctx.username} rolled {dice}{' ' + comment if comment else ''}")

    @command("add", pm=True)
    async def add(self, ctx: CommandContext, a: int, b: int = 1) -> None:
        """Add two numbers."""
        await ctx.reply(str(a + b))

    @command("kick", min_rank=2)
    async def kick_someone(
        self, ctx: CommandContext, who: ChannelUser, *, reason: str = ""
    ) -> None:
        """Kick someone."""
        await ctx.reply(f"would kick {who.name} ({reason})")

    @command("shout", cooldown=Cooldown(per_channel=10.0, global_=30.0))
    async def shout(self, ctx: CommandContext) -> None:
        """Shout."""
        await ctx.reply("HEY")

    @command("guarded", checks=[not_bob, raising_check], hidden=True)
    async def guarded(self, ctx: CommandContext, *, text: str = "") -> None:
        await ctx.reply("passed")

    @command("boom")
    async def boom(self, ctx: CommandContext) -> None:
        """Fail."""
        raise RuntimeError("secret internals")


async def test_replies_aliases_case_and_rest_of_line(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Dice) as h:
        await h.say("lounge", "alice", "!roll 2d6 for luck")
        await h.say("lounge", "bob", "!R")
        await h.say("lounge", "carol", "!ROLL 1d4")
        await h.say("lounge", "dave", "roll without prefix")
        await h.say("lounge", "dave", "!unknown command")
        assert said(h) == ["alice rolled 2d6 for luck", "bob rolled 1d6", "carol rolled 1d4"]


async def test_a_parse_failure_replies_with_the_usage(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Dice) as h:
        await h.say("lounge", "alice", "!add two")
        await h.say("lounge", "alice", '!roll "unclosed')
        await h.say("lounge", "alice", "!add 2 3")
        assert said(h) == [
            "a: expected a whole number, got 'two' — usage: !add <a:number> [b:number=1]",
            'a quote is never closed; end it with another " — usage: !roll [dice=1d6] [comment…]',
            "5",
        ]
        assert h.health().actors["cytu.be/lounge"].restarts == 0


async def test_min_rank_follows_the_tracked_userlist(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Dice) as h:
        await h.emit("lounge", "userlist", [user("alice", 1), user("mod", 2)])
        await h.say("lounge", "alice", "!kick mod spam")
        await h.emit("lounge", "setUserRank", name="alice", rank=3)  # promoted
        await h.say("lounge", "alice", "!kick mod spam")
        await h.say("lounge", "alice", "!kick nobody")  # a User must be in the channel
        await h.emit("lounge", "setUserRank", name="alice", rank=1)  # demoted
        await h.say("lounge", "alice", "!kick mod")
        await h.emit("lounge", "addUser", user("newbie", 0))
        await h.emit("lounge", "setUserRank", name="newbie", rank=2)
        await h.say("lounge", "newbie", "!kick alice")
        await h.emit("lounge", "userLeave", name="newbie")
        await h.say("lounge", "newbie", "!kick alice")  # gone: a guest again
        assert said(h) == [
            "!kick needs rank 2 (you have 1)",
            "would kick mod (spam)",
            "who: 'nobody' is not in the channel — usage: !kick <who:user> [reason…]",
            "!kick needs rank 2 (you have 1)",
            "would kick alice ()",
            "!kick needs rank 2 (you have 0)",
        ]
        assert h.health().actors["cytu.be/lounge"].restarts == 0


async def test_cooldowns_on_the_virtual_clock(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Dice, channels=["lounge", "den"]) as h:
        await h.say("lounge", "alice", "!roll")
        await h.say("lounge", "alice", "!roll")  # per user
        await h.say("lounge", "bob", "!roll")  # another user is free
        await h.say("den", "alice", "!roll")  # per user is per channel
        await h.advance(3.0)
        await h.say("lounge", "alice", "!r")
        await h.advance(2.0)
        await h.say("lounge", "alice", "!roll")
        assert said(h) == [
            "alice rolled 1d6",
            "!roll is cooling down: try again in 5.0s",
            "bob rolled 1d6",
            "alice rolled 1d6",
            "!r is cooling down: try again in 2.0s",
            "alice rolled 1d6",
        ]
        h.clear_sent()
        await h.say("lounge", "alice", "!shout")
        await h.say("lounge", "bob", "!shout")  # per channel (and global)
        await h.say("den", "bob", "!shout")  # global: across channels
        await h.advance(10.0)
        await h.say("lounge", "bob", "!shout")  # the channel is free, the bot is not
        await h.advance(20.0)
        await h.say("den", "bob", "!shout")
        assert said(h) == [
            "HEY",
            "!shout is cooling down: try again in 30.0s",  # the longest wait is told
            "!shout is cooling down: try again in 30.0s",
            "!shout is cooling down: try again in 20.0s",
            "HEY",
        ]


def test_a_command_method_may_not_hide_an_actor_helper() -> None:
    with pytest.raises(TypeError, match=r"Hides.kick hides ChannelActor.kick; name the method"):

        class Hides(ChannelActor):
            @command("kick")
            async def kick(self, ctx: CommandContext) -> None:  # type: ignore[override]
                ...


async def test_custom_checks_refuse_in_one_line(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Dice) as h:
        await h.say("lounge", "bob", "!guarded")
        await h.say("lounge", "alice", "!guarded no")
        await h.say("lounge", "alice", "!guarded yes")
        assert said(h) == ["bob may not", "you said no", "passed"]
        assert h.health().actors["cytu.be/lounge"].restarts == 0


async def test_help_lists_and_explains_within_the_chat_limit(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Dice) as h:
        await h.say("lounge", "alice", "!help")
        await h.say("lounge", "alice", "!help roll")
        await h.say("lounge", "alice", "!help !kick")
        await h.say("lounge", "alice", "!help nothing")
        assert said(h) == [
            "commands: !add, !boom, !roll, !shout — !help <command> tells more",
            "!roll [dice=1d6] [comment…] (also !r) — Roll dice, e.g. !roll 2d6.",
            "!kick <who:user> [reason…] [rank 2+] — Kick someone.",
            "no command !nothing; !help lists them",
        ]
    async with bot_harness(Dice, settings={"chat_max_length": 30}) as h:
        await h.emit("lounge", "userlist", [user("mod", 2)])
        await h.say("lounge", "mod", "!help")
        await h.say("lounge", "mod", "!help roll")
        lines = said(h)
        assert all(len(line) <= 30 for line in lines), lines
        assert lines == [
            "commands: !add, !boom, !kick,",
            "!roll, !shout",
            "!roll [dice=1d6] [comment…] (…",
        ]


async def test_replays_own_lines_and_shadow_muted_users_are_ignored(
    bot_harness: HarnessFactory,
) -> None:
    async with bot_harness(Dice, settings={"replay": "deliver"}) as h:
        await h.emit("lounge", "rank", -1)  # a (re)join: chat until login is history
        await h.say("lounge", "alice", "!roll 1d2")
        await h.emit("lounge", "login", success=True, name="DiceBot")
        users = [user("DiceBot", 2), user("alice", 1), user("shady", 1, smuted=True)]
        await h.emit("lounge", "userlist", users)  # the bot's own entry: its rank settles
        await h.say("lounge", "DiceBot", "!roll 1d3")  # its own line
        await h.say("lounge", "alice", "!roll 1d4", shadow=True)  # only mods see it
        await h.say("lounge", "shady", "!roll 1d5")
        await h.say("lounge", "alice", "!roll 1d6")
        assert said(h) == ["alice rolled 1d6"]


async def test_pm_commands_answer_by_pm_only_when_allowed(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Dice) as h:
        await h.pm("lounge", "alice", "!add 2 2")
        await h.pm("lounge", "alice", "!roll")  # not pm=True
        await h.pm("lounge", "alice", "!help")
        assert said(h) == ["@alice 4", "@alice commands: !add — !help <command> tells more"]


async def test_a_failing_command_answers_in_one_line_and_fails_the_actor(
    bot_harness: HarnessFactory,
) -> None:
    async with bot_harness(Dice) as h:
        await h.say("lounge", "alice", "!boom")
        assert said(h) == ["!boom failed: RuntimeError"]  # no internals in the chat
        actor = h.health().actors["cytu.be/lounge"]
        assert actor.failed == 1
        assert actor.last_error is not None
        assert "secret internals" in actor.last_error  # the supervisor has the whole story
        assert h.dead_letters.counts  # the failing line is a dead letter
        await h.advance(5.0)  # past the restart backoff
        assert h.health().actors["cytu.be/lounge"].restarts == 1
        await h.say("lounge", "alice", "!roll")  # the restarted actor answers again
        assert said(h)[-1] == "alice rolled 1d6"


async def test_prefix_per_bot_and_per_channel(bot_harness: HarnessFactory) -> None:
    config = {
        "command_prefix": "?",
        "channels": [
            {"domain": "cytu.be", "channel": "lounge"},
            {"domain": "cytu.be", "channel": "den", "command_prefix": "$$"},
        ],
    }
    async with bot_harness(Dice, config=config) as h:
        await h.say("lounge", "alice", "!roll")
        await h.say("lounge", "alice", "?roll 1d2")
        await h.say("den", "alice", "?roll")
        await h.say("den", "alice", "$$roll 1d3")
        await h.say("den", "alice", "$$help roll")
        assert said(h) == [
            "alice rolled 1d2",
            "alice rolled 1d3",
            "$$roll [dice=1d6] [comment…] (also $$r) — Roll dice, e.g. !roll 2d6.",
        ]


async def test_no_chat_line_fails_the_actor_or_gets_more_than_one_line(
    bot_harness: HarnessFactory,
) -> None:
    """Random lines built from the grammar's own pieces (seeded: the same lines every run)."""
    rng = random.Random(13)
    heads = ["!roll", "!R", "!add", "!kick", "!help", "!guarded", "!", "!!roll", "roll"]
    pieces = ['"', '\\"', "\\", " ", "  ", "1", "-7", "1e400", "nan", "alice", "@alice",
              "x" * 40, "é", "\u00a0", "<b>", "&amp;", "yes", "roll"]  # fmt: skip
    async with bot_harness(Dice, settings={"chat_max_length": 120}) as h:
        await h.emit("lounge", "userlist", [user("alice", 1), user("mod", 2)])
        for _ in range(200):
            words = (rng.choice(pieces) for _ in range(rng.randint(0, 6)))
            line = rng.choice(heads) + rng.choice([" ", "", "  "]) + "".join(words)
            await h.say("lounge", rng.choice(["alice", "mod", "guest"]), line)
            await h.advance(6.0)  # past every per-user cooldown
        replies = said(h)
        assert len(replies) > 50  # the lines do reach commands, and are answered
        assert all("\n" not in r and len(r) <= 120 for r in replies)
        assert h.health().actors["cytu.be/lounge"].restarts == 0
        assert h.health().actors["cytu.be/lounge"].failed == 0


async def test_a_failing_command_fails_its_actor_even_while_the_answer_cannot_go_out() -> None:
    """With the bridge down, the one-line answer would wait ``bridge.wait_timeout`` (60 s
    here); the actor's failure is held at most ``FAILURE_ANSWER_SECONDS``."""
    settings = {
        "bridge": {"probe_on_start": False, "announce": False, "wait_timeout": 60.0},
    }
    async with BotHarness(Dice, profile="kryten-robot", settings=settings) as h:
        await h.bridge.serve("lounge")
        await h.idle()
        await h.bridge.go_down()
        await h.idle()
        binding = h.bot.channels.binding("cytu.be", "lounge")
        assert binding is not None
        await wait_until(lambda: binding.link.is_down, what="the bridge seen down")
        # handled (the answer given up, the actor failed) well before wait_timeout
        async with asyncio.timeout(FAILURE_ANSWER_SECONDS + 20):
            await h.say("lounge", "alice", "!boom")
            await h.idle()
        assert h.health().actors["cytu.be/lounge"].failed == 1
        assert said(h) == []


async def test_every_command_line_is_counted_by_its_outcome(bot_harness: HarnessFactory) -> None:
    async with bot_harness(Dice, settings={"replay": "deliver"}) as h:
        await h.emit("lounge", "rank", -1)  # a (re)join: chat until login is history
        await h.say("lounge", "alice", "!roll")  # replayed: ignored
        await h.emit("lounge", "login", success=True, name="DiceBot")
        await h.emit("lounge", "userlist", [user("DiceBot", 2), user("alice", 1)])
        await h.say("lounge", "DiceBot", "!roll")  # its own line: ignored
        await h.pm("lounge", "alice", "!roll")  # not pm=True: ignored
        await h.say("lounge", "alice", "!roll 1d4")  # run
        await h.say("lounge", "alice", "!help")  # run (the generated help)
        await h.say("lounge", "alice", "!kick DiceBot")  # rank 1 < 2: refused
        await h.say("lounge", "alice", "!add two")  # invalid
        await h.say("lounge", "alice", "!unknown")  # not ours: not counted
        await h.say("lounge", "alice", "no prefix")  # not a command line
        await h.say("lounge", "alice", "!boom")  # run, and failed
        counts = {"ignored": 3, "run": 3, "refused": 1, "invalid": 1, "failed": 1}
        await wait_until(lambda: h.health().chat_commands == counts)
        assert h.bot.health_summary().chat_commands == counts
