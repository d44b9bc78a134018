"""A simulated kryten-robot bridge: realistic CyTube traffic for many channels, no CyTube needed.

:class:`SimulatedBridge` publishes, for every configured channel, the envelopes the real
bridge would publish — byte-for-byte the same shape (:class:`RawEvent` serialization, subject
tokens lowercased, ``event_name`` case kept): first the join burst, then chat, joins and
leaves, AFK changes, ``mediaUpdate`` about every 5 s and media changes. It also takes
commands: in the ``kryten-robot`` profile it answers ``kryten.robot.command`` requests as
kryten-robot 1.12.6 does (reference §6 to §8); in the ``seed`` profile it applies the
fire-and-forget publishes on ``cytube.commands.>``. Commands change the simulated channel and
show up as the events CyTube would send (``say`` → a ``chatMsg`` from the bot), including
CyTube's flood control (``cooldown``, ``queueFail``) and refusals. In the ``kryten-robot``
profile it announces itself on ``kryten.lifecycle.robot.*``; :meth:`SimulatedBridge.restart`
replays each channel's recent chat after ``rank -1``, as a real rejoin does.

Timing uses one scheduler task per channel sleeping on the event loop: it is a load
generator, not a clock anyone waits on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from types import TracebackType
from typing import Any, Final, Self

from kryten_actors.demo.command_table import seed_action
from kryten_actors.demo.crowd import Crowd
from kryten_actors.demo.effect import Effect
from kryten_actors.demo.lifecycle import BridgeProcess
from kryten_actors.demo.outcome import ActionOutcome
from kryten_actors.demo.queries import BridgeFacts
from kryten_actors.demo.robot_requests import action_reply, judge_request
from kryten_actors.demo.say import SAY_PREFIX, SayReply, answer_say
from kryten_actors.demo.scenario import ChannelState
from kryten_actors.demo.traffic import BridgeStats, ChannelTraffic
from kryten_actors.errors import KrytenError, KrytenTimeoutError, KrytenValidationError
from kryten_actors.protocol.raw_event import RawEvent
from kryten_actors.protocol.subjects import (
    ROBOT_COMMAND_SUBJECT,
    SEED_COMMAND_PREFIX,
    scheme_for,
)
from kryten_actors.transport.base import InboundMessage, Subscription, Transport

__all__ = ["MEDIA_UPDATE_SECONDS", "SimulatedBridge"]

log = logging.getLogger(__name__)

MEDIA_UPDATE_SECONDS: Final = 5.0
"""CyTube sends ``mediaUpdate`` about this often while something plays."""
_CATCH_UP_LIMIT: Final = 1.0
"""A channel that fell this many seconds behind its schedule skips ahead instead of bursting."""


def _invalid(message: str, field: str) -> KrytenValidationError:
    return KrytenValidationError(message, [(field, message)])


class SimulatedBridge:
    """Publishes simulated CyTube traffic for ``channels`` and answers commands like the bridge.

    ``channels`` are ``(domain, channel)`` pairs with distinct channel names;
    ``events_per_second`` is the crowd's activity rate per channel (join bursts, media
    updates and command effects come on top); ``seed`` makes the crowd's choices repeatable;
    on ``crash_channel`` someone says ``!crash`` every ``crash_every`` seconds. Use it as an
    async context manager, or call :meth:`start` and :meth:`stop`.

    The transport must be connected; the bridge never closes it. Invalid arguments raise
    :class:`KrytenValidationError` naming the argument.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        profile: str,
        channels: Sequence[tuple[str, str]],
        events_per_second: float = 20.0,
        seed: int | None = None,
        crash_channel: str | None = None,
        crash_every: float = 4.0,
        bot_name: str = "KrytenBot",
        stop_timeout: float = 5.0,
    ) -> None:
        self._scheme = scheme_for(profile)
        self.profile = profile
        if not channels:
            raise _invalid("channels is empty; give at least one (domain, channel)", "channels")
        names = [channel for _, channel in channels]
        if len({name.lower() for name in names}) != len(names):
            raise _invalid(f"channel names must be distinct, got {names}", "channels")
        if not (events_per_second > 0 and math.isfinite(events_per_second)):
            raise _invalid("events_per_second must be a positive number", "events_per_second")
        if not crash_every > 0:
            raise _invalid("crash_every must be a positive number of seconds", "crash_every")
        self._crash_channel = self._resolve_crash_channel(crash_channel, names)
        self._transport = transport
        self._rate = events_per_second
        self._crash_every = crash_every
        self._stop_timeout = stop_timeout
        # Simulated data, not security: a seeded PRNG is the point (repeatable demos).
        self._rng = random.Random(seed)  # noqa: S311
        self._channel_rngs: dict[str, random.Random] = {}
        self._states: dict[str, ChannelState] = {}
        for domain, channel in channels:
            rng = random.Random(self._rng.getrandbits(64))  # noqa: S311 - see above
            self._channel_rngs[channel] = rng
            self._states[channel] = ChannelState.create(domain, channel, bot_name=bot_name, rng=rng)
        self.stats = BridgeStats({name: ChannelTraffic() for name in names})
        self._facts = {name: BridgeFacts(started=time.monotonic()) for name in names}
        # One lock for "change state, then publish its events": keeps each group of events
        # (setCurrent + changeMedia, queue + setPlaylistMeta) contiguous and in state order.
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscription: Subscription | None = None
        self._say_subscription: Subscription | None = None
        self._bot_name = bot_name
        self._process = BridgeProcess(transport, announces=profile == "kryten-robot")
        self._where = list(channels)

    @staticmethod
    def _resolve_crash_channel(crash_channel: str | None, names: list[str]) -> str | None:
        if crash_channel is None:
            return None
        for name in names:
            if name.lower() == crash_channel.lower():
                return name
        raise _invalid(
            f"crash_channel {crash_channel!r} is not one of the channels {names}", "crash_channel"
        )

    @property
    def states(self) -> Mapping[str, ChannelState]:
        """The simulated state of each channel, keyed by channel name (read only)."""
        return self._states

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return bool(self._tasks)

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Subscribe to commands, announce the bridge, then start every channel (join burst
        first). Idempotent."""
        if self._tasks:
            return
        await self._take_commands()
        self._say_subscription = await self._transport.subscribe(
            f"{SAY_PREFIX}.*", lambda msg: answer_say(self, msg)
        )
        await self._process.up(self._where)
        for name, state in self._states.items():
            self._facts[name].started = time.monotonic()
            task = asyncio.create_task(self._run_channel(state), name=f"simulated-bridge:{name}")
            task.add_done_callback(self._report_failure)
            self._tasks.append(task)

    @staticmethod
    def _report_failure(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s stopped", task.get_name(), exc_info=task.exception())

    async def stop(self) -> None:
        """Stop taking commands, cancel every channel task and wait for them. Idempotent.

        Raises :class:`KrytenTimeoutError` if a task does not end within ``stop_timeout``
        seconds, and re-raises (as :class:`KrytenError`) the first failure of a channel task,
        e.g. a :class:`~kryten_actors.errors.PublishError` because the transport closed first.
        """
        if self._tasks:
            with suppress(KrytenError):  # the transport may be closed already
                await self._process.down()
        tasks, self._tasks = self._tasks, []
        subscriptions = (self._subscription, self._say_subscription)
        self._subscription = self._say_subscription = None
        try:
            for subscription in subscriptions:
                if subscription is not None:
                    await subscription.unsubscribe()
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=self._stop_timeout)
                if pending:
                    names = sorted(task.get_name() for task in pending)
                    msg = (
                        f"simulated channels did not stop within {self._stop_timeout:g} s: {names}"
                    )
                    raise KrytenTimeoutError(msg)
        for task in tasks:
            if not task.cancelled() and (exc := task.exception()) is not None:
                msg = f"{task.get_name()} failed: {exc}; see the cause for details"
                raise KrytenError(msg) from exc

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- the bridge process restarting ---------------------------------------------------
    async def go_down(self) -> None:
        """The bridge process stops: ``disconnected`` + ``shutdown``; commands go unanswered
        (no responder) until :meth:`come_back`. Channel activity goes on."""
        async with self._lock:
            await self._process.down()
            subscription, self._subscription = self._subscription, None
            if subscription is not None:
                await subscription.unsubscribe()

    async def come_back(self) -> None:
        """A new bridge process: takes commands, announces itself and rejoins every channel
        — ``rank -1``, the replayed chat history, the join data, the real rank."""
        async with self._lock:
            self._process.renew()
            if self._subscription is None:
                await self._take_commands()
            await self._process.up(self._where)
            for state in self._states.values():
                await self._publish(state, state.join_burst())

    async def restart(self) -> None:
        """:meth:`go_down` then :meth:`come_back` (kryten-robot restarted by systemd)."""
        await self.go_down()
        await self.come_back()

    async def _take_commands(self) -> None:
        if self.profile == "kryten-robot":
            handler, subject = self._on_robot_command, ROBOT_COMMAND_SUBJECT
        else:
            handler, subject = self._on_seed_command, f"{SEED_COMMAND_PREFIX}.>"
        self._subscription = await self._transport.subscribe(subject, handler)

    @property
    def transport(self) -> Transport:
        """The transport the bridge publishes on."""
        return self._transport

    async def say(self, channel: str, user: str, text: str) -> SayReply:
        """``user`` says ``text`` in ``channel`` (joining first if absent), as in CyTube.

        Raises :class:`KrytenValidationError` for a channel the bridge does not simulate.
        """
        state = next((s for s in self._states.values() if s.channel.lower() == channel), None)
        if state is None:
            known = ", ".join(self._states)
            raise _invalid(f"no channel {channel!r} here; the bridge has {known}", "channel")
        async with self._lock:
            effects = [] if user in state.users else state.join(user, 1, self._rng)
            await self._publish(state, [*effects, *state.chat(user, text)])
        subject = self._scheme.event_subject(state.domain, state.channel, "chatMsg")
        return SayReply(bot=self._bot_name, chat_subject=subject)

    # -- publishing ----------------------------------------------------------------------
    async def _publish_event(self, state: ChannelState, effect: Effect) -> RawEvent:
        event = RawEvent(
            event_name=effect.event_name,
            payload=effect.payload,
            channel=state.channel,
            domain=state.domain,
        )
        subject = self._scheme.event_subject(state.domain, state.channel, effect.event_name)
        await self._transport.publish(subject, event.to_bytes())
        self.stats.channels[state.channel].events_published += 1
        self._facts[state.channel].events_published += 1
        return event

    async def _publish(self, state: ChannelState, effects: Sequence[Effect]) -> None:
        for effect in effects:
            await self._publish_event(state, effect)

    async def _publish_outcome(self, state: ChannelState, outcome: ActionOutcome) -> dict[str, Any]:
        """Publish an action's events; returns its reply data (with the envelope, if any)."""
        await self._publish(state, outcome.effects)
        data = dict(outcome.data)
        if outcome.envelope_key is not None and outcome.envelope_effect is not None:
            event = await self._publish_event(state, outcome.envelope_effect)
            data[outcome.envelope_key] = event.to_dict()
        return data

    # -- channel activity ----------------------------------------------------------------
    async def _run_channel(self, state: ChannelState) -> None:
        loop = asyncio.get_running_loop()
        rng = self._channel_rngs[state.channel]
        crowd = Crowd(state, rng)
        async with self._lock:
            await self._publish(state, state.join_burst())
        now = loop.time()
        next_activity = now + rng.expovariate(self._rate)
        last_media = now
        next_media = now + MEDIA_UPDATE_SECONDS
        crashing = state.channel == self._crash_channel
        next_crash = now + self._crash_every if crashing else math.inf
        while True:
            # sleep(0) when already due still yields, so a high rate cannot starve the loop.
            await asyncio.sleep(max(0.0, min(next_activity, next_media, next_crash) - loop.time()))
            now = loop.time()
            effects: list[Effect] = []
            if now >= next_media:
                effects += state.playlist.tick(now - last_media)
                last_media, next_media = now, now + MEDIA_UPDATE_SECONDS
            if now >= next_crash:
                effects += crowd.crash()
                next_crash += self._crash_every
            if now >= next_activity:
                effects += crowd.next_activity()
                next_activity = max(next_activity, now - _CATCH_UP_LIMIT)
                next_activity += rng.expovariate(self._rate)
            if effects:
                async with self._lock:
                    await self._publish(state, effects)

    # -- commands ------------------------------------------------------------------------
    async def _on_robot_command(self, msg: InboundMessage) -> None:
        states = list(self._states.values())
        async with self._lock:
            verdict = judge_request(msg.data, states, self._facts, self._rng)
            state = verdict.state
            if state is None:
                self.stats.unaddressed_commands += 1
                return
            traffic = self.stats.channels[state.channel]
            traffic.commands_received += 1
            replies = list(verdict.replies)
            outcome = verdict.outcome
            learned = False
            if outcome is not None:
                # The bridge learns a uid or an envelope from CyTube's event before replying;
                # everything else is replied to at once and CyTube's echo follows.
                learned = outcome.envelope_key is not None or "uid" in outcome.data
                if learned:
                    data = await self._publish_outcome(state, outcome)
                    replies.append(action_reply(verdict.command, data))
                else:
                    replies.append(action_reply(verdict.command, outcome.data))
        if not replies:
            traffic.commands_ignored += 1
        elif msg.reply:
            for body in replies:
                await self._transport.publish(msg.reply, json.dumps(body).encode("utf-8"))
            traffic.commands_answered += 1
        if outcome is not None and not learned:
            async with self._lock:
                await self._publish_outcome(state, outcome)

    def _seed_target(self, subject: str, body: Mapping[str, Any]) -> ChannelState | None:
        domain, channel = body.get("domain"), body.get("channel")
        if isinstance(channel, str):
            for state in self._states.values():
                if state.channel.lower() == channel.lower() and domain in (None, state.domain):
                    return state
            return None
        token = subject.split(".")[2] if subject.count(".") >= 3 else ""
        return next((s for s in self._states.values() if s.channel.lower() == token), None)

    async def _on_seed_command(self, msg: InboundMessage) -> None:
        try:
            body = json.loads(msg.data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            log.warning("ignored a seed command on %s: the body is not a JSON object", msg.subject)
            self.stats.unaddressed_commands += 1
            return
        state = self._seed_target(msg.subject, body)
        if state is None:
            self.stats.unaddressed_commands += 1
            return
        traffic = self.stats.channels[state.channel]
        traffic.commands_received += 1
        name = body.get("action") or msg.subject.rsplit(".", 1)[-1]
        action = seed_action(str(name))
        payload = body.get("payload", body.get("data")) or {}
        if action is None or not isinstance(payload, Mapping):
            log.warning("ignored seed command %r for %s: unknown or malformed", name, state.channel)
            traffic.commands_ignored += 1
            return
        async with self._lock:
            try:
                outcome = action(state, payload, self._channel_rngs[state.channel])
            except (TypeError, ValueError) as exc:  # KrytenValidationError is a ValueError
                log.warning("ignored seed command %r for %s: %s", name, state.channel, exc)
                traffic.commands_ignored += 1
                return
            await self._publish_outcome(state, outcome)
        traffic.commands_answered += 1
