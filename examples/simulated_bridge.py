"""Run the demo's simulated kryten bridge against a NATS server (no CyTube needed).

It publishes realistic, bridge-identical envelopes for a few channels and answers
commands as the real bridge does — handy to drive a bot by hand or in compose::

    NATS_URL=nats://127.0.0.1:4222 KRYTEN_PROFILE=kryten-robot \\
        CYTUBE_CHANNELS=cytu.be/lounge,cytu.be/movies uv run python examples/simulated_bridge.py

``KRYTEN_PROFILE`` (default ``kryten-robot``, as in every example) is the profile it
speaks; the bots must use the same. While it runs, ``kryten-actors say --channel lounge
"!roll"`` says a line as a user and prints the bot's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from kryten_actors import NatsConfig
from kryten_actors.demo import SimulatedBridge
from kryten_actors.transport.nats import NatsTransport


def channels_from_env() -> list[tuple[str, str]]:
    """``CYTUBE_CHANNELS=domain/channel,...`` as pairs."""
    raw = os.environ.get("CYTUBE_CHANNELS", "cytu.be/lounge,cytu.be/movies")
    return [(d, c) for d, _, c in (item.strip().partition("/") for item in raw.split(","))]


async def main() -> None:
    """Publish until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    nats = NatsConfig(servers=[os.environ.get("NATS_URL", "nats://127.0.0.1:4222")])
    async with (
        NatsTransport(nats) as transport,
        SimulatedBridge(
            transport,
            profile=os.environ.get("KRYTEN_PROFILE", "kryten-robot"),
            channels=channels_from_env(),
            events_per_second=float(os.environ.get("EVENTS_PER_SECOND", "5")),
        ),
    ):
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
