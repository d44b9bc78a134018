"""The example dice bot answers a human on the real stack: ``!roll`` and ``!help``."""

from __future__ import annotations

import html
import re
import uuid

import pytest

from examples.dice_bot import DiceBot
from kryten_actors import Bot
from tests.e2e.conftest import Person, Stack
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_the_dice_bot_answers_roll_and_help(stack: Stack, watcher: Person) -> None:
    run = uuid.uuid4().hex[:6]
    bot_user = stack.env["BOT_USER"]
    async with Bot(stack.config(), actor=DiceBot) as bot:
        binding = bot.channels.binding(stack.domain, stack.channel)
        assert binding is not None
        # the human is in the tracked userlist: the bot knows their rank
        await wait_until(
            lambda: watcher.name in binding.state.userlist, within=10, what="the human listed"
        )

        def answers() -> list[str]:
            return [html.unescape(m) for m in watcher.said_by(bot_user)]

        await watcher.say(f"!roll 2d6 for {run}")
        await watcher.wait_for(lambda: any(run in m for m in answers()), 15, "the roll")
        roll = next(m for m in answers() if run in m)
        match = re.fullmatch(
            rf"{watcher.name} rolled 2d6: (\d) \+ (\d) = (\d+) \(for {run}\)", roll
        )
        assert match, roll
        assert int(match.group(1)) + int(match.group(2)) == int(match.group(3))

        await watcher.say("!help")
        await watcher.wait_for(
            lambda: any(m.startswith("commands:") for m in answers()), 15, "the help"
        )
        help_line = next(m for m in answers() if m.startswith("commands:"))
        assert help_line == "commands: !quote, !roll — !help <command> tells more"
        # the human's own lines were not answered twice, and nothing else was said
        assert len(answers()) == 2, answers()
