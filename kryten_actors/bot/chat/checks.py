"""What may stop a chat command before it runs: rank, cooldowns, custom checks.

A check that fails is an answer to the user, never a failure of the actor: the
dispatcher replies with :class:`CheckFailure`'s text and the actor goes on.
"""

from __future__ import annotations

import inspect
import math
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from kryten_actors.bot.chat.context import CommandContext

__all__ = ["Check", "CheckFailure", "Cooldown", "CooldownBook"]

Check: TypeAlias = "Callable[[CommandContext], bool | str | Awaitable[bool | str | None] | None]"
"""A custom check: return True/None to allow, False or a message (str) to refuse, or raise
:class:`CheckFailure`. It may be ``async``."""


class CheckFailure(Exception):
    """A command's check refused the user; the text is the reply."""


@dataclass(frozen=True, slots=True)
class Cooldown:
    """How often a command may run: per user (in a channel), per channel, and across the bot.

    ``Cooldown(per_user=5.0)`` lets each user run it once every 5 s in each channel;
    ``per_channel`` limits the channel as a whole, ``global_`` the whole bot. Times are
    seconds on the bot's clock (virtual in the test kit). Only runs that pass every other
    check count; a refused run does not restart the wait.
    """

    per_user: float | None = None
    per_channel: float | None = None
    global_: float | None = None

    def __post_init__(self) -> None:
        for name in ("per_user", "per_channel", "global_"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"Cooldown({name}={value!r}): give a positive number of seconds")

    def keys(self, command: str, where: str, user: str) -> list[tuple[tuple[str, ...], float]]:
        """The buckets one run of ``command`` fills, each with its length in seconds."""
        buckets: list[tuple[tuple[str, ...], float]] = []
        if self.per_user is not None:
            buckets.append(((command, where, user.lower()), self.per_user))
        if self.per_channel is not None:
            buckets.append(((command, where), self.per_channel))
        if self.global_ is not None:
            buckets.append(((command,), self.global_))
        return buckets


@dataclass(slots=True)
class CooldownBook:
    """When each cooldown bucket frees up again; one book per bot (kept across restarts)."""

    ready_at: dict[tuple[str, ...], float] = field(default_factory=dict)

    def remaining(self, buckets: list[tuple[tuple[str, ...], float]], now: float) -> float:
        """Seconds until every bucket is free (0 when the command may run now)."""
        return max((self.ready_at.get(key, now) - now for key, _ in buckets), default=0.0)

    def spend(self, buckets: list[tuple[tuple[str, ...], float]], now: float) -> None:
        """Record a run: each bucket is busy for its length from ``now``."""
        for key, length in buckets:
            self.ready_at[key] = now + length
        if len(self.ready_at) > 4096:  # forget buckets that are free again
            self.ready_at = {k: t for k, t in self.ready_at.items() if t > now}


#: One book per bot: keyed by its command sender, so two bots in a process never share.
_BOOKS: weakref.WeakKeyDictionary[Any, CooldownBook] = weakref.WeakKeyDictionary()


def book_for(owner: Any) -> CooldownBook:
    """The cooldown book of the bot that ``owner`` (its command sender) belongs to."""
    book = _BOOKS.get(owner)
    if book is None:
        book = _BOOKS[owner] = CooldownBook()
    return book


async def run_check(check: Check, ctx: CommandContext) -> str | None:
    """Run one custom check; the refusal text, or None when it allows the command."""
    try:
        verdict: Any = check(ctx)
        if inspect.isawaitable(verdict):
            verdict = await verdict
    except CheckFailure as refused:
        return str(refused) or f"you cannot use {ctx.invoked}"
    if verdict is None or verdict is True:
        return None
    if isinstance(verdict, str):
        return verdict
    return f"you cannot use {ctx.invoked}"
