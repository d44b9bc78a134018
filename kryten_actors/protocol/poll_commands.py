"""Commands for polls: open, vote, close."""

from __future__ import annotations

from typing import Final

from pydantic import Field

from kryten_actors.protocol.command import Command

__all__ = ["DEFAULT_POLL_TIMEOUT", "MAX_POLL_TIMEOUT", "ClosePoll", "NewPoll", "Vote"]

MAX_POLL_TIMEOUT: Final = 86_400
DEFAULT_POLL_TIMEOUT: Final = MAX_POLL_TIMEOUT
"""A poll left without a timeout stays open for CyTube's maximum, one day (or until the next
poll replaces it). The timeout is always sent: the bridge sends 0 otherwise, which CyTube
rejects *after* closing the current poll."""


class NewPoll(Command):
    """Open a poll ``title`` with ``options``; ``obscured`` hides counts until it closes.

    ``timeout`` (seconds) must lie in 1..86400 and defaults to 86400 (one day).
    """

    method = "new_poll"
    robot_command = "newPoll"
    min_rank = 1.5
    title: str = Field(min_length=1, max_length=255)
    options: list[str] = Field(min_length=1, max_length=50)
    obscured: bool = False
    timeout: int = Field(default=DEFAULT_POLL_TIMEOUT, ge=1, le=MAX_POLL_TIMEOUT)


class Vote(Command):
    """Vote for option number ``option`` (0-based) of the open poll."""

    method = "vote"
    robot_command = "vote"
    min_rank = 0
    option: int = Field(ge=0)


class ClosePoll(Command):
    """Close the open poll."""

    method = "close_poll"
    robot_command = "closePoll"
    min_rank = 1.5
