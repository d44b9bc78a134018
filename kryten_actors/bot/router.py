"""RouterActor: owns the event subscriptions and feeds each channel's mailbox."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kryten_actors.bot.binding import ChannelBinding, EventDelivery
from kryten_actors.bot.tap import SKIP, observe
from kryten_actors.errors import MailboxFull
from kryten_actors.observability.instrumentation import Instrumentation
from kryten_actors.protocol.subjects import ParsedEventSubject, SubjectScheme
from kryten_actors.runtime import Actor, ActorRef, Clock, DeadLetterReason, DeadLetters
from kryten_actors.transport.base import InboundMessage, Subscription, Transport

__all__ = ["RouterActor", "RouterStats", "RoutingTable", "domain_from_body"]

log = logging.getLogger("kryten_actors.bot.router")

#: Called for an event of a channel the bot does not serve yet; returns its actor or None.
UnknownChannelHook = Callable[[ParsedEventSubject, InboundMessage], Awaitable[ActorRef | None]]


#: Parsed subjects remembered (a channel emits a few dozen distinct event names).
_PARSE_CACHE_SIZE = 16_384


@dataclass(slots=True)
class RouterStats:
    """What the router saw. ``foreign_channel`` events belong to other bots on the bus."""

    received: int = 0
    routed: int = 0
    unroutable: int = 0
    foreign_channel: int = 0
    oversized: int = 0
    mailbox_full: int = 0
    replayed_skipped: int = 0


class RoutingTable:
    """Channel key → the channel actor's ref and binding; the bot writes, the router reads."""

    __slots__ = ("bindings", "refs")

    def __init__(self) -> None:
        self.refs: dict[str, ActorRef] = {}
        self.bindings: dict[str, ChannelBinding] = {}


class RouterActor(Actor):
    """Subscribes to the profile's event subjects and demultiplexes into mailboxes.

    The hot path runs in the transport's delivery callback: parse the subject, look
    up the channel, check the size, ``tell`` — the JSON body is never decoded here
    (the channel actor does that). Nothing a message contains can make the router
    raise: bad subjects are dead-lettered as ``unroutable``, bodies over
    ``max_event_bytes`` as ``oversized``, events of channels this bot does not serve
    are counted as ``foreign_channel``. No channel waits for another, except under
    the ``block`` overflow policy, whose backpressure stalls the router by design.
    """

    def __init__(
        self,
        *,
        transport: Transport,
        scheme: SubjectScheme,
        table: RoutingTable,
        dead_letters: DeadLetters,
        clock: Clock,
        max_event_bytes: int,
        block_when_full: bool,
        stats: RouterStats,
        instrumentation: Instrumentation,
        on_unknown_channel: UnknownChannelHook | None = None,
        max_channels: int = 10_000,
    ) -> None:
        self._transport = transport
        self._scheme = scheme
        self._refs = table.refs
        self._bindings = table.bindings
        self._dead_letters = dead_letters
        self._clock = clock
        self._max_bytes = max_event_bytes
        self._block = block_when_full
        self._on_unknown = on_unknown_channel
        self._instrumentation = instrumentation
        self._max_channels = max_channels
        self._cap_warned = False
        self._subscriptions: list[Subscription] = []
        self._parsed: dict[str, ParsedEventSubject] = {}
        self.stats = stats

    async def on_start(self) -> None:
        """Subscribe; returns once every subscription is registered at the server.

        If it raises (the bus is unreachable), the supervisor restarts the router.
        """
        for subject in self._scheme.event_subscriptions():
            self._subscriptions.append(await self._transport.subscribe(subject, self.route))

    async def on_stop(self) -> None:
        """Unsubscribe so no new events arrive; errors are logged by the runtime."""
        subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            await subscription.unsubscribe()

    async def receive(self, message: object) -> object:
        """The router has no mailbox protocol of its own; it only routes."""
        del message
        return None

    async def _spawn(self, parsed: ParsedEventSubject, message: InboundMessage) -> ActorRef | None:
        """Start an actor for an unknown channel, unless off or ``max_channels`` is reached."""
        if self._on_unknown is None:
            return None
        if len(self._refs) >= self._max_channels:
            if not self._cap_warned:
                self._cap_warned = True
                log.warning(
                    "max_channels (%d) reached: events of further unknown channels are "
                    "counted as foreign_channel; raise max_channels to serve more",
                    self._max_channels,
                )
            return None
        return await self._on_unknown(parsed, message)

    def _parse(self, subject: str) -> ParsedEventSubject | None:
        parsed = self._scheme.parse_event(subject)
        if parsed is not None:
            if len(self._parsed) >= _PARSE_CACHE_SIZE:
                self._parsed.clear()  # bounded: a flood of distinct subjects only churns it
            self._parsed[subject] = parsed
        return parsed

    async def route(self, message: InboundMessage) -> None:
        """Deliver one bus message to its channel actor's mailbox (never raises)."""
        stats = self.stats
        stats.received += 1
        parsed = self._parsed.get(message.subject) or self._parse(message.subject)
        if parsed is None:
            stats.unroutable += 1
            self._dead_letters.record(
                message, recipient="router", reason=DeadLetterReason.UNROUTABLE
            )
            return
        ref = self._refs.get(parsed.key)
        if ref is None and self._on_unknown is None:
            stats.foreign_channel += 1
            return
        # Checked before an unknown channel's hook runs: an oversized body must neither
        # start an actor nor be parsed for its domain.
        if len(message.data) > self._max_bytes:
            stats.oversized += 1
            recipient = ref.path if ref is not None else "router"
            self._dead_letters.record(
                message, recipient=recipient, reason=DeadLetterReason.OVERSIZED
            )
            return
        if ref is None:
            ref = await self._spawn(parsed, message)
            if ref is None:
                stats.foreign_channel += 1
                return
        replay = False
        binding = self._bindings.get(parsed.key)
        if binding is not None:
            # tracked state, join sequence and command outcomes, in arrival order
            seen = observe(binding, parsed.event, message.data)
            if seen == SKIP:
                stats.replayed_skipped += 1
                return
            replay = bool(seen)
        delivery = EventDelivery(message, parsed.event, self._clock.now(), replay)
        try:
            if self._block:
                await ref.put(delivery)
            else:
                ref.tell(delivery)
        except MailboxFull:
            stats.mailbox_full += 1
            return
        stats.routed += 1
        if ref.half_full:
            # nats-py hands a whole socket read to this callback without yielding; give
            # the channel a turn to drain before a burst overflows its mailbox
            await asyncio.sleep(0)
        if self._instrumentation.enabled:
            self._instrumentation.record_received(event_name=parsed.event, channel=parsed.key)


def domain_from_body(data: bytes) -> str | None:
    """The envelope's ``domain``, for a kryten-robot subject (which names none).

    Only used on the first sight of an unknown channel, so decoding here is fine.
    """
    try:
        body = json.loads(data)
    except ValueError:
        return None
    domain = body.get("domain") if isinstance(body, dict) else None
    return domain if isinstance(domain, str) and domain else None
