"""Choosing the ChannelActor class for a channel: argument, mapping, or ``module:Class``."""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, TypeAlias

from kryten_actors.errors import KrytenValidationError

if TYPE_CHECKING:
    from collections.abc import Callable

    from kryten_actors.bot.actor_source import ActorSource
    from kryten_actors.bot.channel import ChannelActor
    from kryten_actors.config import KrytenConfig

__all__ = ["ActorChoice", "import_actor", "resolve_actor_class"]

ActorChoice: TypeAlias = (
    "type[ChannelActor] | Callable[..., ChannelActor] | Mapping[str, ActorSource] | None"
)
"""A ``ChannelActor`` class, a ``partial`` of one, a factory taking the channel binding,
a mapping of ``"domain/channel"`` or ``"channel"`` to one of those, or None (see
:mod:`~kryten_actors.bot.actor_source`)."""


def _import_module(module_name: str, field: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise KrytenValidationError(
                f"{field}: there is no module named {module_name!r}; check its spelling, "
                "and that it is importable from here (run from the directory that holds "
                "it, set PYTHONPATH, or install your package)"
            ) from exc
        raise KrytenValidationError(
            f"{field}: module {module_name!r} was found, but importing it failed: it "
            f"imports {missing!r}, which is not installed; install it in this environment "
            f"(for example `uv add {missing.partition('.')[0]}` or "
            f"`pip install {missing.partition('.')[0]}`)"
        ) from exc
    except Exception as exc:  # any error in the user's module is reported, with its place
        where = _where(exc, module_name)
        raise KrytenValidationError(
            f"{field}: importing module {module_name!r} raised {type(exc).__name__}: "
            f"{exc}{where}; fix the error in that module"
        ) from exc


def _where(exc: BaseException, module_name: str) -> str:
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" ({exc.filename}, line {exc.lineno})"
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if "importlib" not in f.filename]
    if mine:
        frame = mine[-1]
        return f" ({frame.filename}, line {frame.lineno})"
    return f" (in {module_name})"


def import_actor(reference: str, *, field: str = "actor") -> type[ChannelActor]:
    """Import ``"package.module:ClassName"`` and check it is a ``ChannelActor`` subclass.

    Each failure has its own message: a malformed reference, a module that does not
    exist, a module that fails to import (a missing dependency, an error in it), a
    class the module does not define (listing the ``ChannelActor`` subclasses it does
    define), and a name that is not a ``ChannelActor`` subclass.
    """
    from kryten_actors.bot.channel import ChannelActor  # noqa: PLC0415 - avoids an import cycle

    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise KrytenValidationError(
            f"{field}: {reference!r} is not of the form 'package.module:ClassName'"
        )
    module = _import_module(module_name, field)
    found: object = module
    for part in attr.split("."):
        found = getattr(found, part, _MISSING)
        if found is _MISSING:
            break
    if found is _MISSING:
        actors = sorted(
            name
            for name, value in vars(module).items()
            if isinstance(value, type)
            and issubclass(value, ChannelActor)
            and value is not ChannelActor
            and value.__module__ == module.__name__
        )
        offer = f"; it defines {', '.join(actors)}" if actors else "; it defines no ChannelActor"
        raise KrytenValidationError(f"{field}: module {module_name!r} has no {attr!r}{offer}")
    if not isinstance(found, type) or not issubclass(found, ChannelActor):
        kind = "a class" if isinstance(found, type) else f"a {type(found).__name__}"
        raise KrytenValidationError(
            f"{field}: {reference!r} is {kind}, not a ChannelActor subclass; point it at "
            "your class that subclasses kryten_actors.ChannelActor"
        )
    return found


_MISSING = object()


def _is_source(value: object, base: type) -> bool:
    if isinstance(value, type):
        return issubclass(value, base)
    return callable(value)


def resolve_actor_class(
    config: KrytenConfig,
    choice: object,
    domain: str,
    channel: str,
    per_channel: ActorSource | str | None,
) -> ActorSource:
    """The actor class (or factory) for one channel, by precedence.

    An explicit per-channel argument (``join_channel(actor=...)`` or the channel's
    ``actor`` in the config) beats the ``Bot(actor=...)`` argument, which beats the
    config's top-level ``actor``.
    """
    from kryten_actors.bot.channel import ChannelActor  # noqa: PLC0415 - avoids an import cycle

    if isinstance(per_channel, str):
        return import_actor(per_channel, field=f"channels[{domain}/{channel}].actor")
    if per_channel is not None:
        if not _is_source(per_channel, ChannelActor):
            raise KrytenValidationError(
                f"actor for {domain}/{channel} is not a ChannelActor subclass or a factory"
            )
        return per_channel
    if isinstance(choice, Mapping):
        for key in (f"{domain}/{channel}", channel):
            if key in choice:
                found = choice[key]
                if _is_source(found, ChannelActor):
                    return found  # type: ignore[no-any-return]
                raise KrytenValidationError(
                    f"actor for {key!r} is not a ChannelActor subclass or a factory"
                )
    elif isinstance(choice, type):
        if issubclass(choice, ChannelActor):
            return choice
        raise KrytenValidationError("actor= must be a ChannelActor subclass")
    elif callable(choice):
        return choice
    elif choice is not None:
        raise KrytenValidationError(
            "actor= must be a ChannelActor subclass, a factory or a mapping of them"
        )
    if config.actor:
        return import_actor(config.actor)
    raise KrytenValidationError(
        f"no actor class for channel {domain}/{channel}: pass Bot(config, actor=MyActor) "
        "or set 'actor: package.module:Class' in the config"
    )
