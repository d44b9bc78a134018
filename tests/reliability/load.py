"""The bridge's side of the reliability tests: envelopes, and publishing them at a paced rate.

Run as a script (``python -m tests.reliability.load PLAN_JSON``) it is the load generator
of the high-rate cases, in its own process so that it does not share a core with the bot
under test. The plan is a JSON object::

    {"url": "nats://127.0.0.1:4222", "profile": "seed",
     "channels": [["cytu.be", "lounge"], ...],
     "rate": 4000,          # events/s over all channels (0: as fast as possible)
     "duration": 10.0,      # stop after this many seconds (null: only by count or signal)
     "count": null}         # stop after this many events per channel (null: no limit)

Every channel gets ``chatMsg`` envelopes whose ``msg`` is its own sequence number 0, 1, 2 …,
round-robin over the channels. It prints ``ready`` once connected, stops at the first of
duration/count/SIGTERM, confirms every publish with a server round trip, and prints one
JSON line ``{"published": {"domain/channel": n, ...}}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import Any

from kryten_actors.config.connection import NatsConfig
from kryten_actors.protocol.events import RawEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.transport.nats import NatsTransport

_BATCH = 50  # events published between two pacing checks


def chat_envelope(domain: str, channel: str, seq: int, *, username: str = "load") -> bytes:
    """A bridge-identical ``chatMsg`` envelope whose ``msg`` is ``seq``."""
    payload = {"username": username, "msg": str(seq), "meta": {}, "time": int(time.time() * 1000)}
    return RawEvent(
        event_name="chatMsg", payload=payload, channel=channel, domain=domain
    ).to_bytes()


def channel_key(domain: str, channel: str) -> str:
    """How the load generator names a channel in its report."""
    return f"{domain}/{channel}"


async def publish_plan(plan: dict[str, Any], stop: asyncio.Event) -> dict[str, int]:
    """Publish per ``plan`` until it is done or ``stop`` is set; returns counts per channel."""
    scheme = scheme_for(plan.get("profile", "seed"))
    channels = [(d, c) for d, c in plan["channels"]]
    subjects = [scheme.event_subject(d, c, "chatMsg") for d, c in channels]
    rate = float(plan.get("rate") or 0)
    duration = plan.get("duration")
    count = plan.get("count")
    sent = [0] * len(channels)
    config = NatsConfig(servers=[plan["url"]], reconnect_wait=0.05)
    async with NatsTransport(config) as transport:
        print("ready", flush=True)
        started = time.monotonic()
        total = 0
        while not stop.is_set():
            for index, (domain, channel) in enumerate(channels):
                if count is not None and sent[index] >= count:
                    continue
                body = chat_envelope(domain, channel, sent[index])
                await transport.publish(subjects[index], body)
                sent[index] += 1
                total += 1
            if count is not None and all(n >= count for n in sent):
                break
            elapsed = time.monotonic() - started
            if duration is not None and elapsed >= duration:
                break
            if total % _BATCH < len(channels):
                ahead = total / rate - elapsed if rate else 0.0
                # pacing (not synchronisation): hold the offered rate
                await asyncio.sleep(max(ahead, 0.0))
        await transport.flush(timeout=30.0)
    return {channel_key(d, c): n for (d, c), n in zip(channels, sent, strict=True)}


async def _main(plan: dict[str, Any]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    published = await publish_plan(plan, stop)
    print(json.dumps({"published": published}), flush=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(json.loads(sys.argv[1])))
