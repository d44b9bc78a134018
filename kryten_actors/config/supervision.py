"""How supervisors restart failed actors."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from kryten_actors.config.base import ConfigModel, PositiveFloat
from kryten_actors.config.validation import field_error

__all__ = ["SupervisionConfig", "SupervisionStrategy"]

SupervisionStrategy = Literal["one_for_one", "one_for_all", "rest_for_one"]


class SupervisionConfig(ConfigModel):
    """Restart policy, in the Erlang/OTP sense.

    ``strategy`` chooses whom a failure restarts (the child, all children, or the child
    and those started after it). More than ``max_restarts`` restarts within
    ``within_seconds`` escalate the failure to the parent (0 escalates the first one).
    Restarts wait an exponential backoff from ``min_backoff`` to ``max_backoff``
    seconds, randomised by ±``jitter`` (a fraction), and the backoff resets after a
    child has run ``reset_after`` seconds without failing.
    """

    strategy: SupervisionStrategy = "one_for_one"
    max_restarts: int = Field(default=10, ge=0)
    within_seconds: PositiveFloat = 60.0
    min_backoff: PositiveFloat = 0.1
    max_backoff: PositiveFloat = 30.0
    jitter: float = Field(default=0.2, ge=0, lt=1)
    reset_after: PositiveFloat = 60.0

    @model_validator(mode="after")
    def _backoff_range(self) -> SupervisionConfig:
        if self.max_backoff < self.min_backoff:
            raise field_error("must be at least min_backoff", "max_backoff")
        return self
