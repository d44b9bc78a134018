"""The bot's control endpoint: restart, stop, join and leave channels over NATS."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kryten_actors.config.base import ConfigModel

__all__ = ["ControlAction", "ControlConfig"]

ControlAction = Literal["restart", "stop", "join", "leave"]


class ControlConfig(ConfigModel):
    """Off unless ``enabled``: then the bot answers control requests on
    ``kryten.control.{service_name}`` (and ``kryten.control.{service_name}.{instance}``).

    ``actions`` lists what the endpoint may do (all four by default). Anyone who can
    publish on those subjects can use it: restrict them with NATS permissions.
    """

    enabled: bool = False
    actions: tuple[ControlAction, ...] = Field(
        default=("restart", "stop", "join", "leave"), min_length=1
    )
