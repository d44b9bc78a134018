"""How a channel's actor is made: a class, a ``partial`` of one, or a factory of the binding.

``Bot(config, actor=Dice)`` calls ``Dice()``; ``actor=partial(Dice, sides=20)`` calls the
partial; any other callable is a factory called with the channel's
:class:`~kryten_actors.bot.binding.ChannelBinding` (``lambda binding: Dice(binding.channel)``).
Whatever it returns must be a ``ChannelActor``; the bot binds it to its channel.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import BaseModel, ValidationError

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.validation import to_kryten_error

if TYPE_CHECKING:
    from kryten_actors.bot.binding import ChannelBinding
    from kryten_actors.bot.channel import ChannelActor

__all__ = ["ActorSource", "actor_class_of", "make_actor", "validate_settings"]

ActorSource: TypeAlias = "type[ChannelActor] | Callable[..., ChannelActor]"


def actor_class_of(source: Any) -> type[ChannelActor] | None:
    """The ``ChannelActor`` class a source makes, when it can be known without calling it."""
    from kryten_actors.bot.channel import ChannelActor  # noqa: PLC0415 - avoids an import cycle

    target = source.func if isinstance(source, functools.partial) else source
    if isinstance(target, type) and issubclass(target, ChannelActor):
        return target
    return None


def make_actor(source: ActorSource, binding: ChannelBinding) -> ChannelActor:
    """A new actor for ``binding``'s channel, bound to it (the supervisor's factory)."""
    from kryten_actors.bot.channel import ChannelActor  # noqa: PLC0415 - avoids an import cycle

    make: Callable[..., Any] = source
    instance = make() if actor_class_of(source) is not None else make(binding)
    if not isinstance(instance, ChannelActor):
        raise KrytenValidationError(
            f"the actor factory for {binding.where} returned {type(instance).__name__}, "
            "not a ChannelActor; return an instance of your ChannelActor subclass"
        )
    instance.bind(binding)
    return instance


def validate_settings(model: type[BaseModel] | None, data: dict[str, Any], where: str) -> Any:
    """``data`` validated by ``model`` (the dict itself without one); errors name the field."""
    if model is None:
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_kryten_error(
            exc,
            what=f"settings of channel {where}",
            hint=f"Fix the channel's settings to fit {model.__name__}.",
        ) from None
