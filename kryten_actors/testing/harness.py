"""BotHarness: a real ``Bot`` on an in-memory bus with virtual time, for bot tests.

::

    async with BotHarness(Greeter, channels=["lounge"]) as h:
        await h.emit("lounge", "chatMsg", {"username": "alice", "msg": "!hi", "time": 0})
        assert [c.payload["message"] for c in h.sent] == ["hi alice"]

Events are encoded exactly as the bridge sends them (``RawEvent`` envelope on the
profile's event subject) and go through the bot's real router, supervision tree and
command encoder; ``sent`` decodes what reached the bus. Time is a
:class:`~kryten_actors.runtime.VirtualClock` handed to the bot: timers, restart backoff
and handler latencies move only when :meth:`BotHarness.advance` is called.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, TypeAlias

from kryten_actors.bot.actor_loader import ActorChoice
from kryten_actors.bot.app import Bot
from kryten_actors.bot.health import HealthStatus
from kryten_actors.config import KrytenConfig, load_config
from kryten_actors.errors import KrytenError, KrytenValidationError
from kryten_actors.protocol.events import RawEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.runtime import DeadLetters, VirtualClock
from kryten_actors.testing.bridge import FakeBridge
from kryten_actors.testing.quiescence import Quiescence
from kryten_actors.testing.sent import SentCommand, decode_sent
from kryten_actors.transport.memory import MemoryTransport

__all__ = ["DEFAULT_DOMAIN", "BotHarness", "HarnessFactory"]

DEFAULT_DOMAIN: Final = "cytu.be"
_MAX_ROUNDS: Final = 1000


class BotHarness:
    """Runs ``actor`` in a real :class:`Bot` on a :class:`MemoryTransport` and a virtual clock.

    ``channels`` are channel names on ``domain`` (or ``"domain/channel"``); ``profile`` is
    ``"seed"`` or ``"kryten-robot"``; ``settings`` are extra top-level config entries
    (``{"supervision": {"max_restarts": 1}}``). Pass ``config`` (a ``KrytenConfig``, a
    mapping or a file path) instead to use a whole config as it is. In the
    ``kryten-robot`` profile a :class:`FakeBridge` answers every command with success
    unless ``bridge=False``. ``timeout`` (real seconds) bounds every wait.

    ``async with`` starts the bot and returns once events can flow; leaving it stops
    the bot gracefully and closes the bus. ``close()`` does the same and is idempotent.
    """

    def __init__(
        self,
        actor: ActorChoice = None,
        *,
        channels: Sequence[str] | None = None,
        profile: str = "seed",
        domain: str = DEFAULT_DOMAIN,
        settings: Mapping[str, Any] | None = None,
        config: KrytenConfig | Mapping[str, Any] | str | Path | None = None,
        bridge: bool = True,
        timeout: float = 5.0,
    ) -> None:
        if config is not None and (channels is not None or settings is not None):
            raise KrytenValidationError(
                "give BotHarness either config= or channels=/settings=, not both",
                [("config", "conflicts with channels/settings")],
            )
        if config is None:
            config = _config_dict(channels or ["lounge"], profile, domain, settings or {})
        self.config = load_config(config)
        self.clock = VirtualClock()
        self.transport = MemoryTransport()
        self.bot = Bot(self.config, actor=actor, transport=self.transport, clock=self.clock)
        self.bridge = FakeBridge(clock=self.clock)  # CyTube's limiter on the virtual clock too
        self._quiescence = Quiescence(self.bot.system, self.clock)
        self._use_bridge = bridge and self.config.profile == "kryten-robot"
        self._timeout = timeout
        self._scheme = scheme_for(self.config.profile)
        self._state = "created"

    # --- lifecycle ---------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Connect the bus, start the fake bridge (kryten-robot) and the bot."""
        if self._state != "created":
            raise KrytenError("a BotHarness starts once; create a new one for another run")
        self._state = "running"
        try:
            await self.transport.connect()
            if self._use_bridge:
                await self.bridge.attach(self.transport)
            await self.bot.start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Stop the bot (mailboxes drain), the fake bridge and the bus. Idempotent."""
        if self._state == "closed":
            return
        self._state = "closed"
        try:
            await self.bot.stop()
        finally:
            self._quiescence.close()
            await self.bridge.detach()
            await self.transport.close()

    # --- driving the bot ---------------------------------------------------------------
    async def emit(
        self,
        channel: str | RawEvent,
        event_name: str | None = None,
        payload: Any = None,
        *,
        domain: str | None = None,
        **fields: Any,
    ) -> RawEvent:
        """Publish ``event_name`` for ``channel`` as the bridge would; wait until handled.

        The payload is ``payload``, or the keyword ``fields``
        (``emit("lounge", "setAFK", name="alice", afk=True)``); a typed or raw event may
        be given whole instead (``emit(ChatMessageEvent(...))``). ``domain`` defaults to
        the configured domain of ``channel`` (else the first channel's). Returns the
        envelope that was published. Handler failures do not raise here: they are actor
        failures (see :meth:`health` and ``dead_letters``).
        """
        self._require_running("emit")
        if isinstance(channel, RawEvent):
            event = channel
        else:
            if event_name is None:
                raise KrytenValidationError(
                    "emit() needs an event name after the channel, or a whole event",
                    [("event_name", "missing")],
                )
            if fields and payload is not None:
                raise KrytenValidationError(
                    "give emit() a payload or keyword fields, not both",
                    [("payload", "conflicts with the keyword fields")],
                )
            event = RawEvent(
                event_name=event_name,
                payload=dict(fields) if fields else payload,
                channel=channel,
                domain=domain or self._domain_of(channel),
            )
        subject = self._scheme.event_subject(event.domain, event.channel, event.event_name)
        await self.transport.publish(subject, event.to_bytes())
        await self.idle()
        return event

    async def say(self, channel: str, user: str, text: str, **meta: Any) -> RawEvent:
        """``user`` says ``text`` in ``channel`` (a ``chatMsg``, HTML-escaped as CyTube
        sends it); waits until it is handled. ``meta`` is CyTube's message meta."""
        return await self.emit(channel, "chatMsg", _line(user, text, meta))

    async def pm(self, channel: str, user: str, text: str, *, to: str = "bot") -> RawEvent:
        """``user`` sends ``text`` to ``to`` (the bot) by private message in ``channel``."""
        return await self.emit(channel, "pm", {**_line(user, text, {}), "to": to})

    async def idle(self) -> None:
        """Wait until the bus has delivered everything and every mailbox is drained.

        An actor waiting out its restart backoff cannot progress until virtual time
        moves: events queued for it stay queued (``advance()`` past the backoff, which
        is ``supervision.min_backoff`` ±``jitter`` for a first failure, to have them
        handled). Raises :class:`~kryten_actors.errors.KrytenTimeoutError` after
        ``timeout`` real seconds when a handler is stuck.
        """
        self._require_running("idle")
        await asyncio.sleep(0)  # a task the test just created (a send) starts first
        for _ in range(_MAX_ROUNDS):
            before = len(self.transport.published)
            await self.transport.settle(self._timeout)
            await self._quiescence.wait(self._timeout)
            await self.transport.settle(self._timeout)
            if len(self.transport.published) == before:
                return
        raise KrytenError(
            f"the bot kept publishing through {_MAX_ROUNDS} rounds of idle(); "
            "is a handler answering its own commands in a loop?"
        )

    async def advance(self, seconds: float) -> None:
        """Move virtual time forward by ``seconds`` and wait for the work it causes.

        Timers fire one due time after another, and the bot settles after each, so a
        timer set by work an earlier timer caused still fires within the same window
        (an ``every(10, ...)`` fires three times in ``advance(30)``). No real time passes.
        """
        self._require_running("advance")
        if seconds < 0:
            raise KrytenValidationError(
                f"time only moves forward; advance({seconds}) is negative",
                [("seconds", "must be >= 0")],
            )
        target = self.clock.now() + seconds
        await self.idle()
        while (due := self.clock.next_due) is not None and due <= target:
            self.clock.advance(max(0.0, due - self.clock.now()))
            await self.idle()
        self.clock.advance(max(0.0, target - self.clock.now()))
        await self.idle()

    # --- what happened -----------------------------------------------------------------
    @property
    def sent(self) -> list[SentCommand]:
        """Every command the bot put on the bus so far, decoded, oldest first."""
        return decode_sent(self.transport.published, max_chat_length=self.config.chat_max_length)

    def clear_sent(self) -> None:
        """Forget the recorded traffic (``sent`` starts empty again)."""
        self.transport.clear()

    @property
    def dead_letters(self) -> DeadLetters:
        """The bot's dead letters (``recent`` letters and ``counts`` by reason)."""
        return self.bot.system.dead_letters

    def health(self) -> HealthStatus:
        """The bot's health report (per-actor state, restarts, failures, dead letters)."""
        return self.bot.health()

    @property
    def now(self) -> float:
        """Current virtual time in seconds."""
        return self.clock.now()

    # --- the fake bridge (kryten-robot profile) ----------------------------------------
    def reply_with(self, command: str, data: Mapping[str, Any]) -> None:
        """Make the fake bridge answer ``command`` with success and ``data`` from now on."""
        self._require_bridge("reply_with")
        self.bridge.reply_with(command, data)

    def fail(self, command: str, error: str) -> None:
        """Make the fake bridge refuse ``command`` with ``error`` (``CommandRejected``)."""
        self._require_bridge("fail")
        self.bridge.fail(command, error)

    # --- internals ---------------------------------------------------------------------
    def _domain_of(self, channel: str) -> str:
        wanted = channel.lower()
        for ch in self.config.channels:
            if ch.channel.lower() == wanted:
                return ch.domain
        if self.config.channels:
            return self.config.channels[0].domain
        return DEFAULT_DOMAIN

    def _require_running(self, what: str) -> None:
        if self._state != "running":
            raise KrytenError(
                f"{what}() needs a running harness; use `async with BotHarness(...) as h:`"
            )

    def _require_bridge(self, what: str) -> None:
        if not self._use_bridge:
            why = (
                "seed commands are fire-and-forget and get no reply"
                if self.config.profile == "seed"
                else "the harness was created with bridge=False"
            )
            raise KrytenValidationError(
                f"{what}() configures the fake kryten-robot bridge, but {why}; "
                "use profile='kryten-robot' with the default bridge=True",
                [("profile", self.config.profile)],
            )


HarnessFactory: TypeAlias = Callable[..., BotHarness]
"""The ``bot_harness`` fixture: ``bot_harness(actor, **BotHarness options)`` → a harness."""


def _line(user: str, text: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "username": user,
        "msg": html.escape(text),
        "meta": dict(meta),
        "time": int(time.time() * 1000),
    }


def _config_dict(
    channels: Sequence[str], profile: str, domain: str, settings: Mapping[str, Any]
) -> dict[str, Any]:
    entries: list[dict[str, str]] = []
    for name in channels:
        host, sep, channel = name.rpartition("/")
        entries.append({"domain": host if sep else domain, "channel": channel})
    # the fake bridge answers what a test scripts; start-up probes would only add noise
    config: dict[str, Any] = {
        "profile": profile,
        "channels": entries,
        "bridge": {"probe_on_start": False, "announce": False},
        # CyTube's answers come from the memory bus at once, if at all
        "outcome_window": 0.05,
        # a short-lived test bot gains nothing from freezing the heap, and each freeze
        # costs a full collection of the test process
        "gc_freeze": False,
    }
    config.update(settings)
    return config
