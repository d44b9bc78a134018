"""Pure-logic fixtures of the channel's routing-time parts: a binding on a virtual clock.

No network: the binding's sender sits on an unconnected memory bus and is never used
to send; the tests feed envelopes straight to ``tap.observe``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kryten_actors.bot.binding import ChannelBinding
from kryten_actors.bot.sender import CommandSender
from kryten_actors.config import KrytenConfig, load_config
from kryten_actors.observability import NoInstrumentation
from kryten_actors.protocol.encoding import encoder_for
from kryten_actors.protocol.events import RawEvent, decode_event
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.runtime import VirtualClock
from kryten_actors.transport.memory import MemoryTransport

DOMAIN = "cytu.be"
CHANNEL = "lounge"
BOT = "KrytenBot"
T0 = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def config(
    profile: str = "kryten-robot", domain: str = DOMAIN, channel: str = CHANNEL, **settings: Any
) -> KrytenConfig:
    base: dict[str, Any] = {
        "profile": profile,
        "channels": [{"domain": domain, "channel": channel}],
        "bridge": {"probe_on_start": False, "announce": False},
    }
    base.update(settings)
    return load_config(base)


def binding(
    profile: str = "kryten-robot",
    clock: VirtualClock | None = None,
    *,
    domain: str = DOMAIN,
    channel: str = CHANNEL,
    transport: MemoryTransport | None = None,
    **settings: Any,
) -> ChannelBinding:
    """A channel binding as the bot builds it, on a virtual clock."""
    cfg = config(profile, domain, channel, **settings)
    limit = cfg.chat_max_length
    scheme = scheme_for(profile)
    sender = CommandSender(
        transport or MemoryTransport(),
        encoder_for(profile),
        source="units",
        command_timeout=1.0,
        instrumentation=NoInstrumentation(),
        chat_max_length=limit,
    )
    return ChannelBinding(
        domain=domain,
        channel=channel,
        key=scheme.channel_key(domain, channel),
        sender=sender,
        instrumentation=NoInstrumentation(),
        clock=clock or VirtualClock(),
        config=cfg,
        scheme=scheme,
    )


def envelope(name: str, payload: Any = None, *, at: datetime = T0, channel: str = CHANNEL) -> bytes:
    """The bytes the bridge publishes for one event."""
    return RawEvent(
        event_name=name, payload=payload, channel=channel, domain=DOMAIN, timestamp=at
    ).to_bytes()


def decoded(name: str, payload: Any = None) -> RawEvent:
    """The typed event the bot decodes from :func:`envelope`."""
    event, error = decode_event(envelope(name, payload), event_hint=name.lower())
    assert error is None, error
    return event


def line(user: str, msg: str, *, written: datetime = T0) -> dict[str, Any]:
    """A ``chatMsg`` payload CyTube wrote at ``written``."""
    return {"username": user, "msg": msg, "meta": {}, "time": int(written.timestamp() * 1000)}


def user(name: str, rank: float = 0, **meta: Any) -> dict[str, Any]:
    return {"name": name, "rank": rank, "profile": {"image": "", "text": ""}, "meta": meta}


def item(uid: int, media_id: str = "abc", title: str = "x") -> dict[str, Any]:
    return {
        "media": {"id": media_id, "type": "yt", "title": title, "seconds": 60},
        "uid": uid,
        "temp": True,
        "queueby": "alice",
    }


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)
