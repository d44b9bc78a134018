"""Sharding: processes with the same bot name share the channels, with failover.

Every member renews a membership lease and the ownership lease of each channel it
serves (:class:`~kryten_actors.transport.nats_shards.ShardLeases`, a JetStream
key-value bucket whose ``ttl`` is the lease) every ``lease_ttl / 4`` seconds. Which
member should serve a channel is decided by rendezvous hashing over the live members,
so a membership change moves only the channels whose top-scoring member changed
(about 1/n of them when an n-th member joins). A member serves a channel only while
it holds the channel's lease, taken by compare-and-set:

* a member that should no longer serve a channel stops its consumer, lets the
  channel's mailbox drain (every handled event acknowledged, the acks flushed to the
  server), and only then releases the lease; the next owner claims it at its next
  renewal, and continues after the last acknowledged event: no loss, no duplicates;
* a killed member's leases expire after ``lease_ttl``; the survivors claim its
  channels and their consumers continue after the last acknowledged event (those
  delivered but not acknowledged come again, flagged ``event.redelivered``);
* a member that cannot renew its leases for ``3/4 lease_ttl`` (a stalled process, a
  lost connection) stops serving all its channels before they can expire (fencing),
  so two members never run one channel's handlers at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kryten_actors.errors import KrytenError
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_shards import LeaseLost, ShardLeases

if TYPE_CHECKING:
    from kryten_actors.bot.app import Bot
    from kryten_actors.bot.jetstream import JetStreamDelivery

__all__ = ["ShardCoordinator", "ShardMember", "rendezvous_owner"]

log = logging.getLogger("kryten_actors.bot.sharding")
_FENCE_AFTER = 0.75  # of lease_ttl without a renewal: stop serving before the leases expire


def rendezvous_owner(channel: str, members: Iterable[str]) -> str | None:
    """The member with the highest hash score for ``channel`` (None without members)."""
    best: str | None = None
    best_score = -1
    for member in members:
        digest = hashlib.blake2b(f"{member}\0{channel}".encode(), digest_size=8).digest()
        score = int.from_bytes(digest, "big")
        if score > best_score or (score == best_score and best is not None and member < best):
            best, best_score = member, score
    return best


@dataclass(frozen=True, slots=True)
class _Channel:
    domain: str
    channel: str
    lease: str  # the channel's consumer name: a valid key token
    actor: str | None = None
    from_start: bool = False


@dataclass(slots=True)
class ShardMember:
    """What one member reported with its last membership renewal."""

    member: str
    channels: list[str] = field(default_factory=list)
    lag: int = 0
    pid: int = 0
    host: str = ""


def default_member_id() -> str:
    """``{host}-{pid}-{random}``, reduced to the characters a key token allows."""
    host = "".join(c if c.isalnum() or c in "-_" else "_" for c in socket.gethostname())
    return f"{host[:32]}-{os.getpid()}-{secrets.token_hex(2)}"


class ShardCoordinator:
    """This process's membership: leases, assignment, handover (see the module doc)."""

    def __init__(self, bot: Bot, delivery: JetStreamDelivery) -> None:
        config = bot.config
        sharding = config.jetstream.sharding
        if not isinstance(bot.transport, NatsTransport):
            raise KrytenError("sharding needs the NATS transport")
        self._bot = bot
        self._delivery = delivery
        self.member = sharding.member or default_member_id()
        self.ttl = sharding.lease_ttl
        self.period = sharding.lease_ttl / 4
        bucket = sharding.bucket or f"kryten_shards_{config.service_name}"
        self.leases = ShardLeases(bot.transport, bucket, sharding.lease_ttl)
        self.known: dict[str, _Channel] = {}
        self.owned: dict[str, int] = {}  # lease key -> revision
        self.members: dict[str, ShardMember] = {}
        self.claimed_at: dict[str, float] = {}  # lease key -> time.time() of the claim
        self.handovers = 0
        self.fenced = 0
        self._renewed = 0.0
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def add_channel(
        self, domain: str, channel: str, *, actor: str | None = None, from_start: bool = False
    ) -> None:
        """Make a channel part of the assignment (it is claimed by its owner's next round)."""
        key = self._bot.scheme.channel_key(domain, channel)
        lease = self._delivery.consumer_name(key)
        self.known.setdefault(lease, _Channel(domain, channel, lease, actor, from_start))

    def knows(self, key: str) -> bool:
        """True when the channel with routing key ``key`` is part of the assignment."""
        return self._delivery.consumer_name(key) in self.known

    async def start(self) -> None:
        """Join: take the leases this member should hold now, then renew in the background."""
        await self.leases.start()
        await self._round()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.period)  # the renewal period (a schedule, not a wait)
            try:
                await self._round()
            except Exception as exc:  # noqa: BLE001 -- the next round tries again
                log.warning("shard lease renewal failed: %r", exc)
            if self.owned and time.monotonic() - self._renewed > self.ttl * _FENCE_AFTER:
                log.error("leases not renewed for %.1f s: stopping every channel", self.ttl)
                self.fenced += 1
                async with self._lock:
                    for lease in list(self.owned):
                        await self._drop(lease, release=False)

    async def _round(self) -> None:
        async with self._lock:
            began = time.monotonic()
            await self.leases.renew_member(self.member, self._report())
            await self._renew()
            self._renewed = began
            members = await self.leases.members()
            members.setdefault(self.member, {})
            self.members = {m: _member(m, info) for m, info in members.items()}
            for lease in list(self.owned):
                if rendezvous_owner(lease, members) != self.member:
                    await self._drop(lease, release=True)  # a graceful handover
            for lease, channel in list(self.known.items()):
                if lease in self.owned or rendezvous_owner(lease, members) != self.member:
                    continue
                revision = await self.leases.claim(lease, self.member)
                if revision is not None:
                    self.owned[lease] = revision
                    self.claimed_at[lease] = time.time()
                    await self._serve(channel)

    async def _renew(self) -> None:
        leases = list(self.owned.items())
        results = await asyncio.gather(
            *(self.leases.renew(lease, self.member, rev) for lease, rev in leases),
            return_exceptions=True,
        )
        for (lease, _), result in zip(leases, results, strict=True):
            if isinstance(result, LeaseLost):
                log.warning("lost the lease of %s: stopping it", lease)
                self.fenced += 1
                await self._drop(lease, release=False)
            elif isinstance(result, BaseException):
                raise result
            else:
                self.owned[lease] = result

    async def _serve(self, channel: _Channel) -> None:
        bot = self._bot
        await bot.channels.start(channel.domain, channel.channel, channel.actor)
        await self._delivery.open(channel.domain, channel.channel, from_start=channel.from_start)

    async def _drop(self, lease: str, *, release: bool) -> None:
        revision = self.owned.pop(lease, None)
        self.claimed_at.pop(lease, None)
        channel = self.known[lease]
        await self._delivery.close_channel(channel.domain, channel.channel)
        await self._bot.channels.stop(channel.domain, channel.channel)
        if release and revision is not None:
            await self._delivery.link.flush_acks()  # the next owner starts after them
            await self.leases.release(lease, revision)
            self.handovers += 1

    def _report(self) -> dict[str, Any]:
        return {
            "channels": sorted(
                f"{self.known[lease].domain}/{self.known[lease].channel}" for lease in self.owned
            ),
            "lag": self._delivery.lag(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }

    async def stop(self) -> None:
        """Leave gracefully: hand every channel over (drained, acked), drop the membership."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        async with self._lock:
            for lease in list(self.owned):
                await self._drop(lease, release=True)
            try:
                await self.leases.leave(self.member)
            except Exception as exc:  # noqa: BLE001 -- it then expires after lease_ttl
                log.warning("could not remove the membership lease: %r", exc)


def _member(member: str, info: dict[str, Any]) -> ShardMember:
    return ShardMember(
        member=member,
        channels=list(info.get("channels", [])),
        lag=int(info.get("lag", 0)),
        pid=int(info.get("pid", 0)),
        host=str(info.get("host", "")),
    )
