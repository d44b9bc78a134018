"""Default size and overflow policy of every actor's mailbox."""

from __future__ import annotations

from typing import Literal

from kryten_actors.config.base import ConfigModel, PositiveInt

__all__ = ["MailboxConfig", "OverflowPolicy"]

OverflowPolicy = Literal["drop_newest", "drop_oldest", "reject", "block"]


class MailboxConfig(ConfigModel):
    """A bounded mailbox of ``capacity`` messages.

    When full, ``overflow`` decides: ``drop_newest`` discards the incoming message,
    ``drop_oldest`` discards the oldest queued one (both become dead letters),
    ``reject`` raises :class:`~kryten_actors.errors.MailboxFull` to the sender, and
    ``block`` makes senders wait for room. ``max_bytes`` optionally bounds the event
    bytes one mailbox holds as well (an event that would pass it overflows the same
    way; ``drop_oldest`` then drops the incoming event); unset, only ``capacity``
    bounds it (up to ``capacity * max_event_bytes``).
    """

    capacity: PositiveInt = 1000
    overflow: OverflowPolicy = "drop_newest"
    max_bytes: PositiveInt | None = None
