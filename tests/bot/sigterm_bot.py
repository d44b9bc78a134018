"""A bot for the SIGTERM test: answers every chat line with one command, reports on exit.

    python tests/bot/sigterm_bot.py NATS_URL [PROFILE]

Prints ``READY`` once subscribed, and on exit one JSON line with what it routed,
handled and sent. ``bot.run()`` handles SIGTERM; the process then exits 0.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import ClassVar

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on


class Acker(ChannelActor):
    """Sends one chat command per chat line, counting the ones that were sent."""

    sent: ClassVar[int] = 0
    handled: ClassVar[int] = 0

    @on("chatMsg")
    async def ack(self, event: ChatMessageEvent) -> None:
        type(self).handled += 1
        await self.send_chat(f"ack:{event.message}")
        type(self).sent += 1


async def main(url: str, profile: str) -> None:
    bot = Bot(
        {
            "profile": profile,
            "nats": {"servers": [url]},
            "channels": [{"domain": "cytu.be", "channel": "lounge"}],
            "chat": {"pace": False},  # measures the runtime, not CyTube's pacing
            "shutdown_timeout": 5.0,
        },
        actor=Acker,
    )
    await bot.start()
    print("READY", flush=True)
    await bot.run()
    report = {
        "routed": bot.router_stats.routed,
        "handled": Acker.handled,
        "sent": Acker.sent,
        "state": bot.state,
        "dead_letters": dict(bot.system.dead_letters.counts),
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "seed"))
