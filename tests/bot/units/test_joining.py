"""The join sequence at routing time: replayed history is never new, the rank settles."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kryten_actors.bot.joining import AFTER_HISTORY
from kryten_actors.bot.tap import DELIVER, REPLAY, SKIP, observe
from kryten_actors.runtime import VirtualClock
from tests.bot.units.kit import BOT, binding, envelope, later, line, user
from tests.fixture_data import load_jsonl

# the join data CyTube sends after the chat buffer, as the bridge publishes it
_JOIN_DATA: dict[str, Any] = {
    "drinkCount": 0,
    "channelCSSJS": {"css": "", "cssHash": "", "js": "", "jsHash": ""},
    "setMotd": "",
    "channelOpts": {"chat_antiflood": False},
    "setPlaylistMeta": {"count": 0, "rawTime": 0, "time": "00:00"},
    "playlist": [],
    "userlist": [],
    "usercount": 1,
}
_NOISE: list[tuple[str, Any]] = [
    ("mediaUpdate", {"currentTime": 1.0, "paused": False}),
    ("usercount", 3),
    ("addUser", user("carol")),
    ("setAFK", {"name": "carol", "afk": True}),
]


@dataclass(frozen=True)
class Step:
    name: str
    payload: Any
    kind: str = "other"  # "history", "live" or "other"


def _join(history: list[str], data: list[str], login_first: bool, rank: int) -> list[Step]:
    """One (re)join as CyTube 3.86 sends it (module order of ``onUserPostJoin``)."""
    steps = [Step("rank", -1), Step("setPermissions", {"chat": 0})]
    steps += [Step("chatMsg", line("old", text), "history") for text in history]
    login = [Step("rank", 1), Step("login", {"success": True, "name": BOT})]
    if login_first:  # CyTube does not order login against the join data
        steps += login
    steps += [Step(name, _JOIN_DATA[name]) for name in data]
    if not login_first:
        steps += login
    steps += [Step("rank", rank), Step("userlist", [user(BOT, rank), user("alice")])]
    return steps


_WORDS = st.text("!pingabc ", min_size=1, max_size=8).filter(str.strip)
_JOINS = st.tuples(
    st.lists(_WORDS, max_size=15),  # history
    st.lists(st.sampled_from(sorted(_JOIN_DATA)), min_size=1, max_size=4, unique=True),
    st.booleans(),
    st.sampled_from([1, 2, 3, 5]),
)
_LIVE = st.lists(
    st.one_of(
        st.tuples(st.just("live"), _WORDS, st.booleans()),
        st.tuples(st.just("noise"), st.integers(0, len(_NOISE) - 1), st.booleans()),
    ),
    max_size=6,
)


@st.composite
def sessions(draw: st.DrawFn) -> list[Step]:
    """Live chat (the bot's own lines too), noise and any number of rejoins, in any order."""
    steps: list[Step] = []
    for _ in range(draw(st.integers(1, 4))):
        history, data, login_first, rank = draw(_JOINS)
        steps += _join(history, data, login_first, rank)
        for kind, value, own in draw(_LIVE):
            if kind == "live":
                steps.append(Step("chatMsg", line(BOT if own else "alice", str(value)), "live"))
            else:
                name, payload = _NOISE[int(value)]
                steps.append(Step(name, payload))
    return steps


def _feed(steps: list[Step], **config: Any) -> list[tuple[Step, int]]:
    b = binding(**config)
    seen = [
        (step, observe(b, step.name.lower(), envelope(step.name, step.payload))) for step in steps
    ]
    assert b.join.settled
    assert b.state.username == BOT
    return seen


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_a_replayed_line_is_never_delivered_and_a_live_line_always_is(steps: list[Step]) -> None:
    for step, verdict in _feed(steps):
        if step.kind == "history":
            assert verdict == SKIP, step
        else:
            assert verdict == DELIVER, step


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_replay_deliver_marks_history_and_only_history(steps: list[Step]) -> None:
    for step, verdict in _feed(steps, replay="deliver"):
        assert verdict == (REPLAY if step.kind == "history" else DELIVER), step


def test_the_captured_real_join_skips_exactly_its_history_and_settles_on_rank_5() -> None:
    rows = load_jsonl("events.jsonl")
    b = binding(domain="localhost", channel="e2etest")
    verdicts = []
    for row in rows[:40]:
        body = row["body"]
        data = json.dumps(body).encode()
        verdicts.append((body["event_name"], observe(b, body["event_name"].lower(), data)))
    skipped = [name for name, verdict in verdicts if verdict == SKIP]
    assert skipped == ["chatMsg"] * 4  # the four lines of the chat buffer, nothing else
    assert b.counters.replayed_skipped == 4
    assert (b.state.username, b.state.rank, b.join.settled) == ("KrytenBot", 5, True)
    assert "Alice" in b.state.userlist


def test_the_rank_settles_when_it_returns_to_the_known_rank() -> None:
    b = binding()
    for name, payload in [("rank", 3), ("rank", -1), ("rank", 1)]:
        observe(b, name, envelope(name, payload))
    assert not b.join.settled  # a rank before login is the account's site rank
    observe(b, "login", envelope("login", {"success": True, "name": BOT}))
    observe(b, "rank", envelope("rank", 3))
    assert b.join.settled
    assert b.state.rank == 3


def test_the_rank_settles_after_settle_delay_without_another_rank() -> None:
    clock = VirtualClock()
    b = binding(clock=clock, bridge={"settle_delay": 0.5, "probe_on_start": False})
    for name, payload in [("rank", -1), ("login", {"success": True, "name": BOT}), ("rank", 2)]:
        observe(b, name, envelope(name, payload))
    assert not b.join.settled
    clock.advance(0.4)
    observe(b, "rank", envelope("rank", 2))  # another rank: the timer starts again
    clock.advance(0.4)
    assert not b.join.settled
    clock.advance(0.2)
    assert b.join.settled
    assert b.state.rank == 2


def test_a_guest_login_settles_the_rank_at_once() -> None:
    """CyTube 3.86 sends a guest ``rank -1, rank 0, login {guest: true}`` and no rank after
    it (research: the Watcher join); without settling there, its commands waited out
    ``bridge.wait_timeout`` and were refused."""
    b = binding(bridge={"settle_delay": 60.0, "probe_on_start": False})
    for name, payload in [("rank", -1), ("rank", 0)]:
        observe(b, name, envelope(name, payload))
    assert not b.join.settled
    observe(b, "login", envelope("login", {"success": True, "name": "Watcher", "guest": True}))
    assert b.join.settled
    assert b.state.rank == 0
    for name in ("setPermissions", "userlist"):  # the join data after it changes nothing
        observe(b, name.lower(), envelope(name, _JOIN_DATA.get(name, {"chat": 0})))
    assert b.join.settled


def test_a_failed_login_settles_nothing() -> None:
    b = binding(bridge={"settle_delay": 60.0, "probe_on_start": False})
    observe(b, "rank", envelope("rank", -1))
    observe(b, "login", envelope("login", {"success": False, "error": "bad password"}))
    assert not b.join.settled


def test_setuserrank_of_the_bot_settles_the_rank() -> None:
    b = binding()
    for name, payload in [("rank", -1), ("login", {"success": True, "name": BOT}), ("rank", 1)]:
        observe(b, name, envelope(name, payload))
    observe(b, "setuserrank", envelope("setUserRank", {"name": "alice", "rank": 2}))
    assert not b.join.settled
    observe(b, "setuserrank", envelope("setUserRank", {"name": "kRYTENbOT", "rank": 4}))
    assert b.join.settled
    assert b.state.rank == 4


def test_a_lifecycle_restart_unsettles_until_the_rejoin() -> None:
    b = binding()
    b.join.seed(username=BOT, rank=5)
    assert b.join.settled
    b.join.bridge_restarting()
    assert not b.join.settled
    for name, payload in [("rank", -1), ("login", {"success": True, "name": BOT}), ("rank", 5)]:
        observe(b, name, envelope(name, payload))
    assert b.join.settled


async def test_wait_settled_returns_when_the_rank_settles_and_times_out_otherwise() -> None:
    b = binding()
    b.join.bridge_restarting()
    assert await b.join.wait_settled(0.01) is False
    observe(b, "login", envelope("login", {"success": True, "name": BOT}))
    observe(b, "userlist", envelope("userlist", [user(BOT, 3)]))
    assert await b.join.wait_settled(0.01) is True


def test_every_join_data_event_closes_the_window() -> None:
    for name in sorted(AFTER_HISTORY):
        b = binding()
        observe(b, "rank", envelope("rank", -1))
        assert observe(b, "chatmsg", envelope("chatMsg", line("old", "x"))) == SKIP
        b.join.closes_history(name)
        assert observe(b, "chatmsg", envelope("chatMsg", line("new", "y"))) == DELIVER, name


def test_in_the_first_seconds_an_old_line_is_history_by_its_age() -> None:
    clock = VirtualClock()
    b = binding(clock=clock, bridge={"probe_on_start": True, "announce": False})
    old = line("alice", "!ping", written=later(-60))
    fresh = line("alice", "!ping", written=later(-1))
    assert observe(b, "chatmsg", envelope("chatMsg", old)) == SKIP
    assert observe(b, "chatmsg", envelope("chatMsg", fresh)) == DELIVER
    assert observe(b, "chatmsg", envelope("chatMsg", {**old, "time": 0})) == DELIVER
    clock.advance(11)  # after START_SECONDS only the join sequence decides
    assert observe(b, "chatmsg", envelope("chatMsg", old)) == DELIVER


def test_the_first_seconds_count_from_the_channels_start_not_its_first_event() -> None:
    """The join tracker is made at the channel's first event; a channel silent for longer
    than START_SECONDS gets no age check then (a lagging live line is not history)."""
    clock = VirtualClock()
    b = binding(clock=clock, bridge={"probe_on_start": True, "announce": False})
    assert b.existing_join() is None
    clock.advance(11)
    lagging = line("alice", "!ping", written=later(-60))
    assert observe(b, "chatmsg", envelope("chatMsg", lagging)) == DELIVER
    assert b.join.start_until is None or b.join.start_until <= clock.now()


def test_the_age_check_ends_at_a_channels_first_fresh_line() -> None:
    """CyTube replays its buffer oldest first, before any live line: after the first fresh
    line the join sequence alone decides, and chat is no longer decoded at routing."""
    clock = VirtualClock()
    b = binding(clock=clock, bridge={"probe_on_start": True, "announce": False})
    history = [line("alice", f"h{n}", written=later(-60 + n)) for n in range(5)]
    assert [observe(b, "chatmsg", envelope("chatMsg", h)) for h in history] == [SKIP] * 5
    assert b.join.start_until is not None
    assert observe(b, "chatmsg", envelope("chatMsg", line("bob", "hi", written=later(-1)))) == (
        DELIVER
    )
    assert b.join.start_until is None
    late = line("carol", "lagging", written=later(-30))  # live, only delivered late
    assert observe(b, "chatmsg", envelope("chatMsg", late)) == DELIVER
    # a rejoin is still recognised by its sequence
    observe(b, "rank", envelope("rank", -1))
    assert observe(b, "chatmsg", envelope("chatMsg", history[0])) == SKIP


def test_the_start_probe_seeds_name_and_rank_unless_events_said_more() -> None:
    b = binding()
    b.join.seed(username=BOT, rank=5)
    assert (b.state.username, b.state.rank, b.join.logged_in) == (BOT, 5, True)
    rejoining = binding()
    observe(rejoining, "rank", envelope("rank", -1))
    rejoining.join.seed(username=BOT, rank=5)  # a stale stored rank during a rejoin
    assert rejoining.state.rank == -1
    assert not rejoining.join.settled
    told = binding()
    observe(told, "login", envelope("login", {"success": True, "name": "Other"}))
    told.join.seed(username=BOT, rank=None)
    assert told.state.username == "Other"
