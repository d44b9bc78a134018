"""Health v2: degraded channels, the bounded summary, filtered pages under a byte budget."""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on
from kryten_actors.bot.health import seed_state
from kryten_actors.bot.health_query import answer_health, summary_data
from kryten_actors.bot.latency import LatencyWindow
from kryten_actors.errors import KrytenError, KrytenValidationError
from tests.bot.conftest import BotFactory, Bus
from tests.bot.support import chat, envelope
from tests.polling import wait_until

BUDGET = 1024 * 1024


class Crashing(ChannelActor):
    """Raises on every chat line of the channel named ``crash``; handles the rest."""

    handled: ClassVar[int] = 0

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        if self.channel.startswith("crash"):
            raise RuntimeError(f"boom in {self.channel}")


def ask(bot: Bot, query: dict[str, Any] | None = None, budget: int = BUDGET) -> dict[str, Any]:
    data = answer_health(bot.health_reporter, json.dumps(query or {}).encode(), budget)
    assert len(data) <= budget
    reply: dict[str, Any] = json.loads(data)
    return reply


def refresh(bot: Bot) -> None:
    bot.health_reporter.invalidate()


@given(st.lists(st.floats(min_value=1e-6, max_value=60.0), min_size=1, max_size=300))
def test_latency_quantile_is_within_a_factor_of_two_above(values: list[float]) -> None:
    window = LatencyWindow(window=60.0)
    for value in values:
        window.record(value, now=1.0)
    exact = sorted(values)[math.ceil(0.99 * len(values)) - 1]
    estimate = window.quantile(0.99, now=1.0)
    assert estimate is not None
    assert exact <= estimate <= 2 * exact
    assert window.count(now=1.0) == len(values)


def test_latency_extremes_fall_into_the_first_and_last_buckets() -> None:
    window = LatencyWindow(window=60.0)
    for value in (0.0, -1.0, 1e-9):  # clock jitter can make a latency 0 or negative
        window.record(value, now=1.0)
    assert window.quantile(1.0, now=1.0) == 2.0**-20  # the first bucket: under ~1 µs
    window.record(1e9, now=1.0)  # far beyond the last bucket: kept in it
    assert window.quantile(1.0, now=1.0) == 2.0**7
    assert window.count(now=1.0) == 4


def test_latency_window_forgets_what_is_older_than_two_windows() -> None:
    window = LatencyWindow(window=10.0)
    assert window.quantile(0.99) is None
    window.record(0.5, now=0.0)
    assert window.quantile(0.99, now=5.0) == 0.5 * 2  # 0.5 s lies in [0.5, 1)
    window.record(0.001, now=12.0)  # rotates: the 0.5 s is now the previous window
    assert window.count(now=12.0) == 2
    assert window.count(now=25.0) == 1  # a window later, only the newer one is left
    assert window.quantile(0.99, now=35.0) is None


@pytest.mark.parametrize(
    ("lifecycle", "connected", "router_failed", "expected"),
    [
        ("created", False, False, "disconnected"),
        ("starting", False, False, "connecting"),
        ("running", True, False, "connected"),
        ("running", False, False, "disconnected"),
        ("running", True, True, "error"),
        ("stopping", True, False, "disconnected"),
        ("stopped", False, False, "disconnected"),
    ],
)
def test_state_speaks_the_seeds_vocabulary(
    lifecycle: str, connected: bool, router_failed: bool, expected: str
) -> None:
    assert seed_state(lifecycle, connected=connected, router_failed=router_failed) == expected


