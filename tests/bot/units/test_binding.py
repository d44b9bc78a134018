"""A channel binding makes its tracked state, join tracker, bridge link and outbox on first use.

An idle channel (most of them, at 100,000 passivated channels) must cost a binding and
its counters only; whatever only looks (health rows, lifecycle notices, shutdown)
must not make the parts it looks at.
"""

from __future__ import annotations

import pytest

from kryten_actors.bot import tap
from kryten_actors.bot.binding import ChannelBinding, LazyPart
from kryten_actors.bot.bridge import BridgeLink
from kryten_actors.bot.joining import JoinTracker
from kryten_actors.bot.outbox import ChannelOutbox
from kryten_actors.bot.tracked import ChannelState
from tests.bot.units.kit import binding, envelope

PARTS: tuple[LazyPart, ...] = ("state", "join", "link", "outbox")


def made(b: ChannelBinding) -> set[str]:
    return {name for name in PARTS if b.existing(name) is not None}


def test_a_new_binding_has_made_none_of_its_parts() -> None:
    b = binding()
    assert made(b) == set()
    assert (b.existing_state(), b.existing_join(), b.existing_link(), b.existing_outbox()) == (
        None,
        None,
        None,
        None,
    )


def test_reading_the_summary_properties_makes_nothing() -> None:
    b = binding()
    assert (b.rank, b.username, b.current_uid, b.current_media) == (None, None, None, None)
    assert b.bridge_state == "unknown"
    assert "unknown" in repr(b)
    assert made(b) == set()


def test_each_part_is_made_once_on_first_use_and_kept() -> None:
    b = binding()
    state = b.state
    assert isinstance(state, ChannelState)
    assert made(b) == {"state"}
    assert b.state is state
    assert b.existing_state() is state
    join = b.join
    assert isinstance(join, JoinTracker)
    assert b.join is join
    assert b.existing_join() is join
    assert isinstance(b.link, BridgeLink)
    assert b.existing_link() is b.link
    outbox = b.outbox
    assert isinstance(outbox, ChannelOutbox)
    assert b.existing_outbox() is outbox
    assert made(b) == set(PARTS)


def test_the_join_tracker_follows_the_bindings_own_state() -> None:
    b = binding()
    tap.observe(b, "rank", envelope("rank", 3))
    assert made(b) == set(PARTS)  # an event uses every part
    assert b.rank == 3.0
    assert b.state.rank == 3.0


def test_parts_made_through_the_link_report_their_state() -> None:
    b = binding()
    b.link.mark_down("no bridge answered")
    assert b.bridge_state == "down"


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    b = binding()
    with pytest.raises(AttributeError, match="no attribute 'stat'") as caught:
        b.stat  # type: ignore[attr-defined]  # noqa: B018 - the access is the test
    assert caught.value.name == "stat"
    assert not hasattr(b, "outboxes")
    assert made(b) == set()
