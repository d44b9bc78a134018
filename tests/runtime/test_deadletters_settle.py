"""Messages that settle themselves when dead-lettered (events of a durable source)."""

from __future__ import annotations

import logging

import pytest

from kryten_actors.runtime import DeadLetters


class Settling:
    """A message told its reason when it becomes a dead letter."""

    def __init__(self, *, fail: bool = False) -> None:
        self.reasons: list[str] = []
        self.fail = fail

    def on_dead_letter(self, reason: str) -> None:
        self.reasons.append(reason)
        if self.fail:
            raise RuntimeError("cannot settle")


def test_a_message_hears_its_reason_before_the_letter_is_kept() -> None:
    letters = DeadLetters()
    message = Settling()
    letters.record(message, recipient="/root/a", reason="handler_failed")
    assert message.reasons == ["handler_failed"]
    assert letters.counts == {"handler_failed": 1}


def test_a_message_that_fails_to_settle_is_still_recorded_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    letters = DeadLetters()
    with caplog.at_level(logging.ERROR, logger="kryten_actors.runtime.deadletters"):
        letters.record(Settling(fail=True), recipient="/root/a", reason="mailbox_full")
    assert letters.total == 1
    assert "settling dead-lettered 'Settling' failed" in caplog.text
