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
consumes it; a command nobody answers within ``outcome_window`` counts as done.

Chat lines wait for their answer too (the governor sends the next line only then), so
a line CyTube dropped for flooding is sent again before any later line: order holds.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from kryten_actors.errors import CommandRejected

if TYPE_CHECKING:
    from kryten_actors.protocol.commands import Command
    from kryten_actors.protocol.events import RawEvent

__all__ = [
    "FOLLOWED_LIMIT",
    "Answer",
    "Expectation",
    "OutcomeRule",
    "OutcomeWatcher",
    "Verdict",
    "rejection",
]

#: Expectations kept per channel for commands whose answer is followed but not awaited.
FOLLOWED_LIMIT: Final = 100

log = logging.getLogger("kryten_actors.bot.outcomes")


class Verdict:
    """What an event says about an expectation."""

    CONFIRMED: Final = "confirmed"
    REFUSED: Final = "refused"
    THROTTLED: Final = "throttled"


#: ``judge(event_name, event, command, own_name)`` → a verdict with CyTube's text, or None.
Judge = Callable[[str, "RawEvent", "Command", "str | None"], "tuple[str, str] | None"]


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """How CyTube answers one kind of command.

    ``events`` are the lowercased event names ``judge`` looks at; ``judge`` returns
    ``(verdict, text)`` when the event answers the command.
    """

    events: frozenset[str]
    judge: Judge


@dataclass(frozen=True, slots=True)
class Answer:
    """CyTube's answer to one command: a :class:`Verdict`, its text, for a throttle the
    pause CyTube asked for (seconds), and the answering event's payload."""

    verdict: str
    text: str = ""
    pause: float = 0.0
    payload: object = None


@dataclass(slots=True)
class Expectation:
    """One command, about to be sent or just sent, waiting for CyTube's answer.

    ``sent_at`` is when the bridge accepted it (clock time); ``inf`` while the request
    is in flight, which a bridge may answer late (``addvideo`` waits up to 8 s).
    """

    command: Command
    rule: OutcomeRule
    future: asyncio.Future[Answer]
    sent_at: float = math.inf
    awaited: bool = False

    def resolve(self, answer: Answer) -> None:
        if not self.future.done():
            self.future.set_result(answer)


class OutcomeWatcher:
    """The expectations of one channel, oldest first (see the module docstring)."""

    __slots__ = ("pending", "refused", "throttled", "where")

    def __init__(self, where: str) -> None:
        self.where = where
        # a list, not a deque: it holds a few expectations at most, and an empty deque
        # costs ~600 bytes in every channel (an empty list 56)
        self.pending: list[Expectation] = []
        self.refused = 0
        self.throttled = 0

    def __len__(self) -> int:
        return len(self.pending)

    def expect(self, expectation: Expectation) -> None:
        """Start waiting for CyTube's answer to a command (before it is sent)."""
        self.pending.append(expectation)

    def watches(self, name: str) -> bool:
        """True when an event of this (lowercased) name may answer a pending command."""
        return any(name in item.rule.events for item in self.pending)

    def observe(self, name: str, event: RawEvent, own_name: str | None) -> None:
        """Let the oldest expectation whose rule claims ``event`` consume it."""
        for item in self.pending:
            if name not in item.rule.events:
                continue
            verdict = item.rule.judge(name, event, item.command, own_name)
            if verdict is None:
                continue
            self.pending.remove(item)
            kind, text = verdict
            pause = 0.0
            if kind == Verdict.REFUSED:
                self.refused += 1
            elif kind == Verdict.THROTTLED:
                self.throttled += 1
                pause = _seconds(event)
            item.resolve(Answer(kind, text, pause, event.payload))
            return

    def prune(self, before: float, keep: int = FOLLOWED_LIMIT) -> None:
        """Forget the expectations nobody awaits that the bridge accepted before
        ``before`` (clock time) and nobody answered, and all but the newest ``keep`` of
        them (a clock that does not move, such as a test's, keeps them bounded too).
        Requests still in flight and awaited expectations are left alone."""
        followed = [e for e in self.pending if not e.awaited and e.sent_at != math.inf]
        excess = len(followed) - keep
        stale = [e for i, e in enumerate(followed) if i < excess or e.sent_at < before]
        for expectation in stale:
            self.pending.remove(expectation)
            expectation.future.cancel()

    def discard(self, expectation: Expectation) -> None:
        """Stop waiting for ``expectation`` (it was not sent, or its window passed)."""
        try:
            self.pending.remove(expectation)
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
