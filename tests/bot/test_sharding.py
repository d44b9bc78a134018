"""Sharding over JetStream KV leases: assignment, graceful handover, rendezvous hashing."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nats import errors as nats_errors

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, KrytenValidationError, on
from kryten_actors.bot.sharding import ShardCoordinator, rendezvous_owner
from kryten_actors.cli.health import ask_health
from kryten_actors.config import NatsConfig
from kryten_actors.transport.nats import NatsTransport
from tests.bot.conftest import bot_config
from tests.bot.support import chat
from tests.bot.test_jetstream import publish
from tests.conftest import NatsServerFactory
from tests.polling import wait_until

ROOMS = [("cytu.be", f"room{i}") for i in range(24)]


class Tally(ChannelActor):
    """Records (member, channel, text) of every chat line."""

    seen: ClassVar[list[tuple[str, str, str]]] = []
    member: ClassVar[str] = ""

    @on("chatMsg")
    async def record(self, event: ChatMessageEvent) -> None:
        type(self).seen.append((type(self).member, self.channel, event.message))


def shard_config(url: str, member: str) -> Any:
    return bot_config(
        "seed",
        ROOMS,
        nats={"servers": [url]},
        delivery="jetstream",
        jetstream={"sharding": {"enabled": True, "lease_ttl": 2.0, "member": member}},
        profile_check_after=None,
    )


def lines(numbers: range) -> list[tuple[str, bytes]]:
    return [chat("seed", str(n), channel=room) for n in numbers for _, room in ROOMS]


def owned(bot: Bot) -> set[str]:
    assert bot.jetstream is not None
    return set(bot.jetstream.consumers)


async def test_two_members_split_the_channels_and_a_leaving_one_hands_over_losslessly(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(jetstream=True)
    seen: list[tuple[str, str, str]] = []
    a_cls = type("A", (Tally,), {"seen": seen, "member": "a"})
    b_cls = type("B", (Tally,), {"seen": seen, "member": "b"})
    a = Bot(shard_config(server.url, "a"), actor=a_cls)
    b = Bot(shard_config(server.url, "b"), actor=b_cls)
    await a.start()
    try:
        await wait_until(lambda: len(owned(a)) == len(ROOMS), what="a alone owns every channel")
        await b.start()
        # b's arrival moves about half the channels, each exactly once
        keys = {f"cytu.be/{room}" for _, room in ROOMS}
        expected_b = {k for k in keys if rendezvous_owner(_lease(a, k), ["a", "b"]) == "b"}
        await wait_until(lambda: owned(b) == expected_b, what="b owns its share")
        await wait_until(lambda: owned(a) == keys - expected_b, what="a gave up b's share")
        await check_health(server.url, a, {"a": len(keys - expected_b), "b": len(expected_b)})
        await publish(server.url, lines(range(5)))
        await wait_until(lambda: len(seen) == 5 * len(ROOMS))
        by_channel = {(channel, member) for member, channel, _ in seen}
        assert len(by_channel) == len(ROOMS)  # one member per channel
        await b.stop()  # b leaves: a takes everything back, nothing lost or repeated
        await wait_until(lambda: len(owned(a)) == len(ROOMS), what="a owns everything again")
        await publish(server.url, lines(range(5, 8)))
        await wait_until(lambda: len(seen) == 8 * len(ROOMS))
    finally:
        await b.stop()
        await a.stop()
    counts = Counter((channel, text) for _, channel, text in seen)
    assert set(counts.values()) == {1}
    for _, room in ROOMS:
        assert [t for _, c, t in seen if c == room] == [str(n) for n in range(8)]


async def check_health(url: str, bot: Bot, counts: dict[str, int]) -> None:
    """health() and the micro service (what ``kryten-actors health`` shows) name the members."""

    def reported() -> dict[str, int]:
        delivery = bot.health().delivery
        assert delivery is not None
        return {m.member: len(m.channels) for m in delivery.members}

    await wait_until(lambda: reported() == counts, what=f"members reported as {counts}")
    assert bot.health_service is not None
    reply = await ask_health(url, "kryten-actors", timeout=5.0, member=bot.health_service.id)
    delivery = reply["delivery"]
    assert delivery["member"] == "a"
    assert {m["member"]: m["channel_count"] for m in delivery["members"]} == counts
    assert delivery["consumers"] == counts["a"]
    assert delivery["lag"] >= 0
    service = bot.health_service.id
    async with NatsTransport(NatsConfig(servers=[url])) as client:
        reply = await client.request(f"$SRV.INFO.kryten-actors.{service}", b"", timeout=5.0)
    metadata = json.loads(reply.data)["metadata"]
    assert metadata["delivery"] == "jetstream"
    assert metadata["shard"] == "a"  # the micro service reports its shard member


def _lease(bot: Bot, key: str) -> str:
    assert bot.jetstream is not None
    return bot.jetstream.consumer_name(key)


@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6, unique=True))
def test_rendezvous_moves_only_the_channels_of_a_new_member(members: list[str]) -> None:
    channels = [f"c{i}" for i in range(200)]
    before = {c: rendezvous_owner(c, members) for c in channels}
    after = {c: rendezvous_owner(c, [*members, "newcomer\x01"]) for c in channels}
    for channel in channels:
        assert after[channel] in {before[channel], "newcomer\x01"}
    assert all(owner in members for owner in before.values())


async def test_join_and_leave_channel_reach_every_member(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(jetstream=True)
    seen: list[tuple[str, str, str]] = []
    a_cls = type("A", (Tally,), {"seen": seen, "member": "a"})
    b_cls = type("B", (Tally,), {"seen": seen, "member": "b"})
    async with (
        Bot(shard_config(server.url, "a"), actor=a_cls) as a,
        Bot(shard_config(server.url, "b"), actor=b_cls) as b,
    ):
        # both members known to both: a split by rendezvous (the sum of owned channels
        # alone can be reached while a still owns everything, before it has seen b)
        configured = {f"cytu.be/{room}" for _, room in ROOMS}
        share_b = {k for k in configured if rendezvous_owner(_lease(a, k), ["a", "b"]) == "b"}
        await wait_until(lambda: owned(b) == share_b, what="b owns its share")
        await wait_until(lambda: owned(a) == configured - share_b, what="a gave up b's share")
        rooms = [f"extra{i}" for i in range(6)]
        for room in rooms:
            await a.join_channel("cytu.be", room)  # joined on a, served by its owner
        # published at once, before b has even learnt of its channels: an owner consumes
        # from the join on, so nothing published after join_channel returned is lost
        await publish(server.url, [chat("seed", "x", channel=room) for room in rooms])
        keys = {f"cytu.be/{room}" for room in rooms}
        extra_b = {k for k in keys if rendezvous_owner(_lease(a, k), ["a", "b"]) == "b"}
        assert extra_b, "rendezvous gives b some of them (checked for these names)"
        await wait_until(
            lambda: keys & owned(b) == extra_b and keys & owned(a) == keys - extra_b,
            what="the joined channels served by their owners",
        )
        await wait_until(lambda: len(seen) == len(rooms), what="one event in each room")
        assert {channel for _, channel, _ in seen} == set(rooms)
        served_by = {channel: member for member, channel, _ in seen}
        assert {c for c, m in served_by.items() if m == "b"} == {k.split("/")[1] for k in extra_b}
        for room in rooms:
            await a.leave_channel("cytu.be", room)
        await wait_until(lambda: not keys & (owned(a) | owned(b)), what="left everywhere")
        with pytest.raises(KrytenValidationError, match="configured"):
            await b.leave_channel("cytu.be", "room0")


async def test_unknown_channels_are_spotted_by_every_member_and_served_by_one(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(jetstream=True)
    seen: list[tuple[str, str, str]] = []
    bots = []
    for member in ("a", "b"):
        config = shard_config(server.url, member).model_copy(
            update={"channels": [], "spawn_unknown_channels": True}
        )
        actor = type(member.upper(), (Tally,), {"seen": seen, "member": member})
        bots.append(Bot(config, actor=actor))
    async with bots[0] as a, bots[1] as b:
        await wait_until(lambda: a.jetstream is not None and len(a.jetstream.shards.members) == 2)
        await publish(
            server.url,
            [chat("seed", str(n), channel=f"new{c}") for n in range(4) for c in range(10)],
        )
        await wait_until(lambda: len(seen) == 40, what="every spotted channel served")
        assert not owned(a) & owned(b)
        assert len(owned(a) | owned(b)) == 10
    for c in range(10):
        handled = [(m, t) for m, ch, t in seen if ch == f"new{c}"]
        assert [t for _, t in handled] == ["0", "1", "2", "3"]  # from its first event, once
        assert len({m for m, _ in handled}) == 1


async def test_a_loop_stops_even_when_a_call_swallows_its_cancellation() -> None:
    """nats-py turns a cancelled wait into its own TimeoutError; the assignment loop, which
    catches errors to try again next round, must still end when stop() cancels it (under
    load this hung a bot's shutdown for the whole test timeout)."""
    entered = asyncio.Event()

    async def swallowing_round() -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise nats_errors.TimeoutError from None  # what nats-py does

    coordinator = ShardCoordinator.__new__(ShardCoordinator)
    coordinator.period = 0.01
    coordinator._wake = asyncio.Event()
    coordinator._assign = swallowing_round  # type: ignore[method-assign]
    task = asyncio.create_task(coordinator._assign_loop())
    await asyncio.wait_for(entered.wait(), 5)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert task in done
    assert task.cancelled()
