"""The router's short look at a routine channel (``ChannelBinding.routine``).

While nothing about a channel needs looking at, :func:`~kryten_actors.bot.tap.observe`
returns at once for an untracked event and never touches the channel's parts. The
flag must never be True when the full look would have done something: these tests
play random sessions through a binding with the short look and through one that
always takes the full look, and require the same verdicts and the same state.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kryten_actors.bot.binding import ChannelBinding
from kryten_actors.bot.bridge import BridgeState
from kryten_actors.bot.outcomes import Verdict
from kryten_actors.bot.tap import DELIVER, REPLAY, SKIP, observe
from kryten_actors.protocol.commands import SendChat
from kryten_actors.protocol.playlist_commands import AddMedia
from kryten_actors.runtime import VirtualClock
from tests.bot.units.kit import BOT, binding, envelope, later, line, user


class _Tripwire:
    """A channel part that must not be read."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the short look read .{name} of a channel part")


def _routine_binding() -> ChannelBinding:
    b = binding()
    assert observe(b, "chatmsg", envelope("chatMsg", line("alice", "hi"))) == DELIVER
    assert b.routine
    return b


def test_a_routine_channels_untracked_events_leave_its_parts_untouched() -> None:
    b = _routine_binding()
    parts = (b.link, b.join, b.outbox)
    b.link = b.join = b.outbox = _Tripwire()  # type: ignore[assignment]
    for name, payload in [
        ("chatMsg", line("alice", "again")),
        ("mediaUpdate", {"currentTime": 1.0, "paused": False}),
        ("errorMsg", {"msg": "x"}),
        ("pm", {"username": "alice", "msg": "psst", "meta": {}, "time": 0, "to": BOT}),
    ]:
        assert observe(b, name.lower(), envelope(name, payload)) == DELIVER
    b.link, b.join, b.outbox = parts


def test_a_channel_is_not_routine_until_its_bridge_is_known_up() -> None:
    b = binding()
    assert not b.routine
    # a tracked event takes the full look, and the bridge is up after it
    observe(b, "usercount", envelope("usercount", 1))
    assert b.link.state == BridgeState.UP
    assert b.routine


def test_the_bridge_going_down_ends_the_routine_and_the_next_event_brings_it_up() -> None:
    b = _routine_binding()
    b.link.mark_down("test")
    assert not b.routine
    observe(b, "chatmsg", envelope("chatMsg", line("alice", "back")))
    assert b.link.state == BridgeState.UP
    assert b.routine


def test_a_rejoin_ends_the_routine_so_its_history_is_recognised() -> None:
    b = _routine_binding()
    assert observe(b, "rank", envelope("rank", -1)) == DELIVER
    assert not b.routine
    assert observe(b, "chatmsg", envelope("chatMsg", line("old", "x"))) == SKIP
    observe(b, "usercount", envelope("usercount", 1))  # join data: history is over
    assert observe(b, "chatmsg", envelope("chatMsg", line("new", "y"))) == DELIVER
    assert b.routine


async def test_a_command_awaiting_cytubes_answer_ends_the_routine_until_it_is_answered() -> None:
    b = _routine_binding()
    observe(b, "login", envelope("login", {"success": True, "name": BOT}))
    expectation = b.outbox._expect(SendChat(message="pong"))
    assert expectation is not None
    assert not b.routine
    observe(b, "chatmsg", envelope("chatMsg", line("alice", "unrelated")))
    assert not expectation.future.done()
    observe(b, "chatmsg", envelope("chatMsg", line(BOT, "pong")))
    assert expectation.future.result().verdict == Verdict.CONFIRMED
    assert b.routine  # nothing awaits an answer any more


def test_the_start_up_check_keeps_a_channel_out_of_the_routine_until_it_ends() -> None:
    clock = VirtualClock()
    b = binding(clock=clock, bridge={"probe_on_start": True, "announce": False})
    old = line("old", "x", written=later(-60))
    assert observe(b, "chatmsg", envelope("chatMsg", old)) == SKIP
    assert not b.routine
    assert observe(b, "chatmsg", envelope("chatMsg", line("alice", "fresh"))) == DELIVER
    assert b.routine


