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
