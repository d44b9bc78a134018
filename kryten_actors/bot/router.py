"""RouterActor: owns the event subscriptions and feeds each channel's mailbox."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from kryten_actors.bot.delivery import Acknowledgement, EventDelivery
from kryten_actors.bot.tap import REPLAY, SKIP, observe
from kryten_actors.errors import MailboxFull
from kryten_actors.observability.instrumentation import Instrumentation
from kryten_actors.protocol.subjects import ParsedEventSubject, SubjectScheme
from kryten_actors.runtime import Actor, ActorRef, Clock, DeadLetters
from kryten_actors.transport.base import FrameSource, InboundMessage, Subscription, Transport

if TYPE_CHECKING:
    from kryten_actors.bot.binding import ChannelBinding

__all__ = ["RouterActor", "RouterStats", "RoutingTable", "domain_from_body"]

log = logging.getLogger("kryten_actors.bot.router")

#: Called (synchronously) for an event of a channel the bot does not serve yet, with
#: the parsed subject and the body; returns the new actor's ref, or None.
UnknownChannelHook = Callable[[ParsedEventSubject, bytes], ActorRef | None]

#: Called (synchronously) for an event of a passivated channel: its key and the state
#: its last instance left; returns the re-activated actor's ref.
ActivationHook = Callable[[str, Any], ActorRef]

#: Parsed subjects remembered (a channel emits a few dozen distinct event names).
_PARSE_CACHE_SIZE = 16_384
_ABSENT: Final[Any] = object()
_new: Final = object.__new__


class _Yield:
    """An awaitable that gives the event loop one turn (no coroutine object per use)."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        yield


_YIELD: Final = _Yield()


@dataclass(slots=True)
class RouterStats:
    """What the router saw. ``foreign_channel`` events belong to other bots on the bus.

    Every received event ends in exactly one of ``routed``, ``unroutable``,
    ``foreign_channel``, ``oversized``, ``mailbox_full`` or ``spawn_failed``.
    ``spawned`` counts actors started for unknown channels, ``activated``
    passivated channels brought back by an event.
    """

    received: int = 0
    routed: int = 0
    unroutable: int = 0
    foreign_channel: int = 0
    oversized: int = 0
    mailbox_full: int = 0
    spawn_failed: int = 0
    spawned: int = 0
    activated: int = 0
    replayed_skipped: int = 0


class RoutingTable:
    """Channel key → where its events go; written by the bot, read by the router.

    ``refs`` holds the running channel actors; ``passive`` the passivated channels
    (key → the state their last instance left), which the next event re-activates;
    ``bindings`` every served channel's binding, whose tap sees each event first.
    """

    __slots__ = ("bindings", "passive", "refs")

    def __init__(self) -> None:
        self.refs: dict[str, ActorRef] = {}
        self.passive: dict[str, Any] = {}
        #: key → the channel's binding (tracked state, join sequence, outcomes)
        self.bindings: dict[str, ChannelBinding] = {}


