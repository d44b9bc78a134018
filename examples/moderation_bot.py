"""A rank-aware moderation bot, supervised per channel.

It mutes users who repeat the same line too often, and kicks users who post a banned
word. Commands above the bot's rank are refused *before* anything is sent
(``CommandRejected``): the bot then only warns in chat instead. Each channel has its
own actor; a crash in one (say a bug in a rule) restarts only that channel.

    NATS_URL=nats://127.0.0.1:4222 KRYTEN_PROFILE=kryten-robot \\
        CYTUBE_CHANNELS=cytu.be/lounge uv run python examples/moderation_bot.py
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Awaitable

from kryten_actors import (
    Bot,
    ChannelActor,
    ChatMessageEvent,
    CommandRejected,
    CommandResult,
    on,
)

BANNED_WORDS = frozenset(os.environ.get("BANNED_WORDS", "spamword,scamlink").split(","))
REPEAT_LIMIT = int(os.environ.get("REPEAT_LIMIT", "3"))


class ModerationActor(ChannelActor):
    """Per-channel moderation rules; state is per channel and per actor instance."""

    async def on_start(self) -> None:
        self.recent: dict[str, deque[str]] = {}

    @on("chatMsg")
    async def moderate(self, event: ChatMessageEvent) -> None:
        user = event.username
        if event.is_shadow or user in {"[server]", self.username}:
            return
        words = set(event.message.lower().split())
        if words & BANNED_WORDS:
            await self.enforce(self.kick(user, "banned word"), f"{user}: please don't.")
            return
        lines = self.recent.setdefault(user, deque(maxlen=REPEAT_LIMIT))
        lines.append(event.message)
        if len(lines) == REPEAT_LIMIT and len(set(lines)) == 1:
            lines.clear()
            await self.enforce(self.mute(user), f"{user}: stop repeating yourself.")

    async def enforce(self, action: Awaitable[CommandResult], warning: str) -> None:
        """Run a moderation command; below its rank, warn in chat instead."""
        try:
            await action
        except CommandRejected as refused:
            self.context.logger.info("not moderating: %s", refused)
            await self.send_chat(warning)


def make_config() -> dict[str, object]:
    """The bot's config, from the environment."""
    channels = os.environ.get("CYTUBE_CHANNELS", "cytu.be/lounge")
    return {
        "profile": os.environ.get("KRYTEN_PROFILE", "kryten-robot"),
        "service_name": "moderation-bot",
        "nats": {"servers": [os.environ.get("NATS_URL", "nats://127.0.0.1:4222")]},
        "channels": [
            {"domain": d, "channel": c}
            for d, _, c in (i.partition("/") for i in channels.split(","))
        ],
        "supervision": {"max_restarts": 5, "within_seconds": 60},
    }


if __name__ == "__main__":
    asyncio.run(Bot(make_config(), actor=ModerationActor).run())