async def test_a_failed_actor_and_a_down_bridge_make_the_bot_degraded(
    bus: Bus, make_bot: BotFactory
) -> None:
    channels = [("cytu.be", name) for name in ("lounge", "movies", "crash", "quiet")]
    bot = await make_bot(
        "seed", channels, Crashing, supervision={"max_restarts": 2, "min_backoff": 0.01}
    )
    assert bot.health_summary().healthy
    for i in range(3):
        await bus.publish(chat("seed", f"line {i}", channel="crash"))
        await bus.publish(chat("seed", f"line {i}", channel="lounge"))
    await wait_until(
        lambda: bot.health().actors["cytu.be/crash"].state == "failed", what="crash gives up"
    )
    binding = bot.channels.binding("cytu.be", "movies")
    assert binding is not None
    binding.link.mark_down("a test says so")  # as the lifecycle listener does
    refresh(bot)

    summary = bot.health_summary()
    assert not summary.healthy
    assert summary.tracing is None  # tracing off
    assert summary.state == "connected"
    assert summary.lifecycle == "running"
    assert summary.channel_count == 4
    assert summary.states == {"running": 3, "failed": 1}
    # a channel whose events arrive has its bridge up; "quiet" has heard nothing yet
    assert summary.bridge == {"up": 2, "down": 1, "unknown": 1}
    assert summary.degraded_count == 2
    reasons = {d.key: d.reason for d in summary.degraded}
    assert reasons["cytu.be/movies"] == "bridge down"
    assert reasons["cytu.be/crash"] == (
        "actor failed after 2 restarts: RuntimeError: boom in crash"
    )
    assert summary.restarts == 2
    assert [row.key for row in summary.worst] == ["cytu.be/crash", "cytu.be/movies"]
    assert summary.worst[0].last_error == "RuntimeError: boom in crash"

    full = bot.health()
    assert full.degraded == reasons
    assert not full.healthy
    infos = {c.channel: c for c in full.channels}
    assert infos["movies"].bridge_state == "down"
    assert infos["crash"].degraded == reasons["cytu.be/crash"]
    assert not infos["crash"].subscribed
    assert full.actors["cytu.be/lounge"].latency_p99 is not None

    binding.link.mark_up()
    await bot.join_channel("cytu.be", "crash", actor=Crashing)
    refresh(bot)
    healed = bot.health_summary()
    assert healed.degraded_count == 0
    assert healed.bridge == {"up": 3, "unknown": 1}
    assert healed.healthy
    assert healed.worst == []  # the revived actor starts with a clean record
    assert healed.restarts == 2  # the bot's total does not forget


async def test_pages_cover_every_channel_once_in_order(bus: Bus, make_bot: BotFactory) -> None:
    names = [f"ch{i:03d}" for i in range(120)]
    bot = await make_bot("seed", [("cytu.be", n) for n in names], Crashing)
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = ask(bot, {"view": "channels", "offset": offset, "limit": 50, "worst": 0})
        assert page["total"] == 120
        assert page["returned"] == len(page["items"]) <= 50
        seen += [item["channel"] for item in page["items"]]
        offset = page["next_offset"]
    assert seen == names
    assert page["summary"]["channel_count"] == 120

    only = ask(bot, {"view": "channels", "channel": "ch007"})
    assert [item["key"] for item in only["items"]] == ["cytu.be/ch007"]
    assert ask(bot, {"view": "channels", "channel": "cytu.be/ch008"})["total"] == 1
    assert ask(bot, {"view": "channels", "match": "CH01"})["total"] == 10
    assert ask(bot, {"view": "channels", "state": "failed"})["total"] == 0
    assert ask(bot, {"view": "channels", "degraded": True})["items"] == []


async def test_a_page_stops_at_the_byte_budget_and_says_where_to_go_on(
    bus: Bus, make_bot: BotFactory
) -> None:
    bot = await make_bot("seed", [("cytu.be", f"ch{i:03d}") for i in range(200)], Crashing)
    budget = 16 * 1024
    seen: list[str] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        page = ask(bot, {"view": "channels", "offset": offset, "limit": 10_000}, budget)
        assert 0 < page["returned"] < 200
        seen += [item["key"] for item in page["items"]]
        offset = page["next_offset"]
        pages += 1
    assert pages > 1
    assert seen == [f"cytu.be/ch{i:03d}" for i in range(200)]
    with pytest.raises(KrytenError, match="max_payload"):
        ask(bot, {}, budget=200)


