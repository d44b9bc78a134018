"""ChannelOutbox: the way every command of one channel takes, from a handler to CyTube's verdict.

In order, for each command:

1. **Pacing** — chat lines, PMs and chat-command moderation (``/kick`` …) share CyTube's
   chat rate limiter, playlist adds its queue limiter: they wait their turn in the
   channel's governor lanes (:mod:`~kryten_actors.bot.governor`), in order. Long chat
   text is split into lines first.
2. **Bridge** — while the channel's bridge is known to be down, ``bridge.down_policy``
   decides: ``wait`` (until it is back, within ``bridge.wait_timeout``) or ``fail``
   (:class:`~kryten_actors.errors.BridgeUnavailable` at once). A request nobody
   answers marks the bridge down; under ``wait`` it is sent again once it is back
   (nothing was delivered, so that is safe).
3. **Rank** — while the bot (re)joins, commands wait for its rank to settle; then a
   command its rank cannot run is refused before sending, saying whether the bot is
   not logged in or its rank is too low.
4. **Tracked state** — a uid that is not in the playlist or a user who is not in the
   channel is refused before sending (CyTube would ignore it silently).
5. **Sending** through the bot's one :class:`~kryten_actors.bot.sender.CommandSender`.
6. **Outcome** — commands with an :class:`~kryten_actors.bot.outcomes.OutcomeRule` wait
   up to ``outcome_window`` for CyTube's answer; a refusal raises
   :class:`~kryten_actors.errors.CommandRejected` with CyTube's text.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Final

from kryten_actors.bot.commands import ChannelCommands
from kryten_actors.bot.governor import (
    CHAT_LIMIT,
    QUEUE_LIMIT,
    QUEUE_LIMIT_MODERATOR,
    GovernorStats,
    Lane,
    Limit,
    Throttled,
)
from kryten_actors.bot.outcome_rules import QUEUE_TOO_FAST, rule_for
from kryten_actors.bot.outcomes import Answer, Expectation, OutcomeWatcher, Verdict, rejection
from kryten_actors.bot.prechecks import precheck, required_rank
from kryten_actors.bot.stored_state import read_stored
from kryten_actors.errors import BridgeUnavailable, CommandRejected, NoResponders
from kryten_actors.protocol.chat_text import split_chat, utf16_length
from kryten_actors.protocol.commands import AddMedia, Command, SendChat, SendPM
from kryten_actors.protocol.results import AddMediaResult, CommandResult
from kryten_actors.runtime import sleep_on

if TYPE_CHECKING:
    from kryten_actors.bot.binding import ChannelBinding
    from kryten_actors.config import KrytenConfig

__all__ = ["ChannelOutbox"]

#: After this many commands in a row that CyTube's answer did not reach within
#: ``outcome_window`` (a bridge or test double that relays no events), commands are no
#: longer held for it — still followed, and awaited again once any answer arrives.
_UNANSWERED_LIMIT: Final = 3
_CHAT_LANE_COMMANDS: Final = frozenset({"say", "pm", "kick", "ban", "mute", "smute"})


_DOUBLE_COST: Final = ("/me ", "/sp ", "/say ")


def _limiter_cost(command: Command) -> int:
    """How often CyTube runs its chat limiter for a line (twice for /me, /sp, /say)."""
    if isinstance(command, SendChat) and command.text.startswith(_DOUBLE_COST):
        return 2
    return 1


class ChannelOutbox(ChannelCommands):
    """The command path of one channel (see the module docstring).

    It carries every command helper (``send_chat``, ``kick``, ``state.userlist()``…), so
    ``bot.channel(domain, channel).send_chat("hi")`` works from outside any actor.
    """

    __slots__ = ("_binding", "_chat", "_config", "_queue", "_unanswered", "outcomes", "stats")

    def __init__(self, binding: ChannelBinding, config: KrytenConfig) -> None:
        self._binding = binding
        self._config = config
        self._chat: Lane | None = None
        self._queue: Lane | None = None
        self._unanswered = 0
        self.outcomes = OutcomeWatcher(binding.where)
        self.stats = GovernorStats()

    # --- entry points ----------------------------------------------------------------------
    async def send(self, command: Command) -> CommandResult:
        """Send ``command`` through every step; returns the (last line's) result."""
        b = self._binding
        if command.robot_only and b.sender.profile == "kryten-robot":
            stored = await read_stored(
                b.sender.transport, command, domain=b.domain, channel=b.channel
            )
            if stored is not None:
                return stored
        if isinstance(command, SendChat):
            parts = self._split(command)
            if not self._config.chat.pace and not self._chat:
                # no governor: each line goes straight out, in order (the lean path)
                result = None
                for part in parts:
                    result = await self._deliver_direct(part)
                assert result is not None
                return result
            lane = self._lane("chat")
            lane.reserve(len(parts))
            futures = [lane.submit(part) for part in parts]
            results = await asyncio.gather(*futures)
            return results[-1]
        if isinstance(command, AddMedia):
            lane = self._lane("queue")
            lane.reserve(1)
            return await lane.submit(command)
        if command.robot_command in _CHAT_LANE_COMMANDS and self._uses_chat_limiter(command):
            lane = self._lane("chat")
            lane.reserve(1)
            return await lane.submit(command)
        return await self._deliver_direct(command)

    async def _deliver_direct(self, command: Command) -> CommandResult:
        """Deliver outside the lanes; a flood refusal is waited out in place."""
        attempt = 1
        while True:
            try:
                return await self._deliver(command, attempt)
            except Throttled as throttled:
                attempt += 1
                await sleep_on(self._binding.clock, throttled.pause)

    async def query(self, command: Command, *, timeout: float) -> CommandResult:  # noqa: ASYNC109
        """Ask the bridge directly (probes): no pacing, no waiting for the bridge or rank."""
        b = self._binding
        try:
            result = await b.sender.send(
                command, domain=b.domain, channel=b.channel, timeout=timeout, counted=False
            )
        except NoResponders:
            b.link.mark_down("no bridge answered")
            raise
        b.link.mark_up()
        return result

    async def close(self, timeout: float) -> None:  # noqa: ASYNC109 - a shutdown deadline
        """Send what the lanes hold (each line waits for CyTube's answer, and one dropped
        for flooding goes again), within ``timeout`` seconds; then cancel what is left."""
        for lane in (self._chat, self._queue):
            if lane is not None:
                await lane.close(timeout)

    @property
    def chat_limit(self) -> int:
        """Longest chat line of this channel (``chat_max_length``); longer text is split."""
        return self._binding.sender.chat_max_length

    @property
    def queued(self) -> int:
        """Lines waiting in this channel's lanes."""
        return sum(len(lane) for lane in (self._chat, self._queue) if lane is not None)

    # --- the steps ---------------------------------------------------------------------------
    async def _deliver(self, command: Command, attempt: int) -> CommandResult:
        b = self._binding
        deadline = time.monotonic() + self._config.bridge.wait_timeout
        while True:
            await self._ready(command, deadline)
            # expected before it is sent: CyTube's answer may overtake the bridge's reply
            expectation = self._expect(command)
            try:
                result = await b.sender.send(command, domain=b.domain, channel=b.channel)
            except NoResponders as error:
                self._forget(expectation)
                b.link.mark_down("no bridge answered a request")
                if self._config.bridge.down_policy == "fail":
                    raise self._unavailable("no bridge answers its requests") from error
                continue
            except CommandRejected as error:
                self._forget(expectation)
                if error.reason == QUEUE_TOO_FAST and attempt <= self._config.chat.max_resends:
                    raise Throttled(self._queue_limit().interval) from None
                raise
            except BaseException:
                self._forget(expectation)
                raise
            b.link.mark_up()
            b.counters.commands_sent += 1
            if expectation is not None:
                expectation.sent_at = b.clock.now()  # accepted: its window starts now
            return await self._verdict(command, result, expectation, attempt)

    def _expect(self, command: Command) -> Expectation | None:
        rule = rule_for(command)
        if rule is None:
            return None
        if isinstance(command, SendChat) and not self._config.chat.pace:
            return None  # waiting for the echo is part of pacing
        self.outcomes.prune(self._binding.clock.now() - self._config.outcome_window)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        future.add_done_callback(self._answered)
        expectation = Expectation(command, rule, future)
        self.outcomes.expect(expectation)
        self._binding.routine = False  # the router must look for CyTube's answer
        return expectation

    def _answered(self, future: asyncio.Future[Answer]) -> None:
        if not future.cancelled():
            self._unanswered = 0  # CyTube's answers do reach this bot

    def _forget(self, expectation: Expectation | None) -> None:
        if expectation is not None:
            self.outcomes.discard(expectation)

    async def _ready(self, command: Command, deadline: float) -> None:
        b = self._binding
        if b.link.is_down:
            if self._config.bridge.down_policy == "fail":
                raise self._unavailable("its bridge is down")
            if not await b.link.wait_up(deadline - time.monotonic()):
                raise self._unavailable(
                    f"its bridge did not come back within bridge.wait_timeout="
                    f"{self._config.bridge.wait_timeout:g}s"
                )
        join = b.join
        needed = required_rank(command, b.state)
        if not join.settled:  # while (re)joining nothing is sent: CyTube would drop it
            settled = await join.wait_settled(max(0.0, deadline - time.monotonic()))
            if not settled:
                raise self._refuse(
                    command,
                    f"the bot has not finished (re)joining {b.where} within "
                    f"bridge.wait_timeout={self._config.bridge.wait_timeout:g}s "
                    f"({'not logged in yet' if not join.logged_in else 'rank not settled'})",
                    "not logged in" if not join.logged_in else "rank not settled",
                )
        rank = b.state.rank
        if rank is not None and rank < needed:
            if rank < 0:
                why = "not logged in"
                text = (
                    f"{command.robot_command} needs channel rank {needed:g} but the "
                    f"bot is not logged in to {b.where}; check the bridge's account"
                )
            else:
                why = "insufficient rank"
                text = (
                    f"{command.robot_command} needs channel rank {needed:g} but the "
                    f"bot has rank {rank:g} in {b.where} (CyTube would ignore it or kick "
                    "the bot); promote the bot's account or do not send this command"
                )
            raise self._refuse(command, text, why)
        problem = precheck(command, b.state)
        if problem is not None:
            raise self._refuse(command, f"{problem} in {b.where}", problem)

    async def _verdict(
        self,
        command: Command,
        result: CommandResult,
        expectation: Expectation | None,
        attempt: int,
    ) -> CommandResult:
        if expectation is None:
            return result
        if self._unanswered >= _UNANSWERED_LIMIT:
            return result  # followed, not awaited: see _UNANSWERED_LIMIT
        expectation.awaited = True
        if isinstance(result, AddMediaResult) and result.uid is not None:
            self._forget(expectation)  # the bridge itself waited for CyTube's ``queue``
            return result.model_copy(update={"confirmed": True})
        try:
            async with asyncio.timeout(self._config.outcome_window):
                answer = await expectation.future
        except TimeoutError:
            self._forget(expectation)
            self._unanswered += 1
            return result.model_copy(update={"confirmed": False})
        except BaseException:
            # cancelled while waiting: a stale expectation would take a later command's answer
            self._forget(expectation)
            raise
        if answer.verdict == Verdict.CONFIRMED:
            return result.model_copy(update={"confirmed": True})
        if answer.verdict == Verdict.THROTTLED and attempt <= self._config.chat.max_resends:
            # the lane sends it again after the pause, before any later line
            raise Throttled(max(answer.pause, self._limit_for(command).interval))
        if answer.verdict == Verdict.THROTTLED:
            self.stats.lines_dropped += 1
        raise rejection(command, answer.text, answer.payload, self._binding.where)

    # --- helpers -----------------------------------------------------------------------------
    def _split(self, command: SendChat) -> list[SendChat]:
        limit = self._binding.sender.chat_max_length
        if utf16_length(command.text) <= limit:
            return [command]
        data = command.model_dump(by_alias=True)
        if command.as_command or not self._config.chat.split:
            SendChat.build(data, max_chat_length=limit)  # raises, naming the limit
        # room for "/me " and for the invisible prefix a part starting with "/" gets
        room = limit - (utf16_length(command.text) - utf16_length(command.message)) - 1
        parts = split_chat(command.message, room)
        self.stats.lines_split += len(parts) - 1
        return [SendChat.build({**data, "message": part}, max_chat_length=limit) for part in parts]

    def _lane(self, kind: str) -> Lane:
        lane = self._chat if kind == "chat" else self._queue
        if lane is None:
            chat = self._config.chat
            lane = Lane(
                name=kind,
                channel=self._binding.where,
                send=self._deliver,
                limit_for=self._limit_for,
                clock=self._binding.clock,
                queue_limit=chat.queue_limit,
                margin=chat.pace_margin,
                stats=self.stats,
                pace=chat.pace,
                cost_of=_limiter_cost,
            )
            if kind == "chat":
                self._chat = lane
            else:
                self._queue = lane
        return lane

    def _limit_for(self, command: Command) -> Limit:
        if isinstance(command, AddMedia):
            return self._queue_limit()
        if isinstance(command, SendChat) and not command.as_command:
            antiflood = self._binding.state.chat_antiflood()
            if antiflood is not None:
                return Limit(*antiflood)
        return CHAT_LIMIT

    def _queue_limit(self) -> Limit:
        rank = self._binding.state.rank
        return QUEUE_LIMIT_MODERATOR if rank is not None and rank >= 2 else QUEUE_LIMIT

    def _uses_chat_limiter(self, command: Command) -> bool:
        # kryten-robot turns kick/ban/mute/smute into chat commands; PMs share the limiter
        return isinstance(command, SendPM) or self._binding.sender.profile == "kryten-robot"

    def _unavailable(self, why: str) -> BridgeUnavailable:
        where = self._binding.where
        return BridgeUnavailable(
            f"not sent to {where}: {why}. Nothing was delivered; retry later, or set "
            "bridge.down_policy: wait to hold commands until the bridge is back",
            channel=where,
        )

    def _refuse(self, command: Command, text: str, why: str) -> CommandRejected:
        self._binding.sender.stats.rejected += 1
        return CommandRejected(
            text, command=command.robot_command, reason=why, reply=None, source="bot"
        )
