"""A channel binding makes its tracked state, join tracker, bridge link and outbox on first use.

An idle channel (most of them, at 100,000 passivated channels) must cost a binding and
its counters only; whatever only looks (health rows, lifecycle notices, shutdown)
must not make the parts it looks at.
"""

from __future__ import annotations

import pytest

from kryten_actors.bot import tap
from kryten_actors.bot.binding import ChannelBinding
from kryten_actors.bot.bridge import BridgeLink
from kryten_actors.bot.joining import JoinTracker
from kryten_actors.bot.outbox import ChannelOutbox
from kryten_actors.bot.tracked import ChannelState
from tests.bot.units.kit import binding, envelope

PARTS = ("state", "join", "link", "outbox")


def made(b: ChannelBinding) -> set[str]:
    parts = zip(
        PARTS,
        (b.existing_state(), b.existing_join(), b.existing_link(), b.existing_outbox()),
        strict=True,
    )
    return {name for name, part in parts if part is not None}


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


def test_the_first_use_of_a_part_makes_them_all_once_and_keeps_them() -> None:
    b = binding()
    assert type(b) is not ChannelBinding  # dormant: the class that makes the parts
    state = b.state
    assert isinstance(state, ChannelState)
    assert made(b) == set(PARTS)
    assert type(b) is ChannelBinding  # awake: a plain class, attribute reads specialized
    assert b.state is state
    assert b.existing_state() is state
    join, link, outbox = b.join, b.link, b.outbox
    assert isinstance(join, JoinTracker)
    assert isinstance(link, BridgeLink)
    assert isinstance(outbox, ChannelOutbox)
    assert (b.existing_join(), b.existing_link(), b.existing_outbox()) == (join, link, outbox)
    b.state  # noqa: B018 - a second read makes nothing new
    assert (b.state, b.join, b.link, b.outbox) == (state, join, link, outbox)


def test_a_subclass_keeps_its_class_and_has_its_parts_from_the_start() -> None:
    class Special(ChannelBinding):
        __slots__ = ()

    plain = binding()
    b = Special(
        domain=plain.domain,
        channel=plain.channel,
        key=plain.key,
        sender=plain.sender,
        instrumentation=plain.instrumentation,
        clock=plain.clock,
        config=plain._config,
        scheme=plain.scheme,
    )
    assert type(b) is Special
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
