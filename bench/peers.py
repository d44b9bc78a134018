"""The peers compared in the same run: kryten-py 0.17.5 and FastStream 0.7.8.

They are not dependencies of this project: :func:`peer_python` installs them, with
this checkout (editable), into a separate virtual environment (``.bench-venv``)
with ``uv``, and the bench runs their cases in worker processes of that
environment's Python. Each consumer counts the same ``chatMsg`` envelopes in the
same :class:`~bench.consumers.Tally` as the others, through its own public API:

- kryten-py: a ``KrytenClient`` with the configured channels and an
  ``@client.on("chatmsg")`` handler receiving its typed ``ChatMessageEvent``;
- FastStream: a ``NatsBroker`` with one wildcard ``@broker.subscriber`` whose
  handler receives the envelope as a pydantic model (payload typed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.envelopes import DOMAIN
from bench.processes import ROOT
from kryten_actors.protocol.subjects import ROBOT_EVENT_PREFIX

if TYPE_CHECKING:
    from bench.consumers import Tally

__all__ = ["PEERS", "PEER_VERSIONS", "peer_consumer", "peer_python"]

PEERS = ("kryten-py", "faststream")
PEER_VERSIONS = {"kryten-py": "0.17.5", "faststream": "0.7.8"}
VENV = ROOT / ".bench-venv"


def peer_python() -> str | None:
    """The bench environment's Python (created on first use), or None if it cannot be."""
    python = VENV / "bin" / "python"
    if python.exists() and _has_peers(python):
        return str(python)
    uv = shutil.which("uv")
    if uv is None:
        print("bench: uv not found; skipping the peers", file=sys.stderr)
        return None
    pins = [f"kryten-py=={PEER_VERSIONS['kryten-py']}"]
    pins.append(f"faststream[nats]=={PEER_VERSIONS['faststream']}")
    try:
        if not python.exists():
            subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(VENV)], check=True)
        subprocess.run(
            [uv, "pip", "install", "-q", "--python", str(python), *pins, "-e", str(ROOT)],
            check=True,
            env={**os.environ, "VIRTUAL_ENV": str(VENV)},
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"bench: could not install the peers ({exc}); skipping them", file=sys.stderr)
        return None
    return str(python) if _has_peers(python) else None


def _has_peers(python: Path) -> bool:
    check = "import kryten, faststream.nats, kryten_actors"
    done = subprocess.run([str(python), "-c", check], check=False, capture_output=True)
    return done.returncode == 0


async def _kryten_py(
    url: str, tally: Tally, ready: asyncio.Event, stop: asyncio.Event, channels: list[str]
) -> dict[str, Any]:
    from kryten import KrytenClient  # noqa: PLC0415 -- only in the bench environment

    config = {
        "nats": {"servers": [url]},
        "channels": [{"domain": DOMAIN, "channel": ch} for ch in channels],
        "log_level": "WARNING",
    }
    client = KrytenClient(config)

    @client.on("chatmsg")
    async def count(event: Any) -> None:
        tally.hit(event.channel, event.message)

    await client.connect()
    ready.set()
    await stop.wait()
    await client.disconnect()
    return {}


async def _faststream(
    url: str, tally: Tally, ready: asyncio.Event, stop: asyncio.Event
) -> dict[str, Any]:
    from faststream.nats import NatsBroker  # noqa: PLC0415 -- only in the bench environment
    from pydantic import BaseModel  # noqa: PLC0415

    class ChatPayload(BaseModel):
        username: str
        msg: str
        meta: dict[str, Any]
        time: int

    class ChatEnvelope(BaseModel):
        event_name: str
        payload: ChatPayload
        channel: str
        domain: str
        timestamp: datetime
        correlation_id: str

    broker = NatsBroker(url, logger=None)

    @broker.subscriber(f"{ROBOT_EVENT_PREFIX}.*.*")
    async def count(body: ChatEnvelope) -> None:
        tally.hit(body.channel, body.payload.msg)

    await broker.start()
    ready.set()
    await stop.wait()
    await broker.stop()
    return {}


async def peer_consumer(
    kind: str,
    url: str,
    tally: Tally,
    ready: asyncio.Event,
    stop: asyncio.Event,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """Run peer ``kind`` until ``stop`` is set (in the bench environment only)."""
    logging.getLogger("kryten").setLevel(logging.WARNING)
    channels: list[str] = options.get("channels", list(tally.counts))
    if kind == "kryten-py":
        return await _kryten_py(url, tally, ready, stop, channels)
    if kind == "faststream":
        return await _faststream(url, tally, ready, stop)
    msg = f"unknown peer {kind!r}; use one of {PEERS}"
    raise ValueError(msg)
