"""examples/dice_bot.py on the test kit's pytest plugin (the ``bot_harness`` fixture)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from examples.dice_bot import DiceBot
from kryten_actors import KrytenValidationError
from kryten_actors.testing.harness import BotHarness, HarnessFactory

CONFIG: dict[str, Any] = {
    "profile": "kryten-robot",
    "channels": [
        {"domain": "cytu.be", "channel": "lounge", "settings": {"quotes": ["only one"]}},
        {"domain": "cytu.be", "channel": "den", "command_prefix": "."},
    ],
}
ROLL = re.compile(r"^alice rolled 3d6: (\d) \+ (\d) \+ (\d) = (\d+) \(for luck\)$")


def chat(h: BotHarness) -> list[str]:
    return [c.payload["message"] for c in h.sent if c.action == "say"]


def users(*ranked: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"name": name, "rank": rank, "meta": {}} for name, rank in ranked]


async def test_roll_adds_up_and_keeps_to_the_limits(bot_harness: HarnessFactory) -> None:
    async with bot_harness(DiceBot, config=CONFIG) as h:
        await h.say("lounge", "alice", "!roll 3d6 for luck")
        await h.say("lounge", "bob", "!r 20d6")
        await h.say("lounge", "carol", "!dice banana")
        await h.say("lounge", "alice", "!roll")
        said = chat(h)
        match = ROLL.match(said[0])
        assert match, said[0]
        faces = [int(match.group(i)) for i in (1, 2, 3)]
        assert all(1 <= face <= 6 for face in faces)
        assert sum(faces) == int(match.group(4))
        assert said[1:] == [
            "at most 10 dice of 2-1000 sides",
            "'banana' is not dice; try 2d6 or d20",
            "!roll is cooling down: try again in 3.0s",
        ]


async def test_quotes_come_from_the_channel_settings(bot_harness: HarnessFactory) -> None:
    async with bot_harness(DiceBot, config=CONFIG) as h:
        await h.emit("lounge", "userlist", users(("alice", 1), ("guest", 0)))
        await h.say("lounge", "guest", "!quote")
        await h.say("lounge", "guest", "!addquote nope")
        await h.say("lounge", "alice", "!addquote to be or not")
        await h.say("den", "alice", ".q")
        await h.pm("lounge", "guest", "!quote")
        assert chat(h) == [
            "only one",
            "!addquote needs rank 1 (you have 0)",
            "quote #1 added",
            "Never tell me the odds.",
        ]
        pm = [c.payload for c in h.sent if c.action == "pm"]
        assert pm[0]["to"] == "guest"
        assert pm[0]["msg"] in {"only one", "to be or not"}


async def test_moderators_kick_through_the_bot(bot_harness: HarnessFactory) -> None:
    async with bot_harness(DiceBot, config=CONFIG) as h:
        await h.emit("lounge", "login", success=True, name="DiceBot")
        await h.emit("lounge", "rank", 3)
        roster = users(("DiceBot", 3), ("mod", 2), ("troll", 0), ("admin", 3))
        await h.emit("lounge", "userlist", roster)
        await h.say("lounge", "troll", "!kick mod")
        await h.say("lounge", "mod", "!kick admin")
        await h.say("lounge", "mod", "!kick troll spamming links")
        assert chat(h) == [
            "!kick needs rank 2 (you have 0)",
            "you cannot kick admin: their rank is not below yours",
        ]
        kicks = [c.payload for c in h.sent if c.action == "kick"]
        assert kicks == [{"name": "troll", "reason": "spamming links"}]


async def test_help_fits_the_chat(bot_harness: HarnessFactory) -> None:
    async with bot_harness(DiceBot, config=CONFIG) as h:
        await h.say("lounge", "guest", "!help")
        await h.say("lounge", "guest", "!help roll")
        assert chat(h) == [
            "commands: !quote, !roll — !help <command> tells more",
            "!roll [dice=1d6] [comment…] (also !r, !dice) — Roll dice, e.g. !roll 2d6 or "
            "!roll d20 for initiative.",
        ]


def test_bad_channel_settings_stop_the_bot_before_it_starts() -> None:
    config = {"channels": [{"domain": "cytu.be", "channel": "x", "settings": {"max_dice": 0}}]}
    with pytest.raises(KrytenValidationError, match="max_dice"):
        BotHarness(DiceBot, config=config)
