"""Chat on the real stack: identity, flood-safe pacing, long lines, verbatim slashes."""

from __future__ import annotations

import asyncio
import html
import time
import uuid

import pytest

from kryten_actors import Bot, ChannelActor, KrytenTimeoutError
from kryten_actors.errors import BridgeUnavailable
from tests.e2e.conftest import Person, Stack
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

# CyTube's chat limit for every user (chat.js MIN_ANTIFLOOD): a burst, then a steady rate
BURST, PER_SECOND, QUIET_RESET = 20, 10, 2.0


class Quiet(ChannelActor):
    """Handles nothing: the tests drive the bot from outside."""


def tag() -> str:
    return uuid.uuid4().hex[:6]


async def test_username_and_rank_are_known_within_two_seconds(stack: Stack) -> None:
    async with Bot(stack.config(), actor=Quiet) as bot:
        binding = bot.channels.binding(stack.domain, stack.channel)
        assert binding is not None
        await wait_until(
            lambda: binding.username == stack.env["BOT_USER"] and binding.rank == 5,
            within=2.0,
            what="the bot's account and rank",
        )
        assert binding.bridge_state == "up"


async def test_sixty_lines_all_arrive_in_order_at_cytubes_pace(
    stack: Stack, watcher: Person
) -> None:
    run = tag()
    lines = [f"line {i:02d} of {run}" for i in range(60)]
    async with Bot(stack.config(), actor=Quiet) as bot:
        await asyncio.sleep(QUIET_RESET * 1.25)  # CyTube's limiter forgets earlier lines
        started = time.monotonic()
        await asyncio.gather(
            *(bot.channel(stack.domain, stack.channel).send_chat(line) for line in lines)
        )
        bot_user = stack.env["BOT_USER"]
        await watcher.wait_for(
            lambda: sum(run in m for m in watcher.said_by(bot_user)) == len(lines),
            within=30,
            what="all 60 lines",
        )
        elapsed = time.monotonic() - started
        seen = [m for m in watcher.said_by(bot_user) if run in m]
        assert seen == lines
        # CyTube's own limit: BURST at once, then one every 1/PER_SECOND seconds
        limit = (len(lines) - BURST) / PER_SECOND
        print(f"60 lines in {elapsed:.2f} s; CyTube's limit {limit:.2f} s")
        assert elapsed <= 1.25 * limit
        assert bot.channel(stack.domain, stack.channel).stats.lines_dropped == 0


async def test_a_long_line_arrives_whole_in_lines_of_the_channel_limit(
    stack: Stack, watcher: Person
) -> None:
    run = tag()
    words = [f"{run}w{i}" for i in range(90)]
    text = " ".join(words)
    assert len(text) >= 700
    async with Bot(stack.config(), actor=Quiet) as bot:
        await bot.channel(stack.domain, stack.channel).send_chat(text)
        bot_user = stack.env["BOT_USER"]
        await watcher.wait_for(
            lambda: words[-1] in " ".join(watcher.said_by(bot_user)),
            within=15,
            what="the end of the long text",
        )
    parts = [m for m in watcher.said_by(bot_user) if run in m]
    assert len(parts) >= 3
    assert all(len(part) <= 320 for part in parts)
    assert " ".join(parts) == text


async def test_text_beyond_ascii_arrives_as_written(stack: Stack, watcher: Person) -> None:
    # command bodies are UTF-8 JSON (pydantic-core), not \u escapes: the bridge and
    # CyTube must carry accents, symbols and a character outside the BMP unchanged
    text = f"héllo ✓ — 😀 {tag()}"
    async with Bot(stack.config(), actor=Quiet) as bot:
        await bot.channel(stack.domain, stack.channel).send_chat(text)
        bot_user = stack.env["BOT_USER"]
        await watcher.wait_for(
            lambda: text in [html.unescape(m) for m in watcher.said_by(bot_user)],
            within=10,
            what="the line as written",
        )


async def test_a_leading_slash_is_shown_not_run(stack: Stack, watcher: Person) -> None:
    async with Bot(stack.config(), actor=Quiet) as bot:
        await bot.channel(stack.domain, stack.channel).send_chat(f"/kick {watcher.name}")
        await watcher.wait_for(
            lambda: any(m.endswith(f"/kick {watcher.name}") for m in watcher.chat_texts()),
            within=10,
            what="the /kick line shown as text",
        )
    assert not any("kick" in record for record in watcher.seen)


async def test_a_line_for_a_channel_no_bridge_serves_fails_and_reaches_no_channel(
    stack: Stack, watcher: Person
) -> None:
    """kryten-robot executes only commands naming its own channel (a `say` naming another
    is neither run nor answered), so a bot's line for an unserved channel fails — it
    never lands in the channel the bridge does serve."""
    lost, after = f"nobody hears {tag()}", f"after {tag()}"
    unserved = stack.config(
        channels=[{"domain": stack.domain, "channel": "nobridgehere"}], command_timeout=2.0
    )
    async with Bot(unserved, actor=Quiet) as bot:
        with pytest.raises((KrytenTimeoutError, BridgeUnavailable)):
            await bot.channel(stack.domain, "nobridgehere").send_chat(lost)
    async with Bot(stack.config(), actor=Quiet) as bot:
        await bot.channel(stack.domain, stack.channel).send_chat(after)
        # CyTube shows a channel's lines in order: once the later one is seen, the
        # earlier one would have been too
        await watcher.wait_for(
            lambda: any(m.endswith(after) for m in watcher.chat_texts()),
            within=10,
            what="the line sent to the served channel",
        )
    assert not any(lost in m for m in watcher.chat_texts())
