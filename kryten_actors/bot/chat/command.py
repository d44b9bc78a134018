"""The ``@command`` decorator, what it records, and ``Commands`` groups of reusable commands."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any, Final, TypeVar

from kryten_actors.bot.chat.arguments import Signature
from kryten_actors.bot.chat.checks import Check, Cooldown

__all__ = ["CommandSpec", "Commands", "command", "include"]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
MARK: Final = "__kryten_command__"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One chat command as declared: names, argument grammar, checks and help text."""

    name: str
    aliases: tuple[str, ...]
    func: Callable[..., Awaitable[Any]]
    signature: Signature
    min_rank: float
    cooldown: Cooldown | None
    checks: tuple[Check, ...]
    pm: bool
    hidden: bool
    summary: str

    @property
    def names(self) -> tuple[str, ...]:
        """The name and the aliases, lowercased."""
        return (self.name, *self.aliases)

    def usage(self, prefix: str) -> str:
        """``!roll [dice=1d6] [comment…]``."""
        params = self.signature.usage()
        return f"{prefix}{self.name} {params}" if params else f"{prefix}{self.name}"


def _summary(func: Callable[..., Any]) -> str:
    doc = inspect.getdoc(func) or ""
    return " ".join(doc.split("\n\n", 1)[0].split())


def _namespace() -> dict[str, Any]:
    """Names visible where the decorated method is defined (class body, enclosing function),
    so annotations naming local types resolve."""
    names: dict[str, Any] = {}
    frame: FrameType | None = sys._getframe(2)
    for _ in range(2):
        if frame is None:
            break
        names = {**frame.f_locals, **names}
        frame = frame.f_back
    return names


def command(
    name: str | None = None,
    *,
    aliases: Iterable[str] = (),
    cooldown: Cooldown | None = None,
    min_rank: float = 0,
    checks: Sequence[Check] = (),
    pm: bool = False,
    hidden: bool = False,
) -> Callable[[F], F]:
    """Mark an ``async def (self, ctx, ...)`` method as the chat command ``!name``.

    The arguments are parsed from the method's annotations (see
    :mod:`~kryten_actors.bot.chat.arguments`); its docstring's first paragraph is the
    help text. ``name`` defaults to the method's name; names and ``aliases`` match
    case-insensitively. ``min_rank`` is checked against the sender's rank in the tracked
    userlist, ``cooldown`` limits how often it runs, ``checks`` are custom checks.
    ``pm=True`` also answers the command sent as a private message (replies go back by
    PM). ``hidden`` leaves it out of ``!help``.
    """
    alias_names = tuple(a.lower() for a in aliases)

    def mark(func: F) -> F:
        where = getattr(func, "__qualname__", repr(func))
        is_async: bool = inspect.iscoroutinefunction(func)
        if not is_async:
            raise TypeError(f"@command must decorate an 'async def', but {where} is not one")
        command_name = (name or func.__name__).lower()
        for word in (command_name, *alias_names):
            if not word or any(c.isspace() for c in word):
                raise TypeError(f"{where}: command name {word!r} must be one word")
        if min_rank < 0:
            raise TypeError(f"{where}: min_rank must be >= 0, got {min_rank}")
        spec = CommandSpec(
            name=command_name,
            aliases=alias_names,
            func=func,
            signature=Signature.of(func, _namespace()),
            min_rank=float(min_rank),
            cooldown=cooldown,
            checks=tuple(checks),
            pm=pm,
            hidden=hidden,
            summary=_summary(func),
        )
        setattr(func, MARK, spec)
        return func

    return mark


class Commands:
    """A reusable set of chat commands, included in any number of actors (a "cog")::

        class Quotes(Commands):
            @command("quote")
            async def quote(self, ctx: CommandContext) -> None:
                await ctx.reply(random.choice(self.actor.settings.quotes))

        class MyBot(ChannelActor):
            groups = include(Quotes, Moderation)

    Each actor instance gets its own instance of the group (``self.actor`` is the actor),
    made on first use; an actor restart starts it afresh.
    """

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    @classmethod
    def specs(cls) -> list[tuple[str, CommandSpec]]:
        """The group's commands as ``(method name, spec)``, subclasses overriding bases."""
        found: dict[str, CommandSpec] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                spec = getattr(value, MARK, None)
                if isinstance(spec, CommandSpec):
                    found[attr] = spec
                elif attr in found:
                    del found[attr]
        return list(found.items())


@dataclass(frozen=True, slots=True)
class Included:
    """What :func:`include` returns: the groups an actor class takes its commands from."""

    groups: tuple[type[Commands], ...]


def include(*groups: type[Commands]) -> Included:
    """Compose an actor of command groups: ``groups = include(Dice, Moderation)``."""
    for group in groups:
        if not (isinstance(group, type) and issubclass(group, Commands)):
            raise TypeError(f"include() takes Commands subclasses, got {group!r}")
    return Included(groups)
