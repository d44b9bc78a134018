"""A bot process for the SIGTERM case: ``python -m tests.reliability.sigterm_bot PLAN_JSON``.

The plan: ``{"url": ..., "channels": [[domain, channel], ...], "shutdown_timeout": 5.0,
"work": 0.002}``. Every chat event is answered with one chat command ``echo <seq>``
after ``work`` seconds of simulated handler work (so that mailboxes hold a backlog
under load). The process prints ``ready`` once subscribed, runs until SIGTERM
(``Bot.run``'s own signal handling), and after the graceful stop prints one JSON line
with its counters.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, ClassVar

from kryten_actors.bot import Bot, ChannelActor, on
from kryten_actors.protocol.events import ChatMessageEvent


class EchoActor(ChannelActor):
    """Answers every chat event with ``echo <msg>``.

    With ``hold`` (the plan's ``"hold": "domain/channel"``) that channel's actor, when it
    stops during the shutdown, prints ``held`` and waits for a line on stdin: the test
    signals the process again while the shutdown is certainly still running.
    """

    work: ClassVar[float] = 0.0
    hold: ClassVar[str | None] = None

    async def on_stop(self) -> None:
        if self.hold == f"{self.domain}/{self.channel}":
            print("held", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)

    @on("chatMsg")
    async def handle(self, event: ChatMessageEvent) -> None:
        await asyncio.sleep(self.work)  # simulated handler work, not synchronisation
        await self.send_chat(f"echo {event.msg}")


async def main(plan: dict[str, Any]) -> None:
    EchoActor.work = float(plan.get("work", 0.0))
    EchoActor.hold = plan.get("hold")
    config = {
        "nats": {"servers": [plan["url"]]},
        "channels": [{"domain": d, "channel": c} for d, c in plan["channels"]],
        "shutdown_timeout": plan["shutdown_timeout"],
        "chat": {"pace": False},  # measures the runtime, not CyTube's pacing
        "mailbox": {"capacity": 100_000},
    }
    bot = Bot(config, actor=EchoActor)
    await bot.start()
    print("ready", flush=True)
    await bot.run()
    health = bot.health()
    report = {
        "state": health.lifecycle,
        "sent": health.commands_sent,
        "received": health.router["received"],
        "routed": health.router["routed"],
        "handled": sum(a.processed for a in health.actors.values()),
        "depth": sum(a.mailbox_depth for a in health.actors.values()),
        "dead_letters": health.dead_letters,
        "send_failed": bot.sender.stats.failed,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
