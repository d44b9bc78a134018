"""The health of ``delivery: jetstream``: the stream, the acks, and the shard members."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from kryten_actors.bot.jetstream import JetStreamDelivery

__all__ = ["DeliveryHealth", "ShardMemberHealth", "delivery_health"]


class ShardMemberHealth(BaseModel):
    """One member of the shard as it last reported: its channels and its consumer lag.

    ``channels`` lists them in the full status; the bounded summary gives only
    ``channel_count`` (and an empty list).
    """

    model_config = ConfigDict(frozen=True)

    member: str
    host: str
    pid: int
    channel_count: int
    channels: list[str]
    lag: int


class DeliveryHealth(BaseModel):
    """How events reach this process with ``delivery: jetstream``.

    ``lag`` is the events in the stream not yet delivered to this process's consumers;
    ``acked``, ``redelivered``, ``duplicates_skipped``, ``dead_lettered`` and
    ``left_unacked`` count events since start. With sharding, ``member`` is this
    process's member ID, ``members`` every live member (this one included) and
    ``handovers``/``fenced`` count channels handed on gracefully / stopped because
    their lease could not be kept. ``journal`` is the handled-event journal in use
    (None: off, or held by another process) and ``journal_restored`` the handled IDs a
    previous process left in it.
    """

    model_config = ConfigDict(frozen=True)

    mode: str
    stream: str
    consumers: int
    lag: int
    acked: int
    redelivered: int
    duplicates_skipped: int
    dead_lettered: int
    left_unacked: int
    member: str | None
    members: list[ShardMemberHealth]
    handovers: int
    fenced: int
    journal: str | None = None
    journal_restored: int = 0


def delivery_health(delivery: JetStreamDelivery | None, *, full: bool) -> DeliveryHealth | None:
    """The section for a bot's health (None with ``delivery: core``)."""
    if delivery is None:
        return None
    stats = delivery.stats
    shards = delivery.shards
    journal = delivery.window.journal if delivery.window is not None else None
    members = []
    if shards is not None:
        for info in sorted(shards.members.values(), key=lambda m: m.member):
            members.append(
                ShardMemberHealth(
                    member=info.member,
                    host=info.host,
                    pid=info.pid,
                    channel_count=len(info.channels),
                    channels=list(info.channels) if full else [],
                    lag=info.lag,
                )
            )
    return DeliveryHealth(
        mode="jetstream",
        stream=delivery.link.settings.name,
        consumers=len(delivery.consumers),
        lag=delivery.lag(),
        acked=stats.acked,
        redelivered=stats.redelivered,
        duplicates_skipped=stats.duplicates_skipped,
        dead_lettered=stats.dead_lettered,
        left_unacked=stats.left_unacked,
        member=shards.member if shards is not None else None,
        members=members,
        handovers=shards.handovers if shards is not None else 0,
        fenced=shards.fenced if shards is not None else 0,
        journal=str(journal.path) if journal is not None else None,
        journal_restored=stats.journal_restored,
    )
