"""What a simulated command does: :class:`ActionOutcome`, and the :data:`Action` signature.

An action is a plain function ``(state, args, rng) -> ActionOutcome``: it changes the channel
state and says which events CyTube broadcasts and what ``data`` the bridge replies with.
A bad or missing argument raises :class:`~kryten_actors.errors.KrytenValidationError`; the
robot path turns its message into the bridge's error reply (``{"service","success":false,
"error"}``), the seed path drops the command.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kryten_actors.demo.effect import Effect
from kryten_actors.demo.scenario import ChannelState
from kryten_actors.errors import KrytenValidationError

__all__ = ["Action", "ActionOutcome", "pick", "require"]


def _accepted() -> dict[str, Any]:
    return {"success": True}


@dataclass(slots=True)
class ActionOutcome:
    """Events to publish and the reply ``data`` (default ``{"success": true}``).

    When ``envelope_key`` is set, the bridge publishes ``envelope_effect`` like any event and
    also puts that event's whole envelope into ``data[envelope_key]``, as kryten-robot does
    for ``requestBanlist``, ``requestChannelRanks``, ``readChanLog`` and ``searchLibrary``.
    """

    effects: list[Effect] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=_accepted)
    envelope_key: str | None = None
    envelope_effect: Effect | None = None

    @classmethod
    def answering_with(cls, key: str, effect: Effect) -> ActionOutcome:
        """An outcome whose reply data is ``{key: <envelope of effect>}`` and nothing else."""
        return cls(data={}, envelope_key=key, envelope_effect=effect)


Action = Callable[[ChannelState, Mapping[str, Any], random.Random], ActionOutcome]


def pick(args: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    """The value of the first of ``keys`` present (and not ``None``) in ``args``."""
    for key in keys:
        value = args.get(key)
        if value is not None:
            return value
    return default


def require(args: Mapping[str, Any], *keys: str, error: str) -> Any:
    """Like :func:`pick`, raising ``KrytenValidationError(error)`` when none is present."""
    value = pick(args, *keys)
    if value is None:
        raise KrytenValidationError(error, [(keys[0], "missing")])
    return value
