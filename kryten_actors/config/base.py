"""The base of every configuration model and the constrained types they share."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

# pydantic's model metaclass; subclassing it is how pydantic supports custom metaclasses.
from pydantic._internal._model_construction import ModelMetaclass

from kryten_actors.config.validation import config_error

__all__ = [
    "SECRET_MASK",
    "ActorPath",
    "ConfigModel",
    "Fraction",
    "NonEmptyStr",
    "PositiveFloat",
    "PositiveInt",
]

SECRET_MASK = "**********"  # noqa: S105 - the mask itself, not a password
"""What a secret looks like in ``repr()``, ``str()`` and :meth:`KrytenConfig.display_dict`."""

_ACTOR_PATH = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_.]*$"
)


def _check_actor_path(value: str) -> str:
    if _ACTOR_PATH.fullmatch(value) is None:
        raise ValueError(
            "must name an actor class as 'module:Class' (for example 'mybot.actors:Greeter')"
        )
    return value


NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]
PositiveFloat = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
ActorPath = Annotated[str, AfterValidator(_check_actor_path)]


class _RaisesKrytenErrors(ModelMetaclass):
    """Makes ``Model(...)`` raise :class:`KrytenValidationError` instead of pydantic's error.

    Only direct construction goes through the metaclass ``__call__``: nested models and
    ``model_validate`` are built inside pydantic-core, so their errors still collect
    into one report for the outermost model (overriding ``__init__`` would break that).
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - metaclass: receives the class
        try:
            return super().__call__(*args, **kwargs)
        except ValidationError as exc:
            error = config_error(exc, cls.__name__)
        # Raised outside the except block so pydantic's error is not chained to it.
        raise error


class ConfigModel(BaseModel, metaclass=_RaisesKrytenErrors):
    """Frozen, closed (unknown keys are errors), finite floats, inputs hidden from errors.

    Constructing a model directly raises :class:`KrytenValidationError` (not pydantic's
    ``ValidationError``), listing every problem with its dotted field path.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
        allow_inf_nan=False,
        coerce_numbers_to_str=True,
    )