async def test_sorting_by_a_counter_puts_the_busiest_first(bus: Bus, make_bot: BotFactory) -> None:
    bot = await make_bot("seed", [("cytu.be", n) for n in ("a", "b", "c")], Crashing)
    for channel, count in (("a", 1), ("b", 3), ("c", 2)):
        for i in range(count):
            await bus.publish(chat("seed", str(i), channel=channel))
    await wait_until(
        lambda: sum(a.processed for a in bot.health().actors.values()) == 6, what="six events"
    )
    refresh(bot)
    busiest = ask(bot, {"view": "channels", "sort": "processed"})
    assert [item["channel"] for item in busiest["items"]] == ["b", "c", "a"]
    assert [item["processed"] for item in busiest["items"]] == [3, 2, 1]
    quietest = ask(bot, {"view": "channels", "sort": "processed", "descending": False})
    assert [item["channel"] for item in quietest["items"]] == ["a", "c", "b"]
    by_events = ask(bot, {"view": "channels", "sort": "events"})
    assert by_events["items"][0]["events_received"] == 3
    assert ask(bot, {"view": "channels", "sort": "latency"})["total"] == 3


async def test_dead_letters_come_newest_first_with_a_preview(
    bus: Bus, make_bot: BotFactory
) -> None:
    bot = await make_bot("seed", [("cytu.be", "lounge")], Crashing)
    subject, _ = chat("seed", "x")
    await bus.publisher.publish(subject, b"{not json" + b"x" * 2000)
    await bus.publish(envelope("seed", "chatMsg", {"msg": 5}, channel="lounge"))
    await wait_until(lambda: bot.system.dead_letters.total == 2, what="two dead letters")
    letters = ask(bot, {"view": "dead_letters"})
    assert letters["total"] == 2
    newest, oldest = letters["items"]
    assert oldest["reason"] == newest["reason"] == "decode_failed"
    assert oldest["channel"] == "cytu.be/lounge"
    assert oldest["size"] == 2009
    assert oldest["preview"].startswith("{not json")
    assert len(oldest["preview"]) == 512
    assert oldest["subject"] == subject
    assert oldest["error"]
    assert newest["time"] >= oldest["time"]
    assert ask(bot, {"view": "dead_letters", "channel": "movies"})["total"] == 0
    assert ask(bot, {"view": "dead_letters", "channel": "lounge"})["total"] == 2


async def test_the_summary_trims_its_lists_to_fit(bus: Bus, make_bot: BotFactory) -> None:
    names = [f"crash{i:02d}" for i in range(30)]
    bot = await make_bot(
        "seed", [("cytu.be", n) for n in names], Crashing, supervision={"max_restarts": 0}
    )
    for name in names:
        await bus.publish(chat("seed", "x", channel=name))
    await wait_until(lambda: len(bot.health().degraded) == 30, what="thirty failed channels")
    refresh(bot)
    roomy = summary_data(bot.health_reporter, BUDGET, worst=20)
    assert (roomy["degraded_count"], len(roomy["degraded"]), len(roomy["worst"])) == (30, 20, 20)
    tight = summary_data(bot.health_reporter, 4096, worst=20)
    assert len(json.dumps(tight, separators=(",", ":"))) <= 4096
    assert tight["degraded_count"] == 30
    assert len(tight["worst"]) < 20


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{", "health request"),
        (b'{"view": "everything"}', "view"),
        (b'{"limit": 0}', "limit"),
        (b'{"sort": "colour"}', "sort"),
        (b'{"surprise": 1}', "surprise"),
    ],
)
async def test_a_bad_request_says_what_is_wrong(
    bus: Bus, make_bot: BotFactory, body: bytes, field: str
) -> None:
    bot = await make_bot("seed", [("cytu.be", "lounge")], Crashing)
    with pytest.raises(KrytenValidationError, match=field):
        answer_health(bot.health_reporter, body, BUDGET)
