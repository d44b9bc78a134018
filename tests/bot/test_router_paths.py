"""The router's rarer paths: full mailboxes under ``block`` and ``reject``, transports
without frame delivery, a failing spawn, a hostile subject parser, and the parse cache.

Every event the router receives ends counted in exactly one place, whatever the path.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on
from kryten_actors.bot import router as router_module
from kryten_actors.bot.delivery import EventDelivery
from kryten_actors.bot.router import RouterActor, RouterStats, RoutingTable
from kryten_actors.observability.instrumentation import NoInstrumentation
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.runtime import DeadLetters, VirtualClock
from kryten_actors.transport.base import MessageHandler, RetryPolicy, Subscription
from kryten_actors.transport.memory import MemoryTransport
from tests.bot.conftest import bot_config
from tests.bot.support import chat
from tests.polling import wait_until

LOUNGE = ("cytu.be", "lounge")


class Gated(ChannelActor):
    """Handles chat only once the test opens the gate; records what it handled."""

    gate: ClassVar[asyncio.Event]
    seen: ClassVar[list[str]] = []

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        await self.gate.wait()
        Gated.seen.append(event.message)


@pytest.fixture
async def memory() -> Any:
    bus = MemoryTransport(retry=RetryPolicy(attempts=1))
    await bus.connect()
    Gated.gate = asyncio.Event()
    Gated.seen = []
    yield bus
    await bus.close()


def totals(bot: Bot) -> int:
    s = bot.router_stats
    return (
        s.routed
        + s.unroutable
        + s.foreign_channel
        + s.oversized
        + s.mailbox_full
        + s.spawn_failed
        + s.replayed_skipped
    )


async def test_block_holds_the_router_until_there_is_room_and_loses_nothing(
    memory: MemoryTransport,
) -> None:
    config = bot_config("seed", [LOUNGE], mailbox={"capacity": 2, "overflow": "block"})
    async with Bot(config, actor=Gated, transport=memory) as bot:
        publishing = asyncio.gather(*(memory.publish(*chat("seed", str(i))) for i in range(8)))
        await wait_until(lambda: bot.router_stats.received >= 3, what="the mailbox to fill")
        assert bot.router_stats.routed < 8  # held: the mailbox holds 2, one is in the handler
        Gated.gate.set()
        await publishing
        await wait_until(lambda: len(Gated.seen) == 8, what="all eight handled")
    assert Gated.seen == [str(i) for i in range(8)]
    assert bot.router_stats.mailbox_full == 0
    assert bot.router_stats.routed == 8 == totals(bot)


async def test_reject_counts_what_a_full_mailbox_refuses(memory: MemoryTransport) -> None:
    config = bot_config("seed", [LOUNGE], mailbox={"capacity": 2, "overflow": "reject"})
    async with Bot(config, actor=Gated, transport=memory) as bot:
        for i in range(8):
            await memory.publish(*chat("seed", str(i)))
        await wait_until(lambda: bot.router_stats.received == 8, what="all eight received")
        refused = bot.router_stats.mailbox_full
        assert refused >= 1
        Gated.gate.set()
        await wait_until(lambda: len(Gated.seen) == 8 - refused, what="the rest handled")
    assert bot.router_stats.routed + refused == 8 == totals(bot)


class SubscribeOnly:
    """A transport offering only ``subscribe`` (no frame delivery), as a user's own may."""

    def __init__(self, inner: MemoryTransport) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "subscribe_frames":
            raise AttributeError(name)
        return getattr(self._inner, name)

    async def subscribe(
        self, subject: str, handler: MessageHandler, *, queue: str = ""
    ) -> Subscription:
        return await self._inner.subscribe(subject, handler, queue=queue)


async def test_a_transport_without_frames_routes_through_messages(
    memory: MemoryTransport,
) -> None:
    config = bot_config("seed", [LOUNGE], mailbox={"capacity": 2, "overflow": "block"})
    transport: Any = SubscribeOnly(memory)
    async with Bot(config, actor=Gated, transport=transport) as bot:
        router = bot.system.root.child("router")
        assert router is not None
        router.tell("not an event")  # the router has no protocol of its own: ignored
        Gated.gate.set()
        for i in range(5):
            await memory.publish(*chat("seed", str(i)))
        await wait_until(lambda: len(Gated.seen) == 5, what="five handled")
        assert router.stats().failed == 0
    assert Gated.seen == [str(i) for i in range(5)]


def test_a_failing_spawn_is_counted_and_dead_lettered() -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("no room for another actor")

    letters = DeadLetters()
    router = _bare_router(on_unknown_channel=broken, dead_letters=letters)
    subject, body = chat("seed", "hi", channel="elsewhere")
    assert router.route_frame(subject, body, None) is None
    assert router.stats.spawn_failed == 1
    assert letters.counts == {"spawn_failed": 1}


def test_a_subject_the_scheme_cannot_parse_is_unroutable() -> None:
    class Hostile:
        def parse_event(self, subject: str) -> Any:
            raise RecursionError(subject)

    letters = DeadLetters()
    router = _bare_router(scheme=Hostile(), dead_letters=letters)
    assert router.route_frame("cytube.events.x.y.z", b"{}", None) is None
    assert router.stats.unroutable == 1
    assert letters.counts == {"unroutable": 1}


def test_the_parse_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router_module, "_PARSE_CACHE_SIZE", 8)
    router = _bare_router()
    for i in range(20):
        router.route_frame(f"cytube.events.cytu.be.room{i}.chatMsg", b"{}", None)
    assert len(router._parsed) <= 8
    assert router.stats.foreign_channel == 20


def test_the_delivery_built_inline_has_every_field_of_event_delivery() -> None:
    """The router builds ``EventDelivery`` field by field (no ``__init__`` frame): a field
    added to the class must be set there too."""
    offered: list[Any] = []

    class Sink:
        path = "/sink"

        def offer(self, message: object, room_only: bool = False) -> bool:
            offered.append(message)
            return False

    router = _bare_router(on_unknown_channel=lambda *_: Sink())
    subject, body = chat("seed", "hi", channel="elsewhere")
    assert router.route_frame(subject, body, None) is None
    (delivery,) = offered
    assert type(delivery) is EventDelivery
    expected = EventDelivery(subject, body, None, "chatmsg", delivery.enqueued_at)
    for name in EventDelivery.__slots__:
        assert getattr(delivery, name) == getattr(expected, name), name


def _bare_router(
    *, scheme: Any = None, dead_letters: DeadLetters | None = None, **hooks: Any
) -> RouterActor:
    """A router outside any actor system: ``route_frame`` is pure routing logic."""
    return RouterActor(
        transport=MemoryTransport(),
        scheme=scheme if scheme is not None else scheme_for("seed"),
        table=RoutingTable(),
        dead_letters=dead_letters if dead_letters is not None else DeadLetters(),
        clock=VirtualClock(),
        max_event_bytes=1024,
        block_when_full=False,
        stats=RouterStats(),
        instrumentation=NoInstrumentation(),
        on_unknown_channel=hooks.get("on_unknown_channel"),
        on_passive_channel=None,
        max_channels=10,
    )
