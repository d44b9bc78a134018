"""A DJ bot for the kryten-robot profile: playlist commands with replies.

``!queue TYPE ID`` adds media (e.g. ``!queue yt dQw4w9WgXcQ``) and answers with the
uid the bridge returned; ``!playlist`` reads the bridge's stored playlist;
``!skip`` plays the next item. "Accepted" means the bridge took the command:
CyTube may still refuse it in a ``queueFail`` event, which the bot reports too.

    NATS_URL=nats://127.0.0.1:4222 CYTUBE_CHANNELS=cytu.be/lounge uv run python examples/dj_bot.py
"""

from __future__ import annotations

import asyncio
import os

from kryten_actors import (
    Bot,
    ChangeMediaEvent,
    ChannelActor,
    ChatMessageEvent,
    CommandRejected,
    KrytenTimeoutError,
    QueueFailEvent,
    on,
)


class DJActor(ChannelActor):
    """Playlist control through chat commands."""

    @on("chatMsg")
    async def command(self, event: ChatMessageEvent) -> None:
        if event.is_shadow or event.username == self.username:
            return
        words = event.message.split()
        if not words:
            return
        try:
            if words[0] == "!queue" and len(words) == 3:
                result = await self.add_media(words[1], words[2])
                await self.send_chat(
                    f"queued as #{result.uid}" if result.uid is not None else "queued"
                )
            elif words[0] == "!playlist":
                playlist = await self.state.playlist()
                titles = ", ".join(item.media.title for item in playlist.items[:5]) or "empty"
                await self.send_chat(f"next up: {titles}")
            elif words[0] == "!skip":
                await self.play_next()
        except CommandRejected as refused:
            await self.send_chat(f"can't do that: {refused.reason}")
        except KrytenTimeoutError:
            await self.send_chat("the bridge did not answer; try again later")

    @on("queueFail")
    async def refused(self, event: QueueFailEvent) -> None:
        await self.send_chat(f"CyTube refused that: {event.payload.msg}")

    @on("changeMedia")
    async def now_playing(self, event: ChangeMediaEvent) -> None:
        self.context.logger.info("now playing %s (uid %s)", event.payload.title, self.current_uid)


def make_config() -> dict[str, object]:
    """The bot's config, from the environment."""
    channels = os.environ.get("CYTUBE_CHANNELS", "cytu.be/lounge")
    return {
        "profile": "kryten-robot",
        "service_name": "dj-bot",
        "nats": {"servers": [os.environ.get("NATS_URL", "nats://127.0.0.1:4222")]},
        "channels": [
            {"domain": d, "channel": c}
            for d, _, c in (i.partition("/") for i in channels.split(","))
        ],
        "command_timeout": float(os.environ.get("COMMAND_TIMEOUT", "10")),
    }


if __name__ == "__main__":
    asyncio.run(Bot(make_config(), actor=DJActor).run())
