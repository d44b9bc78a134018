"""A multi-channel bot: one ``ChannelActor`` per channel, per-channel state and a timer.

Each channel counts its chat lines and the people it has seen; ``!stats`` answers with
the counts, and every ``ANNOUNCE_SECONDS`` the actor posts a short summary if anything
happened since the last one. Channels are independent: a crash or a flood in one never
stalls another.

    NATS_URL=nats://127.0.0.1:4222 KRYTEN_PROFILE=kryten-robot \\
        CYTUBE_CHANNELS=cytu.be/lounge,cytu.be/movies uv run python examples/multi_channel_bot.py

``KRYTEN_PROFILE`` (default ``kryten-robot``) must be the bridge's profile; the simulated
bridge (``examples/simulated_bridge.py``) uses the same variable and default. With
another bridge's profile the bot receives nothing, and says so after 30 s.

``KRYTEN_SHARDING=on`` runs it as one of several processes sharing the channels
(``delivery: jetstream`` with sharding; the NATS server needs JetStream): start it as
often as you like, e.g. ``docker compose up sharded-bot`` (3 replicas).
"""

from __future__ import annotations

import asyncio
import os

from kryten_actors import (
    Bot,
    ChannelActor,
    ChatMessageEvent,
    UserJoinEvent,
    UserLeaveEvent,
    on,
)

ANNOUNCE_SECONDS = float(os.environ.get("ANNOUNCE_SECONDS", "300"))


class StatsActor(ChannelActor):
    """Per-channel chat statistics with a periodic summary."""

    async def on_start(self) -> None:
        self.lines = 0
        self.lines_at_last_summary = 0
        self.present: set[str] = set()
        self.seen: set[str] = set()
        self.every(ANNOUNCE_SECONDS, self.announce)

    @on("chatMsg")
    async def count(self, event: ChatMessageEvent) -> None:
        if event.is_shadow or event.username == self.username:
            return
        self.lines += 1
        self.seen.add(event.username)
        if event.message.strip() == "!stats":
            await self.send_chat(
                f"{self.channel}: {self.lines} lines from {len(self.seen)} people, "
                f"{len(self.present)} here now"
            )

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
            await self.send_chat(f"{new} new lines in the last {ANNOUNCE_SECONDS:g} s")


def make_config() -> dict[str, object]:
    """The bot's config, from the environment (defaults suit a local demo)."""
    channels = os.environ.get("CYTUBE_CHANNELS", "cytu.be/lounge,cytu.be/movies")
    sharded = os.environ.get("KRYTEN_SHARDING", "off") == "on"
    return {
        "profile": os.environ.get("KRYTEN_PROFILE", "kryten-robot"),
        "service_name": "multi-channel-bot",
        "nats": {"servers": [os.environ.get("NATS_URL", "nats://127.0.0.1:4222")]},
        "channels": [
            {"domain": domain, "channel": channel}
            for domain, _, channel in (item.partition("/") for item in channels.split(","))
        ],
        "delivery": "jetstream" if sharded else "core",
        "jetstream": {"sharding": {"enabled": sharded}},
    }


if __name__ == "__main__":
    asyncio.run(Bot(make_config(), actor=StatsActor).run())
