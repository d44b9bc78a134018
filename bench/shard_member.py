"""One shard member for the failover benchmark: ``python -m bench.shard_member PLAN_JSON``.

Serves ``channels`` kryten-robot channels with ``delivery: jetstream`` and sharding on
(member ``member``); appends ``channel time`` to ``record`` whenever one of its channel
actors starts (it took the channel over). Prints ``ready`` once it is a member.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any, ClassVar

from bench.envelopes import DOMAIN, channel_names
from kryten_actors.bot.app import Bot
from kryten_actors.bot.channel import ChannelActor


class Marker(ChannelActor):
    """Writes one line when it starts serving its channel."""

    fd: ClassVar[int] = -1

    async def on_start(self) -> None:
        os.write(self.fd, f"{self.channel} {time.time()}\n".encode())


async def main(plan: dict[str, Any]) -> None:
    Marker.fd = os.open(plan["record"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    bot = Bot(
        {
            "nats": {"servers": [plan["url"]]},
            "profile": "kryten-robot",
            "channels": [
                {"domain": DOMAIN, "channel": ch} for ch in channel_names(plan["channels"])
            ],
            "delivery": "jetstream",
            "jetstream": {
                "sharding": {"enabled": True, "member": plan["member"], "lease_ttl": plan["ttl"]}
            },
            "profile_check_after": None,
            "bridge": {"probe_on_start": False},
        },
        actor=Marker,
    )
    await bot.start()
    print("ready", flush=True)
    await bot.run()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
