"""``@on`` with event models, and the check that a handler's annotation fits its events."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, Union

from kryten_actors.protocol.events import RawEvent, model_for

__all__ = ["check_annotation", "event_names_of"]

_WILDCARD = "*"


def event_names_of(given: object) -> tuple[object, ...]:
    """The wire names ``@on`` was given: a name as is, a model as its ``event_names``."""
    if isinstance(given, type) and issubclass(given, RawEvent):
        names: tuple[str, ...] = getattr(given, "event_names", ())
        return names if names else (_WILDCARD,)
    return (given,)


def _event_annotation(func: Callable[..., Any], owner: type) -> Any:
    """The annotation of the handler's event parameter (after ``self``), resolved; None
    when it has none or it cannot be resolved here (a name only known to type checkers)."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    if len(params) < 2:
        return None
    raw = params[1].annotation
    if raw is inspect.Parameter.empty:
        return None
    if not isinstance(raw, str):
        return raw
    module = inspect.getmodule(owner)
    namespace = {**vars(module)} if module is not None else {}
    namespace.update(getattr(func, "__globals__", {}))
    try:
        return eval(raw, namespace, dict(vars(owner)))  # noqa: S307 - an annotation, as typing does
    except Exception:  # noqa: BLE001 - an unresolvable annotation is not checked
        return None


def _accepted(annotation: Any) -> tuple[type, ...] | None:
    """The event classes an annotation accepts; None when it does not name events."""
    if annotation is Any or annotation is RawEvent:
        return None
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members: list[type] = []
        for arg in typing.get_args(annotation):
            accepted = _accepted(arg)
            if accepted is None:
                return None
            members.extend(accepted)
        return tuple(members)
    if isinstance(annotation, type) and issubclass(annotation, RawEvent):
        return (annotation,)
    return None


def check_annotation(func: Callable[..., Any], names: Sequence[str], owner: type) -> None:
    """``TypeError`` when ``func``'s event annotation does not fit an event it handles."""
    accepted = _accepted(_event_annotation(func, owner))
    if accepted is None:
        return
    where = getattr(func, "__qualname__", repr(func))
    shown = " | ".join(t.__name__ for t in accepted)
    for name in names:
        if name == _WILDCARD:
            raise TypeError(
                f"{where} handles every event ('*'), but its event parameter is annotated "
                f"{shown}; annotate it RawEvent"
            )
        model = model_for(name)
        if not issubclass(model, accepted):
            raise TypeError(
                f"{where} handles {name!r}, which arrives as {model.__name__}, but its event "
                f"parameter is annotated {shown}; annotate it {model.__name__} or handle "
                f"the event {shown} models"
            )
