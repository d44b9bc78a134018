"""The ``@on`` decorator and the per-class table of event handlers."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from kryten_actors.bot.handler_types import check_annotation, event_names_of
from kryten_actors.errors import KrytenValidationError

__all__ = ["WILDCARD", "HandlerRegistration", "HandlerTable", "on", "run_handlers"]

WILDCARD = "*"
_MARK = "__kryten_events__"

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
BoundHandler = Callable[[Any], Awaitable[Any]]


def on(*event_names: str | type) -> Callable[[F], F]:
    """Mark an ``async def`` method as the handler of one or more events.

    Give wire names or event models: ``@on("chatMsg")`` and ``@on(ChatMessageEvent)``
    are the same. Names match case-insensitively (``"chatMsg"`` == ``"chatmsg"``);
    ``"*"`` (or ``RawEvent``) receives every event. When the handler's event parameter
    is annotated, the annotation must fit every event it handles: a mismatch is a
    ``TypeError`` when the class is created, naming both. Several handlers may name
    the same event; they run concurrently and
    the actor takes its next message only when all of them are done. The handler
    gets the typed event chosen by the event's name (``ChatMessageEvent`` for
    ``chatMsg``), or a ``RawEvent`` for names without a typed model.
    """
    if not event_names:
        raise KrytenValidationError('@on needs at least one event name, e.g. @on("chatMsg")')
    names = []
    for given in event_names:
        for name in event_names_of(given):
            if not isinstance(name, str) or not name.strip():
                raise KrytenValidationError(
                    f"@on: give event names (non-empty strings) or event models, got {name!r}"
                )
            names.append(name.strip().lower())

    def mark(func: F) -> F:
        is_async: bool = inspect.iscoroutinefunction(func)
        if not is_async:
            raise KrytenValidationError(
                f"@on({', '.join(map(repr, event_names))}) must decorate an 'async def', "
                f"but {getattr(func, '__qualname__', func)!r} is not a coroutine function"
            )
        existing: tuple[str, ...] = getattr(func, _MARK, ())
        setattr(func, _MARK, existing + tuple(names))
        return func

    return mark


@dataclass(frozen=True, slots=True)
class HandlerRegistration:
    """One handler as registered: what it answers to and, for client handlers, where.

    ``event`` is the lowercased event name (``"chatmsg"``) or ``"*"`` for every event;
    ``handler`` the function (for a ``ChannelActor``, the method as defined on the
    class); ``channel``/``domain`` restrict a ``KrytenClient`` handler to one channel
    (``None``: every channel). Returned by ``ChannelActor.handler_registrations()`` and
    ``KrytenClient.handler_registrations()``.
    """

    event: str
    handler: Callable[..., Awaitable[Any]]
    channel: str | None = None
    domain: str | None = None

    @property
    def name(self) -> str:
        """The handler's qualified name, e.g. ``Greeter.greet``."""
        return str(getattr(self.handler, "__qualname__", self.handler))

    def matches(self, event: str, domain: str, channel: str) -> bool:
        """Whether this handler runs for ``event`` (lowercased) in ``domain/channel``."""
        return (
            self.event in (event, WILDCARD)
            and (self.channel is None or self.channel.lower() == channel.lower())
            and (self.domain is None or self.domain == domain)
        )


class HandlerTable:
    """Event name (lowercased) → names of the methods that handle it, for one class.

    Built once per class from the ``@on`` marks along its MRO; a subclass overriding a
    handler method replaces it, keeping its own marks.
    """

    __slots__ = ("_by_event", "_count", "_functions", "_wildcard")

    def __init__(self, by_event: Mapping[str, tuple[str, ...]], wildcard: tuple[str, ...]) -> None:
        self._by_event = dict(by_event)
        self._wildcard = wildcard
        self._functions: dict[str, tuple[Callable[..., Awaitable[Any]], ...]] = {}
        # counted once: a bot asks it for every channel it starts
        names = {attr for attrs in self._by_event.values() for attr in attrs}
        self._count = len(names | set(wildcard))

    @classmethod
    def collect(cls, owner: type) -> HandlerTable:
        """Scan ``owner`` and its bases for ``@on``-marked methods."""
        by_event: dict[str, list[str]] = {}
        wildcard: list[str] = []
        seen: set[str] = set()
        for klass in owner.__mro__:
            for attr, value in vars(klass).items():
                if attr in seen:
                    continue
                seen.add(attr)
                marks = getattr(value, _MARK, ())
                if marks:
                    check_annotation(value, marks, owner)
                for name in marks:
                    target = wildcard if name == WILDCARD else by_event.setdefault(name, [])
                    if attr not in target:
                        target.append(attr)
        wild = tuple(wildcard)
        table = cls({name: tuple(attrs) + wild for name, attrs in by_event.items()}, wild)
        # The functions as the class resolves them, so dispatch needs no getattr per event.
        for name, attrs in table._by_event.items():
            table._functions[name] = tuple(getattr(owner, attr) for attr in attrs)
        table._functions[WILDCARD] = tuple(getattr(owner, attr) for attr in wild)
        return table

    @property
    def by_event(self) -> Mapping[str, tuple[Callable[..., Awaitable[Any]], ...]]:
        """The handler functions of each event name that has its own (wildcard ones
        included); an event not in it gets :meth:`functions_for`'s wildcard answer."""
        return self._functions

    def functions_for(self, event_name_lower: str) -> tuple[Callable[..., Awaitable[Any]], ...]:
        """The handler functions (unbound: call with the actor) for an event."""
        functions = self._functions.get(event_name_lower)
        if functions is None:
            functions = self._functions.get(WILDCARD, ())
        return functions

    def methods_for(self, event_name_lower: str) -> tuple[str, ...]:
        """Method names to call for an event (typed handlers first, then ``*``)."""
        return self._by_event.get(event_name_lower, self._wildcard)

    def registrations(self, owner: type) -> tuple[HandlerRegistration, ...]:
        """Every (event, method) pair of ``owner``'s table, events sorted, ``*`` last."""
        pairs = [
            (event, attr)
            for event in sorted(self._by_event)
            for attr in self._by_event[event]
            if attr not in self._wildcard
        ]
        pairs.extend((WILDCARD, attr) for attr in self._wildcard)
        return tuple(HandlerRegistration(event, getattr(owner, attr)) for event, attr in pairs)

    @property
    def count(self) -> int:
        """How many distinct handler methods the table holds."""
        return self._count


async def run_handlers(handlers: Sequence[BoundHandler], event: Any) -> None:
    """Run the handlers of one event concurrently; re-raise the first failure.

    Every handler finishes before this returns, so per-channel order holds; a failure is
    raised only after the others are done (it then fails the actor).
    """
    if len(handlers) == 1:
        await handlers[0](event)
        return
    results = await asyncio.gather(
        *(handler(event) for handler in handlers), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
