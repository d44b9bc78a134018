"""An independent subscriber standing in for the bridge's command side.

``python -m bench.responder URL`` subscribes to ``kryten.robot.command``, notes when
each command arrives, reads the publisher's ``perf_counter_ns()`` stamp that the
bot's handler copied into the chat text, and replies as kryten-robot does. On a
``stop`` line it prints ``{"count": n, "latencies_ns": [...]}`` (event published →
command arrived) and exits.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from typing import Any

import nats

from kryten_actors.protocol.subjects import ROBOT_COMMAND_SUBJECT

_STAMP = re.compile(rb"lat (\d{19})")
_REPLY = json.dumps(
    {"service": "robot", "command": "sendChat", "success": True, "data": {}}
).encode()


async def serve(url: str) -> dict[str, Any]:
    client = await nats.connect(url)
    latencies: list[int] = []

    async def handle(msg: Any) -> None:
        now = time.perf_counter_ns()
        found = _STAMP.search(msg.data)
        if found is not None:
            latencies.append(now - int(found.group(1)))
        await msg.respond(_REPLY)

    await client.subscribe(ROBOT_COMMAND_SUBJECT, cb=handle)
    await client.flush()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await client.drain()
    return {"count": len(latencies), "latencies_ns": latencies}


def main() -> None:
    print(json.dumps(asyncio.run(serve(sys.argv[1]))), flush=True)


if __name__ == "__main__":
    main()
