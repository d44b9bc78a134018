"""``delivery: jetstream``: each served channel's events come from a durable consumer.

An event is acknowledged only once its handlers finished, or once it became a dead
letter (a failed handler, a body that does not decode, a full mailbox): nothing is
lost when the process dies, it is delivered again. Events a stopping actor never
processed (``actor_stopped``) stay unacknowledged, so the next start gets them.
Redelivered events are checked against the correlation IDs this process handled
(the last ``dedupe_window``): ``redelivery: skip`` drops known ones, and every other
possible duplicate reaches handlers with ``event.redelivered`` set.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kryten_actors.bot.delivery import correlation_of
from kryten_actors.bot.handled_journal import DuplicateWindow, journal_path, open_journal
from kryten_actors.bot.router import RouterActor, RouterStats, domain_from_body
from kryten_actors.bot.sharding import ShardCoordinator
from kryten_actors.errors import KrytenConnectionError, KrytenValidationError
from kryten_actors.protocol.subjects import ParsedEventSubject, SubjectScheme
from kryten_actors.runtime import DeadLetterReason
from kryten_actors.transport.base import Subscription, Transport
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_jetstream import ChannelConsumer, JetStreamLink, StreamSettings

if TYPE_CHECKING:
    from kryten_actors.bot.actor_source import ActorSource
    from kryten_actors.bot.app import Bot
    from kryten_actors.bot.channels import ChannelActors
    from kryten_actors.config import ChannelConfig, KrytenConfig
    from kryten_actors.runtime import ActorRef

__all__ = [
    "EventAck",
    "JetStreamDelivery",
    "JetStreamStats",
    "boot_channels",
    "consumer_name",
    "start_jetstream",
]

log = logging.getLogger("kryten_actors.bot.jetstream")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def consumer_name(service: str, key: str) -> str:
    """The durable consumer of channel ``key`` (only characters NATS allows in names)."""
    digest = hashlib.blake2s(key.encode(), digest_size=4).hexdigest()
    return f"{service}-{_UNSAFE.sub('_', key)[:80]}-{digest}"


@dataclass(slots=True)
class JetStreamStats:
    """What the consumers delivered and how each event was settled."""

    acked: int = 0
    duplicates_skipped: int = 0
    redelivered: int = 0
    dead_lettered: int = 0
    left_unacked: int = 0
    unrouted: int = 0
    #: handled IDs loaded from the journal a previous process left
    journal_restored: int = 0


class EventAck:
    """The :class:`~kryten_actors.bot.delivery.Acknowledgement` of one JetStream event."""

    __slots__ = ("_owner", "_reply", "redelivered")

    def __init__(self, owner: JetStreamDelivery, reply: str, redelivered: bool) -> None:
        self._owner = owner
        self._reply = reply
        self.redelivered = redelivered

    def skip(self, data: bytes) -> bool:
        owner = self._owner
        if owner.window is None or correlation_of(data) not in owner.window:
            return False
        owner.stats.duplicates_skipped += 1
        owner.link.ack(self._reply)
        return True

    def done(self, data: bytes) -> None:
        owner = self._owner
        window = owner.window
        if window is not None:
            correlation = correlation_of(data)
            if correlation is not None:
                window.add(correlation)
        owner.stats.acked += 1
        owner.link.ack(self._reply)

    def dead(self, reason: str) -> None:
        owner = self._owner
        if reason == DeadLetterReason.ACTOR_STOPPED:
            owner.stats.left_unacked += 1  # comes again after a restart or handover
            return
        owner.stats.dead_lettered += 1
        owner.link.ack(self._reply)


class JetStreamDelivery:
    """Consumers of the served channels, feeding a router; started and stopped by the Bot.

    ``start(channels)`` ensures the stream and opens a consumer per channel;
    ``open``/``close_channel`` follow ``join_channel``/``leave_channel``. With
    ``spawn_unknown_channels`` a core subscription spots channels not served yet and
    opens theirs (from the oldest retained event, so the first events are kept).
    ``stop_fetching()`` then ``close()`` shut it down losslessly.
    """

    def __init__(
        self,
        *,
        transport: Transport,
        config: KrytenConfig,
        scheme: SubjectScheme,
        make_router: Callable[[], RouterActor],
        router_stats: RouterStats,
        channels: ChannelActors,
    ) -> None:
        if not isinstance(transport, NatsTransport):
            raise KrytenConnectionError("delivery: jetstream needs the NATS transport")
        js = config.jetstream
        self._config = config
        self._transport = transport
        self._scheme = scheme
        self._make_router = make_router
        self._router: RouterActor | None = None
        self._router_stats = router_stats
        self._channels = channels
        self.link = JetStreamLink(
            transport,
            StreamSettings(
                name=js.stream,
                subjects=tuple(scheme.event_subscriptions()),
                manage=js.manage_stream,
                max_age=js.max_age,
                max_bytes=js.max_bytes,
                ack_wait=js.ack_wait,
                max_ack_pending=js.max_ack_pending,
                fetch_batch=js.fetch_batch,
            ),
        )
        self.window = DuplicateWindow(js.dedupe_window) if js.redelivery == "skip" else None
        self.stats = JetStreamStats()
        self.consumers: dict[str, ChannelConsumer] = {}
        self._discovery: list[Subscription] = []
        self._opening: dict[str, asyncio.Task[None]] = {}
        #: the membership of this process when sharding is on, else None
        self.shards: ShardCoordinator | None = None

    def _open_journal(self) -> None:
        path = journal_path(self._config)
        if self.window is None or path is None:
            return
        journal, ids = open_journal(
            path, stream_id=self.link.stream_id, capacity=self.window.capacity
        )
        self.window.attach(journal, ids)
        self.stats.journal_restored = len(ids)

    def consumer_name(self, key: str) -> str:
        """The durable consumer of the channel whose routing key is ``key``."""
        return consumer_name(self._config.service_name, key)

    async def start(self, channels: list[ChannelConfig], bot: Bot) -> None:
        """Ensure the stream, open the channels' consumers, watch for new channels.

        With sharding, the channels are handed to the shard coordinator instead,
        which opens the consumers of the channels this process owns.
        """
        self._router = self._make_router()
        await self.link.start()
        self._open_journal()
        if self._config.jetstream.sharding.enabled:
            self.shards = ShardCoordinator(bot, self)
            for ch in channels:
                self.shards.add_channel(ch.domain, ch.channel, actor=ch.actor)
            await self.shards.start()
        else:
            for ch in channels:
                await self.open(ch.domain, ch.channel)
        if self._config.spawn_unknown_channels:
            for subject in self._scheme.event_subscriptions():
                self._discovery.append(await self._transport.subscribe_frames(subject, self._spot))

    async def open(
        self, domain: str, channel: str, *, from_start: bool = False, since: int | None = None
    ) -> None:
        """Start consuming a channel's events (no-op when already consuming): a new
        consumer from the stream's start, from sequence ``since``, or from now on."""
        key = self._scheme.channel_key(domain, channel)
        if key in self.consumers:
            return
        consumer = ChannelConsumer(
            self.link,
            name=consumer_name(self._config.service_name, key),
            subjects=self._scheme.channel_subscriptions(domain, channel),
            from_start=from_start,
            handler=self._deliver,
            since=since,
        )
        self.consumers[key] = consumer
        try:
            await consumer.start()
        except BaseException:
            self.consumers.pop(key, None)
            raise

    async def join(
        self, domain: str, channel: str, actor: ActorSource | str | None
    ) -> ActorRef | None:
        """``Bot.join_channel``: start the actor and its consumer, or (sharding) add the
        channel for every member; None when another member serves it."""
        if self.shards is not None:
            if actor is not None and not isinstance(actor, str):
                raise KrytenValidationError(
                    "with sharding, join_channel takes the actor as 'module:Class' (every "
                    "member must be able to import it), or None for the configured actor",
                    [("actor", "not a 'module:Class' path")],
                )
            return await self.shards.join(domain, channel, actor)
        ref = await self._channels.start(domain, channel, actor)
        await self.open(domain, channel)
        return ref

    async def leave(self, domain: str, channel: str) -> None:
        """``Bot.leave_channel``: stop the consumer, then the actor (drained, acked)."""
        if self.shards is not None:
            await self.shards.leave(domain, channel)
            return
        await self.close_channel(domain, channel)
        await self._channels.stop(domain, channel)

    async def close_channel(self, domain: str, channel: str) -> None:
        """Stop consuming a channel (its consumer stays, for whoever serves it next)."""
        consumer = self.consumers.pop(self._scheme.channel_key(domain, channel), None)
        if consumer is not None:
            await consumer.stop()

    def _spot(
        self, subject: str, data: bytes, headers: Mapping[str, str] | None
    ) -> Awaitable[None] | None:
        del headers
        parsed = self._scheme.parse_event(subject)
        if parsed is None or parsed.key in self.consumers or parsed.key in self._opening:
            return None
        if self.shards is not None and self.shards.knows(parsed.key):
            return None
        if len(self.consumers) >= self._config.max_channels:
            return None
        domain = parsed.domain or domain_from_body(data)
        if not domain:
            return None
        if self.shards is not None:  # its owner serves it from its oldest retained event
            self.shards.add_channel(domain, parsed.channel, from_start=True)
            return None
        task = asyncio.get_running_loop().create_task(self._open_spotted(domain, parsed))
        self._opening[parsed.key] = task
        return None

    async def _open_spotted(self, domain: str, parsed: ParsedEventSubject) -> None:
        try:
            await self.open(domain, parsed.channel, from_start=True)
        except Exception:  # a new channel that cannot be consumed is logged, not fatal
            log.exception("could not open a JetStream consumer for channel %r", parsed.key)
        finally:
            self._opening.pop(parsed.key, None)

    def _deliver(
        self,
        subject: str,
        data: bytes,
        headers: Mapping[str, str] | None,
        reply: str,
        maybe_seen: bool,
    ) -> Awaitable[None] | None:
        router = self._router
        assert router is not None
        stats = self._router_stats
        ack = EventAck(self, reply, maybe_seen)
        self.stats.redelivered += maybe_seen
        before = stats.routed
        pause = router.route_frame(subject, data, headers, ack)
        if pause is None:
            if stats.routed == before:
                self._unrouted(reply)
            return None
        return self._after(pause, reply, before)

    async def _after(self, pause: Awaitable[None], reply: str, before: int) -> None:
        await pause
        if self._router_stats.routed == before:
            self._unrouted(reply)

    def _unrouted(self, reply: str) -> None:
        # dropped by the router (counted there with its reason): settled for good
        self.stats.unrouted += 1
        self.link.ack(reply)

    async def stop_fetching(self) -> None:
        """Stop every consumer's fetching; events already routed still get handled.

        A shard member hands its channels over first (drained and acknowledged).
        """
        if self.shards is not None:
            await self.shards.stop()
        for subscription in self._discovery:
            await subscription.unsubscribe()
        self._discovery.clear()
        for task in list(self._opening.values()):
            task.cancel()
        await asyncio.gather(*self._opening.values(), return_exceptions=True)
        consumers = list(self.consumers.values())
        self.consumers.clear()
        for consumer in consumers:
            await consumer.stop()

    async def close(self) -> None:
        """Send the remaining acks (after the mailboxes drained) and wait for the server."""
        try:
            await self.link.close()
        finally:
            if self.window is not None:
                self.window.detach()

    def lag(self) -> int:
        """Events in the stream not yet delivered to this bot's consumers (last seen)."""
        return sum(consumer.pending for consumer in self.consumers.values())


async def start_jetstream(bot: Bot) -> JetStreamDelivery | None:
    """The bot's JetStream consumers, started (``delivery: jetstream``), else None."""
    config = bot.config
    if config.delivery != "jetstream":
        return None
    delivery = JetStreamDelivery(
        transport=bot.transport,
        config=config,
        scheme=bot.scheme,
        make_router=bot._make_router,  # the bot's own router factory
        router_stats=bot.router_stats,
        channels=bot.channels,
    )
    await delivery.start(config.channels, bot)
    return delivery


def boot_channels(config: KrytenConfig) -> list[ChannelConfig]:
    """The configured channels the bot starts itself: none when sharding assigns them."""
    sharded = config.delivery == "jetstream" and config.jetstream.sharding.enabled
    return [] if sharded else config.channels
