"""ChannelActor behaviour (handlers, decoding, tracked state), over memory and nats-server."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import pytest

from kryten_actors import (
    ChangeMediaEvent,
    ChannelActor,
    ChatMessageEvent,
    PrivateMessageEvent,
    RawEvent,
    on,
)
from kryten_actors.bot.binding import current_correlation
from kryten_actors.errors import KrytenValidationError
from tests.bot.conftest import BotFactory, Bus
from tests.bot.support import Journal, chat, envelope, recording, variant
from tests.polling import wait_until

PROFILES = ["seed", "kryten-robot"]
LOUNGE = "cytu.be/lounge"


class TwoHandlers(ChannelActor):
    """Two handlers of one event that can only finish if they run concurrently."""

    trace: ClassVar[list[tuple[str, str]]]
    barriers: ClassVar[dict[str, asyncio.Barrier]]

    async def _step(self, name: str, event: ChatMessageEvent | PrivateMessageEvent) -> None:
        self.trace.append(("start", event.message))
        barrier = self.barriers.setdefault(event.message, asyncio.Barrier(2))
        async with asyncio.timeout(5):
            await barrier.wait()
        for _ in range(5):
            await asyncio.sleep(0)  # give a wrongly started next message the chance to run
        self.trace.append((f"end-{name}", event.message))

    @on("chatmsg")
    async def lower(self, event: ChatMessageEvent) -> None:
        await self._step("lower", event)

    @on("CHATMSG", "pm")
    async def upper(self, event: ChatMessageEvent | PrivateMessageEvent) -> None:
        await self._step("upper", event)


@pytest.mark.parametrize("profile", PROFILES)
async def test_handlers_of_one_event_run_concurrently_and_messages_stay_serial(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    actor = variant(TwoHandlers, trace=[], barriers={})
    bot = await make_bot(profile, [("cytu.be", "lounge")], actor)
    for text in ("one", "two", "three"):
        await bus.publish(chat(profile, text))

    await wait_until(lambda: len(actor.trace) == 12, what="both handlers of three messages")
    for index, text in enumerate(("one", "two", "three")):
        block = actor.trace[index * 4 : index * 4 + 4]
        assert {step for step, _ in block} == {"start", "end-lower", "end-upper"}
        assert all(message == text for _, message in block), actor.trace
    assert bot.health().actors[LOUNGE].restarts == 0


class AnnotationLiar(ChannelActor):
    """Annotations wider than the event: the name decides the model.

    (An annotation that contradicts the event is a TypeError: tests/bot/test_typed_on.py.)
    """

    got: ClassVar[list[tuple[str, type[Any]]]]

    @on("chatMsg")
    async def chat(self, event: RawEvent) -> None:
        self.got.append(("chat", type(event)))

    @on("mysteryEvent")
    async def mystery(self, event: RawEvent) -> None:
        self.got.append(("mystery", type(event)))

    @on("*")
    async def everything(self, event: RawEvent) -> None:
        self.got.append(("*", type(event)))


@pytest.mark.parametrize("profile", PROFILES)
async def test_the_model_is_chosen_by_the_event_name_and_star_gets_everything(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    actor = variant(AnnotationLiar, got=[])
    await make_bot(profile, [("cytu.be", "lounge")], actor)
    await bus.publish(chat(profile, "typed"))
    await bus.publish(envelope(profile, "mysteryEvent", [1, 2]))
    await bus.publish(envelope(profile, "usercount", 3))

    await wait_until(lambda: len(actor.got) == 5, what="five handler calls")
    assert sorted(actor.got[:2], key=str) == sorted(
        [("chat", ChatMessageEvent), ("*", ChatMessageEvent)], key=str
    )
    assert sorted(actor.got[2:4], key=str) == sorted(
        [("mystery", RawEvent), ("*", RawEvent)], key=str
    )
    assert actor.got[4][0] == "*"
    assert actor.got[4][1].__name__ == "UserCountEvent"


def test_on_refuses_sync_functions_and_empty_names() -> None:
    with pytest.raises(KrytenValidationError, match="async def"):

        class Bad(ChannelActor):
            @on("chatMsg")  # type: ignore[type-var]
            def sync(self, event: RawEvent) -> None: ...

    with pytest.raises(KrytenValidationError):
        on(" ")


@pytest.mark.parametrize("profile", PROFILES)
async def test_undecodable_bodies_are_dead_letters_never_actor_failures(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    journal = Journal()
    bot = await make_bot(
        profile,
        [("cytu.be", "lounge")],
        recording(journal),
        supervision={"max_restarts": 1, "min_backoff": 0.01, "max_backoff": 0.05},
    )
    subject, _ = chat(profile, "x")
    poison = [
        b"{not json",
        b"[1, 2, 3]",
        b'"just a string"',
        json.dumps({"event_name": "chatMsg", "payload": {}}).encode(),  # no channel/domain
        envelope(profile, "chatMsg", 42)[1],  # wrong payload type
        envelope(profile, "chatMsg", {"username": 5, "msg": None})[1],
    ] * 4  # far more than the restart intensity
    for body in poison:
        await bus.publisher.publish(subject, body)
    await bus.publish(chat(profile, "valid"))

    await wait_until(lambda: journal.messages(LOUNGE) == ["valid"], what="the valid line")
    assert bot.system.dead_letters.counts["decode_failed"] == len(poison)
    health = bot.health()
    actor = health.actors[LOUNGE]
    assert (actor.state, actor.restarts, actor.failed) == ("running", 0, 0)
    assert health.errors >= len(poison)
    assert len(journal.for_key(LOUNGE, "all")) == 1


class Tracker(ChannelActor):
    """Records the tracked bridge state as each event's handlers see it."""

    states: ClassVar[list[tuple[str, Any, Any, Any]]]

    @on("*")
    async def snapshot(self, event: RawEvent) -> None:
        self.states.append((event.event_name, self.rank, self.current_uid, self.current_media))