# --- equivalence: short look against the full look, on random sessions -------------------


@dataclass(frozen=True)
class _Op:
    kind: str  # "event", "down", "expect", "discard", "time"
    name: str = ""
    payload: Any = None


_EVENTS: list[tuple[str, Any]] = [
    ("chatMsg", line("alice", "hi")),
    ("chatMsg", line(BOT, "pong")),
    ("chatMsg", line("old", "history", written=later(-60))),
    ("mediaUpdate", {"currentTime": 1.0, "paused": False}),
    ("usercount", 3),
    ("rank", -1),
    ("rank", 1),
    ("rank", 3),
    ("login", {"success": True, "name": BOT}),
    ("userlist", [user(BOT, 3), user("alice")]),
    ("setMotd", ""),
    ("queue", {"item": {"media": {"id": "abc", "type": "yt", "title": "x", "seconds": 60},
                        "uid": 7, "temp": True, "queueby": BOT}, "after": 0}),
    ("queueFail", {"msg": "nope", "link": "https://youtu.be/abc", "id": "abc"}),
    ("errorMsg", {"msg": "x"}),
    ("addUser", user("carol")),
]  # fmt: skip
_OPS = st.lists(
    st.one_of(
        st.sampled_from(_EVENTS).map(lambda e: _Op("event", e[0], e[1])),
        st.just(_Op("down")),
        st.sampled_from([_Op("expect", "chat"), _Op("expect", "queue")]),
        st.just(_Op("discard")),
        st.floats(0.5, 20.0).map(lambda s: _Op("time", payload=s)),
    ),
    max_size=40,
)


def _seen(b: ChannelBinding) -> tuple[Any, ...]:
    """Everything the full look could have changed."""
    join, state, counters = b.join, b.state, b.counters
    return (
        b.link.state,
        join.in_replay_window,
        join.start_until,
        join.rejoining,
        join.logged_in,
        join.settled_rank,
        state.username,
        state.rank,
        sorted(state.userlist),
        len(state.playlist),
        len(b.outbox.outcomes.pending),
        [e.future.done() for e in b.outbox.outcomes.pending],
        counters.replayed_skipped,
        counters.replayed_delivered,
    )


async def _play(ops: list[_Op], probe: bool) -> None:
    clocks = VirtualClock(), VirtualClock()
    bridge = {"probe_on_start": probe, "announce": False}
    short, full = (binding(clock=c, bridge=bridge) for c in clocks)
    for op in ops:
        for b, clock in zip((short, full), clocks, strict=True):
            if op.kind == "down":
                b.link.mark_down("test")
            elif op.kind == "expect":
                command = (
                    SendChat(message="pong")
                    if op.name == "chat"
                    else AddMedia(media_type="yt", media_id="abc")
                )
                b.outbox._expect(command)
            elif op.kind == "discard" and b.outbox.outcomes.pending:
                b.outbox.outcomes.discard(b.outbox.outcomes.pending[0])
            elif op.kind == "time":
                clock.advance(op.payload)
        if op.kind == "event":
            full.routine = False  # the reference always takes the full look
            data = envelope(op.name, op.payload)
            verdicts = [observe(b, op.name.lower(), data) for b in (short, full)]
            assert verdicts[0] == verdicts[1], op
            assert verdicts[0] in (DELIVER, REPLAY, SKIP)
        assert _seen(short) == _seen(full), op
        if short.routine:
            assert short.link.state == BridgeState.UP
            assert not short.join.in_replay_window
            assert short.join.start_until is None
            assert not short.outbox.outcomes.pending
    for b in (short, full):
        for expectation in list(b.outbox.outcomes.pending):
            b.outbox.outcomes.discard(expectation)
            expectation.future.cancel()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS, probe=st.booleans())
def test_the_short_look_decides_and_changes_exactly_what_the_full_look_does(
    ops: list[_Op], probe: bool
) -> None:
    asyncio.run(_play(ops, probe))
