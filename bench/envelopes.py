"""Bridge-identical ``chatMsg`` envelopes, optionally carrying a send timestamp.

An envelope is exactly what kryten-robot publishes: ``RawEvent(...).to_bytes()`` on
``scheme_for("kryten-robot").event_subject(...)``, with a fresh correlation ID and
timestamp per event. A *stamped* envelope holds a fixed-width placeholder in the chat
text that the publisher replaces with ``time.perf_counter_ns()`` at publish time
(``CLOCK_MONOTONIC``: comparable across processes on one Linux host).
"""

from __future__ import annotations

import time

from kryten_actors.protocol.events import RawEvent
from kryten_actors.protocol.subjects import scheme_for

__all__ = ["DOMAIN", "PLACEHOLDER", "channel_names", "chat_envelope", "stamp", "subject_for"]

DOMAIN = "cytu.be"
PLACEHOLDER = b"9" * 19
_SCHEME = scheme_for("kryten-robot")


def channel_names(count: int) -> list[str]:
    """``count`` valid CyTube channel names: ``ch0000``, ``ch0001``, …"""
    return [f"ch{index:04d}" for index in range(count)]


def subject_for(channel: str) -> str:
    """The kryten-robot subject a ``chatMsg`` of ``channel`` is published on."""
    return _SCHEME.event_subject(DOMAIN, channel, "chatMsg")


def chat_envelope(channel: str, seq: int, *, stamped: bool = False) -> bytes:
    """One ``chatMsg`` envelope as the bridge serializes it."""
    text = PLACEHOLDER.decode() if stamped else f"hello from user {seq % 97} ({seq})"
    payload = {
        "username": f"user{seq % 97}",
        "msg": text,
        "meta": {},
        "time": int(time.time() * 1000),
    }
    return RawEvent(
        event_name="chatMsg", payload=payload, channel=channel, domain=DOMAIN
    ).to_bytes()


def stamp(body: bytes) -> bytes:
    """``body`` with its placeholder replaced by the current ``perf_counter_ns()``."""
    return body.replace(PLACEHOLDER, b"%019d" % time.perf_counter_ns(), 1)
