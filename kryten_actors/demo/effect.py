"""One CyTube event the simulated server emits: :class:`Effect`."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["Effect"]


class Effect(NamedTuple):
    """An event CyTube would send: its Socket.IO name (case kept) and its first argument.

    The simulated bridge wraps each effect in the bridge's envelope and publishes it.
    """

    event_name: str
    payload: Any = None
