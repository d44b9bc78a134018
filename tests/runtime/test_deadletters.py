"""Dead letters: bounded recent buffer, all-time counters, observers that cannot break it."""

from __future__ import annotations

import logging

import pytest

from kryten_actors.errors import KrytenValidationError
from kryten_actors.runtime.deadletters import DeadLetter, DeadLetterReason, DeadLetters


def test_ring_buffer_keeps_recent_and_counts_everything() -> None:
    letters = DeadLetters(capacity=3)
    error = RuntimeError("x")
    for index in range(5):
        letters.record(index, recipient="/root/a", reason=DeadLetterReason.MAILBOX_FULL)
    letters.record("bad", recipient="/root/b", reason="handler_failed", error=error)
    letters.record("odd", recipient="/root/b", reason="custom_reason")
    assert [letter.message for letter in letters.recent] == [4, "bad", "odd"]
    assert letters.counts == {"mailbox_full": 5, "handler_failed": 1, "custom_reason": 1}
    assert letters.total == 7
    last = letters.recent[1]
    assert (last.recipient, last.reason, last.error) == ("/root/b", "handler_failed", error)
    assert last.timestamp > 1_600_000_000  # wall clock
    letters.clear()
    assert (letters.recent, letters.counts, letters.total) == ([], {}, 0)


def test_observers_see_letters_until_unsubscribed() -> None:
    letters = DeadLetters()
    seen: list[DeadLetter] = []
    unsubscribe = letters.subscribe(seen.append)
    letters.record("a", recipient="/r", reason="unroutable")
    unsubscribe()
    unsubscribe()
    letters.record("b", recipient="/r", reason="unroutable")
    assert [letter.message for letter in seen] == ["a"]


def test_a_raising_observer_is_logged_and_never_breaks_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    letters = DeadLetters()
    seen: list[str] = []

    def broken(letter: DeadLetter) -> None:
        raise RuntimeError("observer bug")

    letters.subscribe(broken)
    letters.subscribe(lambda letter: seen.append(letter.message))
    with caplog.at_level(logging.ERROR):
        letters.record("a", recipient="/r", reason="oversized")
    assert seen == ["a"]
    assert letters.total == 1
    assert "observer" in caplog.text


def test_capacity_must_be_positive() -> None:
    with pytest.raises(KrytenValidationError):
        DeadLetters(capacity=0)


class Body:
    """A message that previews itself, like the bot's event deliveries."""

    def __init__(self, size: int) -> None:
        self.data = b"x" * size

    def preview(self, limit: int) -> tuple[bytes, int]:
        return self.data[:limit], len(self.data)


def test_letters_keep_bounded_previews_within_a_byte_budget() -> None:
    letters = DeadLetters(capacity=100, byte_budget=10_000, preview_bytes=1_000)
    for _ in range(50):
        letters.record(Body(1_000_000), recipient="a", reason="decode_failed")
        letters.record(b"y" * 5_000, recipient="a", reason="unroutable")
    kept = letters.recent
    assert letters.total == 100
    assert letters.bytes_total == 50 * 1_000_000 + 50 * 5_000
    assert letters.bytes_held <= 10_000
    assert len(kept) == 10  # 1,000 bytes each: the budget, not the capacity, bounds them
    assert all(len(letter.message) == 1_000 for letter in kept)
    assert {letter.size for letter in kept} == {1_000_000, 5_000}
    assert letters.counts == {"decode_failed": 50, "unroutable": 50}


def test_small_messages_are_kept_as_they_are() -> None:
    letters = DeadLetters(preview_bytes=16)
    letters.record("short", recipient="a", reason="r")
    letters.record(42, recipient="a", reason="r")
    assert [(d.message, d.size) for d in letters.recent] == [("short", 5), (42, 0)]


def test_an_error_is_kept_without_what_pins_bodies() -> None:
    letters = DeadLetters()
    body = b"z" * 1000
    try:
        try:
            raise ValueError(body)
        except ValueError:
            raise KeyError("outer") from None
    except KeyError as error:
        caught = error
    letters.record("m", recipient="a", reason="r", error=caught)
    [letter] = letters.recent
    assert letter.error is caught
    assert caught.__traceback__ is None
    assert caught.__context__ is None  # hidden (``from None``): dropped with its input
