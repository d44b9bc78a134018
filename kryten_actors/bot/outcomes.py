"""Real outcomes: after the bridge's "ok", what CyTube did with a command.

CyTube answers a command, if at all, with an event on the bridge's own socket: an
echo that confirms it (the ``chatMsg`` of the bot's own line, the ``pm`` it sent, the
``delete`` of the uid), or a refusal (``errorMsg``, ``queueFail``, ``channelRankFail``,
``cooldown``, ``noflood``, ``spamFiltered``). None of these name the command they
answer, but CyTube handles one connection's frames strictly in order, so a refusal
belongs to the oldest command still waiting for one of its kind.

:class:`OutcomeWatcher` keeps those waiting commands (``Expectation``) of one channel
in send order. Each has a :class:`OutcomeRule` (from :mod:`~kryten_actors.bot.outcome_rules`):
which event confirms it, which refuses it, and whether a refusal is a flood
throttle (the line is sent again). The first expectation whose rule claims an event
consumes it; expectations nobody answered expire after their window.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from kryten_actors.errors import CommandRejected

if TYPE_CHECKING:
    from kryten_actors.protocol.commands import Command
    from kryten_actors.protocol.events import RawEvent

__all__ = ["CONFIRMED", "THROTTLED", "Expectation", "OutcomeRule", "OutcomeWatcher", "Verdict"]

log = logging.getLogger("kryten_actors.bot.outcomes")


class Verdict:
    """What an event says about an expectation."""

    CONFIRMED: Final = "confirmed"
    REFUSED: Final = "refused"
    THROTTLED: Final = "throttled"


CONFIRMED: Final = Verdict.CONFIRMED
THROTTLED: Final = Verdict.THROTTLED

#: ``judge(event_name, event, command, own_name)`` → a verdict with CyTube's text, or None.
Judge = Callable[[str, "RawEvent", "Command", "str | None"], "tuple[str, str] | None"]


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """How CyTube answers one kind of command.

    ``events`` are the lowercased event names ``judge`` looks at; ``judge`` returns
    ``(verdict, text)`` when the event answers the command. ``awaited`` commands make
    their sender wait (up to ``outcome_window``) for the verdict; the others (chat
    lines) are only followed, so a throttled line can be sent again.
    """

    events: frozenset[str]
    judge: Judge
    awaited: bool = True


@dataclass(slots=True)
class Expectation:
    """One sent command waiting for CyTube's answer."""

    command: Command
    rule: OutcomeRule
    sent_at: float
    future: asyncio.Future[tuple[str, str]] | None = None
    """Resolved with ``(verdict, text)``; None for followed (not awaited) commands."""
    on_throttled: Callable[[float], None] | None = None

    def resolve(self, verdict: str, text: str) -> None:
        if self.future is not None and not self.future.done():
            self.future.set_result((verdict, text))


class OutcomeWatcher:
    """The expectations of one channel, oldest first (see the module docstring)."""

    __slots__ = ("_pending", "expired", "refused", "throttled", "where")

    def __init__(self, where: str) -> None:
        self.where = where
        self._pending: deque[Expectation] = deque()
        self.refused = 0
        self.throttled = 0
        self.expired = 0

    def __len__(self) -> int:
        return len(self._pending)

    def expect(self, expectation: Expectation) -> None:
        """Start waiting for CyTube's answer to a command that was just sent."""
        self._pending.append(expectation)

    def watches(self, name: str) -> bool:
        """True when an event of this (lowercased) name may answer a pending command."""
        return any(name in item.rule.events for item in self._pending)

    def observe(self, name: str, event: RawEvent, own_name: str | None) -> None:
        """Let the oldest expectation whose rule claims ``event`` consume it."""
        for item in self._pending:
            if name not in item.rule.events:
                continue
            verdict = item.rule.judge(name, event, item.command, own_name)
            if verdict is None:
                continue
            self._pending.remove(item)
            kind, text = verdict
            if kind == Verdict.REFUSED:
                self.refused += 1
            elif kind == Verdict.THROTTLED:
                self.throttled += 1
                if item.on_throttled is not None:
                    item.on_throttled(_seconds(event))
            item.resolve(kind, text)
            return

    def expire(self, now: float, window: float, follow_window: float) -> None:
        """Drop expectations older than their window (no answer means done, as far as known)."""
        while self._pending:
            item = self._pending[0]
            limit = window if item.rule.awaited else follow_window
            if now - item.sent_at < limit:
                return
            self._pending.popleft()
            self.expired += 1
            item.resolve(Verdict.CONFIRMED, "")

    def discard(self, expectation: Expectation) -> None:
        """Stop waiting for ``expectation`` (its window passed)."""
        try:
            self._pending.remove(expectation)
        except ValueError:
            return


def _seconds(event: RawEvent) -> float:
    """The cooldown a throttling event asks for, in seconds (``cooldown`` carries ms)."""
    payload = event.payload
    if isinstance(payload, int | float) and not isinstance(payload, bool):
        return max(0.0, float(payload) / 1000.0)
    return 0.0


def rejection(command: Command, text: str, payload: object, where: str) -> CommandRejected:
    """The error for a command CyTube refused, with CyTube's own text."""
    name = command.robot_command
    return CommandRejected(
        f"CyTube refused {name!r} in {where}: {text}",
        command=name,
        reason=text,
        reply=payload,
        source="cytube",
    )
