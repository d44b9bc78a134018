"""Choosing the ChannelActor class for a channel: argument, mapping, or ``module:Class``."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeAlias

from kryten_actors.errors import KrytenValidationError

if TYPE_CHECKING:
    from kryten_actors.bot.channel import ChannelActor
    from kryten_actors.config import KrytenConfig

__all__ = ["ActorChoice", "import_actor", "resolve_actor_class"]

ActorChoice: TypeAlias = "type[ChannelActor] | Mapping[str, type[ChannelActor]] | None"


def import_actor(reference: str, *, field: str = "actor") -> type[ChannelActor]:
    """Import ``"package.module:ClassName"`` and check it is a ``ChannelActor`` subclass."""
    from kryten_actors.bot.channel import ChannelActor  # noqa: PLC0415 - avoids an import cycle

    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise KrytenValidationError(
            f"{field}: {reference!r} is not of the form 'package.module:ClassName'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise KrytenValidationError(
            f"{field}: cannot import module {module_name!r} ({exc}); check the name and "
            "that it is on PYTHONPATH"
        ) from exc
    cls = getattr(module, attr, None)
    if not isinstance(cls, type) or not issubclass(cls, ChannelActor):
        raise KrytenValidationError(
            f"{field}: {reference!r} is not a ChannelActor subclass; point it at your "
            "class that subclasses kryten_actors.ChannelActor"
        )
    return cls


def resolve_actor_class(
    config: KrytenConfig,
    choice: object,
    domain: str,
    channel: str,
    per_channel: type[ChannelActor] | str | None,
) -> type[ChannelActor]:
    """The actor class for one channel, by precedence.

    An explicit per-channel argument (``join_channel(actor=...)`` or the channel's
    ``actor`` in the config) beats the ``Bot(actor=...)`` argument, which beats the
    config's top-level ``actor``.
    """
    from kryten_actors.bot.channel import ChannelActor  # noqa: PLC0415 - avoids an import cycle

    if isinstance(per_channel, str):
        return import_actor(per_channel, field=f"channels[{domain}/{channel}].actor")
    if isinstance(per_channel, type):
        return per_channel
    if isinstance(choice, Mapping):
        for key in (f"{domain}/{channel}", channel):
            if key in choice:
                found = choice[key]
                if isinstance(found, type) and issubclass(found, ChannelActor):
                    return found
                raise KrytenValidationError(f"actor for {key!r} is not a ChannelActor subclass")
    elif isinstance(choice, type):
        if issubclass(choice, ChannelActor):
            return choice
        raise KrytenValidationError("actor= must be a ChannelActor subclass")
    elif choice is not None:
        raise KrytenValidationError("actor= must be a ChannelActor subclass or a mapping")
    if config.actor:
        return import_actor(config.actor)
    raise KrytenValidationError(
        f"no actor class for channel {domain}/{channel}: pass Bot(config, actor=MyActor) "
        "or set 'actor: package.module:Class' in the config"
    )
