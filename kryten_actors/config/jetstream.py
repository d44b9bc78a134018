"""How events reach the bot: core NATS (at-most-once) or JetStream (at-least-once)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from kryten_actors.config.base import ConfigModel, PositiveFloat, PositiveInt

__all__ = ["DeliveryMode", "JetStreamConfig", "RedeliveryPolicy", "ShardingConfig"]

DeliveryMode = Literal["core", "jetstream"]
RedeliveryPolicy = Literal["mark", "skip"]
StreamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]

#: Default retention: a day of events, at most 1 GiB (whichever is reached first).
DEFAULT_MAX_AGE = 24 * 3600.0
DEFAULT_MAX_BYTES = 1024**3


class ShardingConfig(ConfigModel):
    """Several processes with the same ``service_name`` sharing the channels.

    Off by default. Each process is a member (``member``: defaults to host, pid and a
    random suffix) holding leases in the key-value bucket ``bucket`` (default
    ``kryten_shards_{service_name}``); a lease not renewed within ``lease_ttl`` seconds
    expires, so a killed member's channels are served again after about ``lease_ttl``
    plus one renewal period (``lease_ttl / 4``). See docs/concepts.md.
    """

    enabled: bool = False
    lease_ttl: float = Field(default=4.0, ge=1.0, le=300.0)
    bucket: Token | None = None
    member: Token | None = None


class JetStreamConfig(ConfigModel):
    """The stream and consumers used with ``delivery: jetstream``.

    ``stream`` names the stream over the profile's event subjects; with
    ``manage_stream`` (default) the bot creates it, or updates its retention, at start;
    with ``manage_stream: false`` it must exist and cover those subjects. Retention is
    bounded by ``max_age`` seconds and ``max_bytes`` (oldest events leave first).

    Each served channel gets a durable pull consumer (``{service_name}-{channel}``):
    ``fetch_batch`` events are pulled at a time, at most ``max_ack_pending`` of a
    channel are unacknowledged at once, and an event not acknowledged within
    ``ack_wait`` seconds is delivered again. ``redelivery`` decides what happens to an
    event that may have been handled before (a redelivery, or an event after the last
    acknowledged one when a channel is taken over): ``skip`` (default) drops it when
    this process already handled its correlation ID, else delivers it with
    ``event.redelivered`` set; ``mark`` always delivers it with ``event.redelivered``
    set. The last ``dedupe_window`` correlation IDs are remembered, and written to the
    ``journal`` file so that the next process on the host knows them after a crash
    (``auto``: ``{tempdir}/kryten-actors/{service_name}.handled``; with sharding only
    when ``sharding.member`` is set, then ``{service_name}-{member}.handled``; ``off``:
    in memory only). ``sharding``
    spreads the channels over several processes (see :class:`ShardingConfig`).
    """

    stream: StreamName = "KRYTEN_EVENTS"
    manage_stream: bool = True
    max_age: PositiveFloat = DEFAULT_MAX_AGE
    max_bytes: PositiveInt = DEFAULT_MAX_BYTES
    redelivery: RedeliveryPolicy = "skip"
    ack_wait: PositiveFloat = 30.0
    max_ack_pending: PositiveInt = 512
    fetch_batch: int = Field(default=128, ge=1, le=4096)
    dedupe_window: PositiveInt = 100_000
    journal: Literal["auto", "off"] | Path = "auto"
    sharding: ShardingConfig = Field(default_factory=ShardingConfig)
