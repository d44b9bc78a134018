"""The bot's optional watchers: dead letters published on NATS, the wrong-profile check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kryten_actors.bot.dead_letter_feed import DeadLetterFeed
from kryten_actors.bot.profile_check import ProfileCheck

if TYPE_CHECKING:
    from kryten_actors.bot.app import Bot

__all__ = ["start_watchers"]


async def start_watchers(bot: Bot) -> None:
    """Start what the config asks for (``publish_dead_letters``, ``profile_check_after``)
    as ``bot.dead_letter_feed`` and ``bot.profile_check`` (each set once started, so the
    bot's teardown stops whatever did start)."""
    config = bot.config
    if config.publish_dead_letters:
        feed = DeadLetterFeed(
            transport=bot.transport,
            letters=bot.system.dead_letters,
            bot=config.service_name,
            scheme=bot.scheme,
        )
        await feed.start()
        bot.dead_letter_feed = feed
    if config.profile_check_after is not None:
        check = ProfileCheck(
            transport=bot.transport,
            config=config,
            own_events=lambda: bot.router_stats.routed,
            after=config.profile_check_after,
        )
        await check.start()
        bot.profile_check = check
