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
import contextlib
import hashlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kryten_actors.config import ChannelConfig
from kryten_actors.errors import KrytenError, KrytenValidationError
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_jetstream import raise_if_cancelled
from kryten_actors.transport.nats_shards import LeaseLost, ShardLeases

if TYPE_CHECKING:
    from kryten_actors.bot.app import Bot
    from kryten_actors.bot.jetstream import JetStreamDelivery
    from kryten_actors.runtime import ActorRef

__all__ = ["ShardCoordinator", "ShardMember", "rendezvous_owner"]

log = logging.getLogger("kryten_actors.bot.sharding")
_FENCE_AFTER = 0.75  # of lease_ttl without a renewal: stop serving before the leases expire
_CHUNK = 64  # leases claimed (and channels started) at once


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
    since: int | None = None  # joined at runtime: the stream sequence of the join


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
        self.static: dict[str, _Channel] = {}  # configured and spotted channels
        self.registered: dict[str, _Channel] = {}  # joined at runtime, on any member
        self.known: dict[str, _Channel] = {}  # both: the channels to assign
        self.serving: dict[str, _Channel] = {}  # whose actor this member runs
        self.owned: dict[str, int] = {}  # lease key -> revision
        self.members: dict[str, ShardMember] = {}
        self.claimed_at: dict[str, float] = {}  # lease key -> time.time() of the claim
        self.handovers = 0
        self.fenced = 0
        self._renewed = 0.0
        self._lost: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._assigning = asyncio.Lock()

    def add_channel(
        self, domain: str, channel: str, *, actor: str | None = None, from_start: bool = False
    ) -> None:
        """Make a channel part of the assignment (it is claimed by its owner's next round)."""
        key = self._bot.scheme.channel_key(domain, channel)
        lease = self._delivery.consumer_name(key)
        entry = self.static.setdefault(lease, _Channel(domain, channel, lease, actor, from_start))
        self.known.setdefault(lease, entry)

    async def join(self, domain: str, channel: str, actor: str | None) -> ActorRef | None:
        """Add a channel for every member (``join_channel``); its ref if served here.

        The channel goes into the shared registry, so its owner (by rendezvous hashing,
        maybe another member) serves it; ``actor`` is a ``"module:Class"`` path every
        member can import, or None for each member's configured actor.
        """
        ChannelConfig(domain=domain, channel=channel)  # refused like a configured one
        key = self._bot.scheme.channel_key(domain, channel)
        lease = self._delivery.consumer_name(key)
        # the owner, maybe another member and later, consumes from here: nothing published
        # after this call returns is lost while it learns of the channel
        since = await self._delivery.link.last_sequence() + 1
        info = {"domain": domain, "channel": channel, "actor": actor, "since": since}
        await self.leases.register(lease, info)
        self.registered[lease] = self.known[lease] = _Channel(
            domain, channel, lease, actor, since=since
        )
        await self._assign()
        return self._bot.channels.table.refs.get(key)

    async def leave(self, domain: str, channel: str) -> None:
        """Remove a channel added with :meth:`join` from every member (``leave_channel``)."""
        key = self._bot.scheme.channel_key(domain, channel)
        lease = self._delivery.consumer_name(key)
        if lease in self.static:
            raise KrytenValidationError(
                f"{domain}/{channel} is configured (or was seen on the bus): with sharding it "
                "stays assigned to a member; remove it from the configuration of every member",
                [("channel", "configured")],
            )
        await self.leases.unregister(lease)
        self.registered.pop(lease, None)
        self.known.pop(lease, None)
        await self._assign()

    def knows(self, key: str) -> bool:
        """True when the channel with routing key ``key`` is part of the assignment."""
        return self._delivery.consumer_name(key) in self.known

    async def start(self) -> None:
        """Join: take the leases this member should hold now, then keep them renewed."""
        await self.leases.start()
        await self._renew()
        await self._assign()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._renew_loop()), loop.create_task(self._assign_loop())]

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.period)  # the renewal period (a schedule, not a wait)
            try:
                await self._renew()
            except Exception as exc:  # noqa: BLE001 -- the next period tries again
                raise_if_cancelled()
                log.warning("shard lease renewal failed: %s: %s", type(exc).__name__, exc)
            if self.owned and time.monotonic() - self._renewed > self.ttl * _FENCE_AFTER:
                log.error("leases not renewed for %.1f s: stopping every channel", self.ttl)
                for lease in list(self.owned):
                    await self._lose(lease)

    async def _renew(self) -> None:
        """Renew the membership and every held lease; a lease found lost stops at once."""
        began = time.monotonic()
        await self.leases.renew_member(self.member, self._report())
        held = list(self.owned.items())
        results = await asyncio.gather(
            *(self.leases.renew(lease, self.member, rev) for lease, rev in held),
            return_exceptions=True,
        )
        failed = False
        for (lease, revision), result in zip(held, results, strict=True):
            if isinstance(result, LeaseLost):
                if self.owned.get(lease) == revision:
                    log.warning("lost the lease of %s: stopping it", lease)
                    await self._lose(lease)
            elif isinstance(result, BaseException):
                failed = True
            elif self.owned.get(lease) == revision:
                self.owned[lease] = result
        if not failed:
            self._renewed = began

    async def _lose(self, lease: str) -> None:
        """Fencing: stop taking the channel's events now; its actor stops next round."""
        self.owned.pop(lease, None)
        self.claimed_at.pop(lease, None)
        self.fenced += 1
        self._lost.add(lease)
        channel = self.serving.get(lease)
        if channel is not None:  # None: not started yet, or already being handed over
            await self._delivery.close_channel(channel.domain, channel.channel)
        self._wake.set()

    async def _assign_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.period):
                    await self._wake.wait()
            raise_if_cancelled()
            self._wake.clear()
            try:
                await self._assign()
            except Exception as exc:  # noqa: BLE001 -- the next round tries again
                raise_if_cancelled()
                log.warning("shard assignment round failed: %s: %s", type(exc).__name__, exc)

    async def _assign(self) -> None:
        async with self._assigning:
            await self._assign_round()

    async def _assign_round(self) -> None:
        """Hand over what another member should serve; claim what this one should."""
        bot = self._bot
        for lease in list(self._lost):
            self._lost.discard(lease)
            if lease in self.owned:  # claimed again since: still served here
                continue
            channel = self.serving.pop(lease, None)
            if channel is not None:
                await bot.channels.stop(channel.domain, channel.channel)
        self.registered = {
            lease: _Channel(
                info["domain"], info["channel"], lease, info.get("actor"), since=_since(info)
            )
            for lease, info in (await self.leases.registered()).items()
        }
        self.known = {**self.registered, **self.static}
        members = await self.leases.members()
        members.setdefault(self.member, {})
        self.members = {m: _member(m, info) for m, info in members.items()}
        for lease in list(self.owned):
            if lease not in self.known or rendezvous_owner(lease, members) != self.member:
                await self._hand_over(lease)
        wanted = [
            lease
            for lease in self.known
            if lease not in self.owned and rendezvous_owner(lease, members) == self.member
        ]
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            revisions = await asyncio.gather(
                *(self.leases.claim(lease, self.member) for lease in chunk)
            )
            won = [(lease, rev) for lease, rev in zip(chunk, revisions, strict=True) if rev]
            for lease, revision in won:
                self.owned[lease] = revision
                self.claimed_at[lease] = time.time()
            served = await asyncio.gather(
                *(self._serve(self.known[lease]) for lease, _ in won), return_exceptions=True
            )
            for (lease, _), result in zip(won, served, strict=True):
                if isinstance(result, Exception):  # not served: undo, the next round retries
                    log.warning(
                        "could not start %s after claiming it: %s: %s",
                        lease,
                        type(result).__name__,
                        result,
                    )
                    channel = self.known[lease]
                    await self._delivery.close_channel(channel.domain, channel.channel)
                    await bot.channels.stop(channel.domain, channel.channel)
                    await self._release(lease)
                elif isinstance(result, BaseException):
                    raise result

    async def _serve(self, channel: _Channel) -> None:
        bot = self._bot
        self.serving[channel.lease] = channel
        await bot.channels.start(channel.domain, channel.channel, channel.actor)
        await self._delivery.open(
            channel.domain, channel.channel, from_start=channel.from_start, since=channel.since
        )

    async def _hand_over(self, lease: str) -> None:
        """Stop the channel here (drained, every ack at the server), then release it.

        The lease stays held (and renewed) until then, so the next owner cannot start
        the channel while its handlers still run here.
        """
        channel = self.serving.get(lease)
        if channel is not None:
            await self._delivery.close_channel(channel.domain, channel.channel)
            await self._bot.channels.stop(channel.domain, channel.channel)
            await self._delivery.link.flush_acks()  # the next owner starts after them
        await self._release(lease)
        self.handovers += 1

    async def _release(self, lease: str) -> None:
        """Forget a lease this member holds and give it back (its channel is stopped)."""
        self.serving.pop(lease, None)
        self.owned.pop(lease, None)
        self.claimed_at.pop(lease, None)
        await self.leases.release(lease, self.member)

    def _report(self) -> dict[str, Any]:
        return {
            "channels": sorted(f"{c.domain}/{c.channel}" for c in self.serving.values()),
            "lag": self._delivery.lag(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        }

    async def stop(self) -> None:
        """Leave gracefully: hand every channel over (drained, acked), drop the membership."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=max(self.ttl, 1.0))
        await self._assigning.acquire()  # no round runs any more
        held = list(self.owned)
        for start in range(0, len(held), _CHUNK):
            chunk = held[start : start + _CHUNK]
            await asyncio.gather(*(self._hand_over(lease) for lease in chunk))
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


def _since(info: dict[str, Any]) -> int | None:
    """The join's stream sequence in a registry entry (absent in an older member's)."""
    since = info.get("since")
    return since if isinstance(since, int) and not isinstance(since, bool) and since > 0 else None