class RouterActor(Actor):
    """Subscribes to the profile's event subjects and demultiplexes into mailboxes.

    The hot path runs synchronously in the transport's delivery (one call per event,
    no coroutine): parse the subject, look up the channel, check the size, ``tell`` —
    the JSON body is never decoded here (the channel actor does that). Nothing a
    message contains can make the router raise: bad subjects are dead-lettered as
    ``unroutable``, bodies over ``max_event_bytes`` as ``oversized``, events of
    channels this bot does not serve are counted as ``foreign_channel``. A new or
    passivated channel's actor is started off the routing path (its first events
    wait in its own mailbox), so no channel waits for another's ``on_start``; only
    the ``block`` overflow policy stalls the router, by design.
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
        on_passive_channel: ActivationHook | None = None,
        max_channels: int = 10_000,
        subscribe: bool = True,
    ) -> None:
        self._transport = transport
        self._scheme = scheme
        self._refs = table.refs
        self._passive = table.passive
        self._bindings = table.bindings
        self._dead_letters = dead_letters
        self._now = clock.now
        self._max_bytes = max_event_bytes
        self._block = block_when_full
        self._on_unknown = on_unknown_channel
        self._on_passive = on_passive_channel
        self._instrumentation = instrumentation
        self._max_channels = max_channels
        self._subscribe = subscribe
        self._cap_warned = False
        self._subscriptions: list[Subscription] = []
        self._parsed: dict[str, ParsedEventSubject] = {}
        self.stats = stats

    async def on_start(self) -> None:
        """Subscribe; returns once every subscription is registered at the server.

        If it raises (the bus is unreachable), the supervisor restarts the router.
        With ``subscribe=False`` (``delivery: jetstream``) events come from the
        channels' consumers through :meth:`route_frame` instead.
        """
        if not self._subscribe:
            return
        transport = self._transport
        for subject in self._scheme.event_subscriptions():
            if isinstance(transport, FrameSource):
                subscription = await transport.subscribe_frames(subject, self.route_frame)
            else:
                subscription = await transport.subscribe(subject, self.route)
            self._subscriptions.append(subscription)

    async def on_stop(self) -> None:
        """Unsubscribe so no new events arrive; errors are logged by the runtime."""
        subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            await subscription.unsubscribe()

    async def receive(self, message: object) -> object:
        """The router has no mailbox protocol of its own; it only routes."""
        del message
        return None

    async def route(self, message: InboundMessage) -> None:
        """Deliver one bus message to its channel actor's mailbox (never raises)."""
        pause = self.route_frame(message.subject, message.data, message.headers)
        if pause is not None:
            await pause

    def route_frame(
        self,
        subject: str,
        data: bytes,
        headers: Mapping[str, str] | None,
        ack: Acknowledgement | None = None,
    ) -> Awaitable[None] | None:
        """Deliver one event to its channel's mailbox; never raises.

        Returns None, or an awaitable the transport awaits before the next event:
        a turn for the actors when a mailbox fills up, or room under ``block``.
        ``ack`` (a durable source's) travels with the event to its handlers; when the
        event is not routed (``stats.routed`` unchanged) the caller settles it.
        """
        stats = self.stats
        stats.received += 1
        parsed = self._parsed.get(subject) or self._parse(subject)
        if parsed is None:
            stats.unroutable += 1
            self._dead(subject, data, headers, event="", recipient="router", reason="unroutable")
            return None
        key = parsed.key
        event = parsed.event
        ref = self._refs.get(key)
        if ref is None and self._on_unknown is None and key not in self._passive:
            stats.foreign_channel += 1
            return None
        nbytes = len(data)
        if nbytes > self._max_bytes:
            # checked before an unknown channel's hook: an oversized body starts no actor
            stats.oversized += 1
            recipient = ref.path if ref is not None else "router"
            self._dead(subject, data, headers, event=event, recipient=recipient, reason="oversized")
            return None
        if ref is None:
            ref = self._unserved(parsed, subject, data, headers)
            if ref is None:
                return None
        replay = False
        binding = self._bindings.get(key)
        if binding is not None:
            # tracked state, join sequence and command outcomes, in arrival order
            seen = observe(binding, event, data)
            if seen:  # not DELIVER
                if seen == SKIP:
                    stats.replayed_skipped += 1
                    return None
                replay = seen == REPLAY
        # EventDelivery(subject, data, headers, event, now, replay, ack), built
        # without its __init__ frame (~40 % of the construction, once per event)
        delivery = _new(EventDelivery)
        delivery.subject = subject
        delivery.data = data
        delivery.headers = headers
        delivery.event = event
        delivery.enqueued_at = self._now()
        delivery.replay = replay
        delivery.ack = ack
        delivery.nbytes = nbytes
        try:
            # under ``block``, an event the mailbox has no room for waits for it (None)
            crowded = ref.offer(delivery, self._block)
        except MailboxFull:
            stats.mailbox_full += 1
            return None
        if crowded is None:
            return self._put(ref, delivery, parsed)
        stats.routed += 1
        if self._instrumentation.counts_events:
            self._instrumentation.record_received(event_name=event, channel=key)
        if crowded:
            # a whole socket read is routed without a pause; give the channel a turn
            # to drain before a burst overflows its mailbox
            return _YIELD
        return None

    async def _put(
        self, ref: ActorRef, delivery: EventDelivery, parsed: ParsedEventSubject
    ) -> None:
        try:
            await ref.put(delivery)
        except MailboxFull:
            self.stats.mailbox_full += 1
            return
        self.stats.routed += 1
        if self._instrumentation.counts_events:
            self._instrumentation.record_received(event_name=parsed.event, channel=parsed.key)

    def _parse(self, subject: str) -> ParsedEventSubject | None:
        try:
            parsed = self._scheme.parse_event(subject)
        except Exception:  # noqa: BLE001 -- a hostile subject is unroutable, never an error
            return None
        if parsed is not None:
            if len(self._parsed) >= _PARSE_CACHE_SIZE:
                self._parsed.clear()  # bounded: a flood of distinct subjects only churns it
            self._parsed[subject] = parsed
        return parsed

    def _unserved(
        self,
        parsed: ParsedEventSubject,
        subject: str,
        data: bytes,
        headers: Mapping[str, str] | None,
    ) -> ActorRef | None:
        """The ref for a channel with no running actor: re-activated, spawned, or None."""
        stats = self.stats
        state = self._passive.pop(parsed.key, _ABSENT)
        try:
            if state is not _ABSENT and self._on_passive is not None:
                stats.activated += 1
                return self._on_passive(parsed.key, state)
            if self._on_unknown is None:
                stats.foreign_channel += 1
                return None
            ref = self._spawn(parsed, data)
        except Exception as error:
            stats.spawn_failed += 1
            log.exception("could not start an actor for channel %r", parsed.channel)
            self._dead(
                subject,
                data,
                headers,
                event=parsed.event,
                recipient="router",
                reason="spawn_failed",
                error=error,
            )
            return None
        if ref is None:
            stats.foreign_channel += 1
            return None
        stats.spawned += 1
        return ref

    def _spawn(self, parsed: ParsedEventSubject, data: bytes) -> ActorRef | None:
        """Start an actor for an unknown channel, unless off or ``max_channels`` is reached."""
        assert self._on_unknown is not None
        if len(self._refs) >= self._max_channels:
            if not self._cap_warned:
                self._cap_warned = True
                log.warning(
                    "max_channels (%d) reached: events of further unknown channels are "
                    "counted as foreign_channel; raise max_channels to serve more",
                    self._max_channels,
                )
            return None
        return self._on_unknown(parsed, data)

    def _dead(
        self,
        subject: str,
        data: bytes,
        headers: Mapping[str, str] | None,
        *,
        event: str,
        recipient: str,
        reason: str,
        error: BaseException | None = None,
    ) -> None:
        delivery = EventDelivery(subject, data, headers, event, self._now())
        self._dead_letters.record(delivery, recipient=recipient, reason=reason, error=error)


def domain_from_body(data: bytes) -> str | None:
    """The envelope's ``domain``, for a kryten-robot subject (which names none).

    Only used on the first sight of an unknown channel, so decoding here is fine.
    Never raises, whatever the body holds (a 100,000-deep JSON nesting included).
    """
    try:
        body = json.loads(data)
    except (ValueError, RecursionError, MemoryError):
        return None
    domain = body.get("domain") if isinstance(body, dict) else None
    return domain if isinstance(domain, str) and domain else None
