"""A ``delivery: jetstream`` bot for the crash and sharding tests.

    python -m tests.reliability.jetstream_bot '{"url": ..., "channels": N, "record": PATH}'

Every handled chat line is appended to ``record`` as ``channel text redelivered pid time``
*before* the handler returns (so before its ack): a kill -9 loses no record of an event
that was handled. A channel actor's start and stop add ``@start``/``@stop channel pid
time`` lines (with sharding: when this process takes a channel over or hands it on).
With ``"drop_acks_after": N`` the acks of events handled after the N-th are never sent
(as if all were still queued when the process is killed). Prints ``ready`` once
consuming; on SIGTERM it stops gracefully and prints one JSON report.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from typing import Any, ClassVar

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on


class Journal(ChannelActor):
    """Appends one line per handled chat line to the record file."""

    fd: ClassVar[int] = -1
    work: ClassVar[float] = 0.0
    handled: ClassVar[int] = 0

    async def on_start(self) -> None:
        os.write(self.fd, f"@start {self.channel} {os.getpid()} {time.time()}\n".encode())

    async def on_stop(self) -> None:
        os.write(self.fd, f"@stop {self.channel} {os.getpid()} {time.time()}\n".encode())

    @on("chatMsg")
    async def record(self, event: ChatMessageEvent) -> None:
        if self.work:
            await asyncio.sleep(self.work)
        redelivered = int(event.redelivered)
        line = f"{self.channel} {event.message} {redelivered} {os.getpid()} {time.time()}\n"
        os.write(self.fd, line.encode())
        Journal.handled += 1


async def main(plan: dict[str, Any]) -> None:
    Journal.fd = os.open(plan["record"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    Journal.work = plan.get("work", 0.0)
    config: dict[str, Any] = {
        "nats": {"servers": [plan["url"]]},
        "channels": [{"domain": "cytu.be", "channel": f"ch{i}"} for i in range(plan["channels"])],
        "delivery": "jetstream",
        "jetstream": plan.get("jetstream", {}),
        "shutdown_timeout": 10.0,
        "profile_check_after": None,
        "bridge": {"probe_on_start": False},
        **plan.get("config", {}),
    }
    bot = Bot(config, actor=Journal)
    await bot.start()
    drop_acks_after = plan.get("drop_acks_after")
    if drop_acks_after is not None and bot.jetstream is not None:
        # the acks of events handled from then on never leave, as if each were still
        # queued when the process is killed
        link = bot.jetstream.link
        send = link.ack

        def ack(reply: str) -> None:
            if Journal.handled < drop_acks_after:
                send(reply)

        link.ack = ack  # type: ignore[method-assign]
    print("ready", flush=True)
    await bot.run()
    js = bot.jetstream
    report = {
        "state": bot.state,
        "routed": bot.router_stats.routed,
        "dead_letters": dict(bot.system.dead_letters.counts),
        "jetstream": dataclasses.asdict(js.stats) if js is not None else None,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
