"""The load generator: a separate process publishing envelopes with raw nats-py.

``python -m bench.publisher PLAN_JSON`` where the plan is::

    {"url": "nats://127.0.0.1:4222", "channels": ["ch0000", ...], "count": 100000,
     "rate": 0, "stamped": false, "done_file": null}

``count`` events in total go round-robin over ``channels``; ``rate`` is events/s
(0: as fast as nats-py publishes). Envelopes are built before ``ready`` is printed,
so building them costs nothing during the run. After ``ready`` the process waits for
a ``go`` line on stdin, publishes, confirms with a server round trip (``flush``) and
prints one JSON line ``{"published": {channel: n}, "seconds": s}``. With ``done_file``
it also creates that file once the server confirmed every publish (a consumer that
holds its event loop on purpose polls for it).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import nats

from bench.envelopes import chat_envelope, stamp, subject_for

_YIELD_EVERY = 256  # flat out: let nats-py's flusher task write every this many events


def build(plan: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Every (subject, body) to publish, in order."""
    channels: list[str] = plan["channels"]
    subjects = [subject_for(channel) for channel in channels]
    stamped = bool(plan.get("stamped"))
    messages = []
    for seq in range(int(plan["count"])):
        index = seq % len(channels)
        messages.append(
            (subjects[index], chat_envelope(channels[index], seq // len(channels), stamped=stamped))
        )
    return messages


async def publish(plan: dict[str, Any]) -> dict[str, Any]:
    messages = build(plan)
    client = await nats.connect(plan["url"], pending_size=64 * 1024 * 1024)
    await client.flush()
    print("ready", flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if line.strip() != "go":
        await client.close()
        return {"published": {}, "seconds": 0.0, "aborted": True}
    rate = float(plan.get("rate") or 0)
    stamped = bool(plan.get("stamped"))
    started = time.perf_counter()
    for seq, (subject, body) in enumerate(messages):
        await client.publish(subject, stamp(body) if stamped else body)
        if rate:
            ahead = started + (seq + 1) / rate - time.perf_counter()
            if ahead > 0:
                # pacing, not synchronisation: hold the offered rate (lets nats-py flush too)
                await asyncio.sleep(ahead)
        elif seq % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
    await client.flush(timeout=60)
    seconds = time.perf_counter() - started
    if plan.get("done_file"):
        Path(plan["done_file"]).touch()  # noqa: ASYNC240 -- after the measured part; tiny
    await client.close()
    counts: dict[str, int] = {}
    for channel in plan["channels"]:
        counts[channel] = 0
    for seq in range(len(messages)):
        counts[plan["channels"][seq % len(plan["channels"])]] += 1
    return {"published": counts, "seconds": seconds}


def main() -> None:
    plan = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(publish(plan))), flush=True)


if __name__ == "__main__":
    main()