@pytest.mark.parametrize("profile", PROFILES)
async def test_rank_and_current_media_are_tracked_from_events(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    actor = variant(Tracker, states=[])
    await make_bot(profile, [("cytu.be", "lounge")], actor)
    media = {
        "id": "abc",
        "title": "Some Video",
        "seconds": 213,
        "duration": "03:33",
        "type": "yt",
        "meta": {},
        "currentTime": -3,
        "paused": True,
    }
    # The state is tracked when an event is routed, so a handler sees everything routed so
    # far; one event at a time, each handler sees exactly the events up to its own.
    events = [
        ("usercount", 1),
        ("rank", 2),
        ("setCurrent", 42),
        ("changeMedia", media),
        ("rank", 1.5),
    ]
    for count, (name, payload) in enumerate(events, start=1):
        await bus.publish(envelope(profile, name, payload))
        await wait_until(lambda n=count: len(actor.states) == n, what=f"event {count}")
    assert actor.states[0][1:] == (None, None, None)
    assert actor.states[1][1] == 2
    assert actor.states[2][1:3] == (2, 42)
    name, rank, uid, current = actor.states[3]
    assert (name, rank, uid) == ("changeMedia", 2, 42)
    assert isinstance(current, ChangeMediaEvent)
    assert current.payload.title == "Some Video"
    assert actor.states[4][1] == 1.5


class Timed(ChannelActor):
    """Fires a one-shot and a repeating timer, in the actor's turn."""

    ticks: ClassVar[list[str]]

    async def on_start(self) -> None:
        self.after(0.05, self.once)
        self.every(0.05, self.repeat)

    async def once(self) -> None:
        self.ticks.append(f"once:{self.channel}")

    async def repeat(self) -> None:
        self.ticks.append(f"every:{self.channel}")


async def test_timers_call_back_in_the_actors_turn(bus: Bus, make_bot: BotFactory) -> None:
    actor = variant(Timed, ticks=[])
    await make_bot("seed", [("cytu.be", "lounge")], actor)
    await wait_until(lambda: actor.ticks.count("every:lounge") >= 3, what="three ticks")
    assert actor.ticks.count("once:lounge") == 1


class Awaiter(ChannelActor):
    """A handler that suspends half-way (``wait`` lines wait for ``gate``), or fails after."""

    trace: ClassVar[list[tuple[str, str, str | None]]]
    gate: ClassVar[asyncio.Event]

    @on("chatMsg")
    async def handle(self, event: ChatMessageEvent) -> None:
        self.trace.append(("start", event.message, current_correlation()))
        if event.message.startswith("wait"):
            await self.gate.wait()
        else:
            await asyncio.sleep(0)
        self.trace.append(("end", event.message, current_correlation()))
        if event.message == "fail":
            raise RuntimeError("failed after an await")


@pytest.mark.parametrize("profile", PROFILES)
async def test_a_handler_that_awaits_keeps_its_context_order_and_counts(
    bus: Bus, make_bot: BotFactory, profile: str
) -> None:
    actor = variant(Awaiter, trace=[], gate=asyncio.Event())
    bot = await make_bot(profile, [("cytu.be", "lounge")], actor)
    binding = bot.channels.binding("cytu.be", "lounge")
    assert binding is not None
    for text in ("wait", "fail", "after"):
        await bus.publish(chat(profile, text))
    await wait_until(lambda: len(actor.trace) == 1, what="the first handler waiting")
    assert binding.counters.events_handled == 0  # counted when the handler ends
    actor.gate.set()
    await wait_until(lambda: len(actor.trace) == 6, what="all three lines handled")

    assert [(step, text) for step, text, _ in actor.trace] == [
        ("start", "wait"),
        ("end", "wait"),
        ("start", "fail"),
        ("end", "fail"),
        ("start", "after"),
        ("end", "after"),
    ]
    # the event's correlation ID before and after the handler's await, never another's
    ids = [correlation for _, _, correlation in actor.trace]
    assert ids[0::2] == ids[1::2]
    assert None not in ids
    assert len(set(ids)) == 3
    await wait_until(lambda: binding.counters.events_handled == 2, what="two lines counted")
    assert binding.counters.events_received == 3
    assert bot.health().actors[LOUNGE].restarts == 1
    assert current_correlation() is None
