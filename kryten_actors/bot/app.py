"""The Bot: builds the supervision tree from a config, runs it, shuts it down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from kryten_actors.bot.actor_loader import ActorChoice
from kryten_actors.bot.actor_source import ActorSource
from kryten_actors.bot.channels import ChannelActors
from kryten_actors.bot.dead_letter_feed import DeadLetterFeed
from kryten_actors.bot.health import HealthStatus, HealthSummary, package_version
from kryten_actors.bot.health_report import HealthReporter
from kryten_actors.bot.heap_freeze import HeapFreeze
from kryten_actors.bot.jetstream import JetStreamDelivery, boot_channels, start_jetstream
from kryten_actors.bot.lifecycle import BridgeMonitor
from kryten_actors.bot.observers import observe_runtime
from kryten_actors.bot.outbox import ChannelOutbox
from kryten_actors.bot.profile_check import ProfileCheck, ProfileMismatch
from kryten_actors.bot.router import RouterActor, RouterStats
from kryten_actors.bot.sender import CommandSender
from kryten_actors.bot.service import start_bot_service
from kryten_actors.bot.shutdown_signals import ShutdownSignals
from kryten_actors.bot.task_leaks import DETECTOR as LEAKS
from kryten_actors.bot.watchers import start_watchers
from kryten_actors.config import KrytenConfig, load_config
from kryten_actors.errors import KrytenConnectionError, KrytenError, KrytenValidationError
from kryten_actors.observability.instrumentation import (
    Instrumentation,
    instrumentation_from_config,
)
from kryten_actors.observability.logs import (
    configure_logging,
    flush_repeated_warnings,
    limit_repeated_warnings,
)
from kryten_actors.protocol.commands import Command, encoder_for
from kryten_actors.protocol.results import CommandResult
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.runtime import (
    ActorRef,
    ActorState,
    ActorSystem,
    ChildSpec,
    Clock,
    RestartType,
    Strategy,
    SupervisionPolicy,
)
from kryten_actors.transport.base import RetryPolicy, Transport
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_service import HealthService

__all__ = ["Bot"]

log = logging.getLogger("kryten_actors.bot")
ROUTER = "router"


class Bot:
    """A multi-channel bot: one supervised ``ChannelActor`` per channel, one router.

    ``Bot(config, actor=Greeter)`` — ``config`` is a ``KrytenConfig``, a dict or a
    path to a JSON/YAML file; ``actor`` a ``ChannelActor`` subclass, a mapping from
    ``"domain/channel"`` (or ``"channel"``) to one, or omitted to use the config's
    ``actor`` entries (``"module:Class"``). ``async with bot:`` returns once every
    subscription is registered at the server; leaving it shuts down gracefully.
    """

    def __init__(
        self,
        config: KrytenConfig | Mapping[str, Any] | str | Path,
        actor: ActorChoice = None,
        *,
        transport: Transport | None = None,
        clock: Clock | None = None,
        instrumentation: Instrumentation | None = None,
    ) -> None:
        self.config = load_config(config)
        self._owns_transport = transport is None
        self.transport: Transport = transport or NatsTransport(
            self.config.nats,
            retry=RetryPolicy(
                attempts=self.config.retry_attempts,
                initial_backoff=self.config.retry_initial_backoff,
            ),
        )
        self._owns_instrumentation = instrumentation is None
        self.instrumentation: Instrumentation = instrumentation or instrumentation_from_config(
            self.config
        )
        self.scheme = scheme_for(self.config.profile)
        self.sender = CommandSender(
            self.transport,
            encoder_for(self.config.profile),
            source=self.config.service_name,
            command_timeout=self.config.command_timeout,
            instrumentation=self.instrumentation,
            chat_max_length=self.config.chat_max_length,
        )
        sup = self.config.supervision
        self.system = ActorSystem(
            policy=SupervisionPolicy(
                strategy=Strategy(sup.strategy),
                max_restarts=sup.max_restarts,
                within_seconds=sup.within_seconds,
                min_backoff=sup.min_backoff,
                max_backoff=sup.max_backoff,
                jitter=sup.jitter,
                reset_after=sup.reset_after,
            ),
            clock=clock,
            shutdown_timeout=self.config.shutdown_timeout,
        )
        self.router_stats = RouterStats()
        self.channels = ChannelActors(
            config=self.config,
            actor_choice=actor,
            system=self.system,
            scheme=self.scheme,
            sender=self.sender,
            instrumentation=self.instrumentation,
        )
        # resolved eagerly so a bad actor reference fails at construction, not at start
        self.channels.check_actor_classes()
        self.bridges = BridgeMonitor(
            transport=self.transport,
            config=self.config,
            bindings=self.channels.bindings.values,
            clock=self.system.clock,
            version=package_version(),
        )
        self.health_service: HealthService | None = None
        self.health_reporter = HealthReporter(self)
        self.profile_check: ProfileCheck | None = None
        self.dead_letter_feed: DeadLetterFeed | None = None
        self._watches_tasks = False  # installed the debug-mode task leak detector
        self.jetstream: JetStreamDelivery | None = None  # with delivery: jetstream
        self.heap = HeapFreeze()  # gc_freeze: see bot/heap_freeze.py
        self._state = "created"
        self._started_at = 0.0
        self._stop_requested: asyncio.Event | None = None
        self._lifecycle_lock = asyncio.Lock()

    # --- lifecycle -----------------------------------------------------------------------
    async def __aenter__(self) -> Bot:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Connect, build the tree and subscribe; returns when events can flow."""
        async with self._lifecycle_lock:
            if self._state == "stopped":
                raise KrytenError("this Bot has stopped; a Bot runs once, so create a new one")
            if self._state != "created":
                return
            self._state = "starting"
            self._started_at = time.monotonic()
            limit_repeated_warnings()
            self._watches_tasks = LEAKS.install(asyncio.get_running_loop())
            try:
                if self._owns_transport:
                    await self.transport.connect()
                await self.system.start()
                observe_runtime(self.system, self.instrumentation)
                for ch in boot_channels(self.config):  # sharding assigns them itself
                    if self.config.passivate_after is None:
                        await self.channels.start(ch.domain, ch.channel, ch.actor)
                    else:
                        self.channels.add_passive(ch.domain, ch.channel, ch.actor)
                self.channels.start_passivation()
                router = await self.system.spawn(
                    ChildSpec(
                        name=ROUTER,
                        factory=self._make_router,
                        restart=RestartType.PERMANENT,
                        shutdown_timeout=self.config.shutdown_timeout,
                        handler_timeout=None,
                    )
                )
                if router.state is not ActorState.RUNNING:
                    error = router.stats().last_error
                    cause = f"{error.type}: {error.message}" if error else "unknown error"
                    raise KrytenConnectionError(
                        f"could not subscribe to the event subjects ({cause}); check the "
                        "NATS permissions of this user and that the server is reachable"
                    )
                self.jetstream = await start_jetstream(self)
                await self.bridges.start()
                self.channels.on_new_binding = self.bridges.probe
                await start_watchers(self)
                self.health_service = await start_bot_service(self)
            except BaseException:
                await self._teardown()
                raise
            self._state = "running"
            if self.config.gc_freeze:
                self.heap.freeze()

    async def stop(self) -> None:
        """Graceful shutdown: stop taking events, drain mailboxes, flush, disconnect.

        Mailboxes get ``shutdown_timeout`` to drain; whatever is left is cancelled.
        Everything handlers published before this call reaches the server.
        """
        async with self._lifecycle_lock:
            if self._state in {"created", "stopped"}:
                return
            self._state = "stopping"
            await self._teardown()

    async def _teardown(self) -> None:
        try:
            if self.profile_check is not None:
                await self.profile_check.stop()
            self.channels.on_new_binding = None
            if self.jetstream is not None:
                await self.jetstream.stop_fetching()
            await self.bridges.stop()
            # Not started when the first connect failed: nothing to stop, the error stands.
            await self.channels.close()
            if self.system.running:
                # the router first, so no new events arrive while the channels drain
                with contextlib.suppress(KrytenValidationError):
                    await self.system.stop_child(ROUTER)
                await self.system.stop()
            # after the router unsubscribed (a flood behind its subscription would delay
            # the service's unsubscribe round trips), while the transport is still open
            if self.health_service is not None:
                await self.health_service.stop()
                self.health_service = None
            if self.jetstream is not None:  # the mailboxes drained: their acks go out
                await self.jetstream.close()
            # chat lines the handlers queued before they finished still go out
            await self.channels.close_outboxes(self.config.shutdown_timeout)
            # after the channels drained: the letters of the drain are published too
            if self.dead_letter_feed is not None:
                await self.dead_letter_feed.stop()
        finally:
            self.heap.release()
            if self._watches_tasks:
                LEAKS.uninstall()
                self._watches_tasks = False
            flush_repeated_warnings()
            if self._owns_instrumentation:
                await self.instrumentation.shutdown()
            else:
                await self.instrumentation.flush()
            if self._owns_transport:
                await self.transport.close()
            self._state = "stopped"
            if self._stop_requested is not None:
                self._stop_requested.set()

    async def run(self) -> None:
        """Start (if needed) and run until ``request_stop()``, SIGINT or SIGTERM; then stop.

        Sets up logging first unless the application did (see
        :func:`~kryten_actors.observability.logs.configure_logging`): the level from
        ``$KRYTEN_LOG_LEVEL`` or the config's ``log_level``, the format ``log_format``.
        """
        configure_logging(configured_level=self.config.log_level, log_format=self.config.log_format)
        self._stop_requested = stop = asyncio.Event()
        # installed until the shutdown has finished: see bot/shutdown_signals.py
        signals = ShutdownSignals(
            request_stop=stop.set,
            abandoned=self.channels.backlog,
            shutdown_timeout=self.config.shutdown_timeout,
        )
        signals.install(asyncio.get_running_loop())
        try:
            await self.start()
            await stop.wait()
        finally:
            try:
                await self.stop()
            finally:
                signals.remove()

    def request_stop(self) -> bool:
        """Ask a running ``run()`` to shut down (safe to call from handlers).

        Returns False when no ``run()`` was called, so there is nothing to ask: a bot
        started with ``start()`` or ``async with`` stops with ``stop()``.
        """
        if self._stop_requested is None:
            return False
        self._stop_requested.set()
        return True

    # --- channels ------------------------------------------------------------------------
    async def join_channel(
        self, domain: str, channel: str, actor: ActorSource | str | None = None
    ) -> ActorRef | None:
        """Start serving a channel at runtime (also restarts one that ``failed``).

        Raises ``KrytenValidationError`` for a domain or channel name that a
        ``ChannelConfig`` would refuse, or when the channel is already running.
        With sharding the channel joins every member: None when another one serves it.
        """
        if self.jetstream is not None:  # its events come from its consumer
            return await self.jetstream.join(domain, channel, actor)
        return await self.channels.start(domain, channel, actor)

    async def leave_channel(self, domain: str, channel: str) -> None:
        """Stop serving a channel: its mailbox drains, then its actor stops."""
        leave = self.jetstream.leave if self.jetstream is not None else self.channels.stop
        await leave(domain, channel)  # with JetStream: its consumer first

    def _make_router(self) -> RouterActor:
        return RouterActor(
            transport=self.transport,
            scheme=self.scheme,
            table=self.channels.table,
            dead_letters=self.system.dead_letters,
            clock=self.system.clock,
            max_event_bytes=self.config.max_event_bytes,
            block_when_full=self.config.mailbox.overflow == "block",
            stats=self.router_stats,
            instrumentation=self.instrumentation,
            on_unknown_channel=(
                self.channels.start_unknown if self.config.spawn_unknown_channels else None
            ),
            on_passive_channel=self.channels.activate,
            max_channels=self.config.max_channels,
            subscribe=self.config.delivery == "core",
        )

    # --- commands and health -------------------------------------------------------------
    async def send(self, command: Command, *, domain: str, channel: str) -> CommandResult:
        """Send a command to a channel from outside any actor.

        For a channel the bot serves it takes the channel's outbox (pacing, bridge and
        rank waits, CyTube's verdict), exactly as from the channel's own actor.
        """
        binding = self.channels.binding(domain, channel)
        if binding is not None:
            return await binding.outbox.send(command)
        return await self.sender.send(command, domain=domain, channel=channel)

    def channel(self, domain: str, channel: str) -> ChannelOutbox:
        """The command helpers of a channel the bot serves: ``bot.channel(d, c).send_chat(...)``.

        Raises ``KrytenValidationError`` for a channel the bot does not serve.
        """
        binding = self.channels.binding(domain, channel)
        if binding is None:
            raise KrytenValidationError(
                f"this bot does not serve {domain}/{channel}; join_channel() it first",
                [("channel", "not served")],
            )
        return binding.outbox

    def username_in(self, domain: str, channel: str) -> str | None:
        """The bridge account's name in a channel, once its ``login`` event was seen."""
        binding = self.channels.binding(domain, channel)
        return binding.username if binding is not None else None

    @property
    def profile_mismatch(self) -> ProfileMismatch | None:
        """Set when the bot's profile got no events but the other profile's carried its
        channels' (see :mod:`~kryten_actors.bot.profile_check`); else None."""
        return self.profile_check.mismatch if self.profile_check is not None else None

    @property
    def state(self) -> str:
        """``created`` | ``starting`` | ``running`` | ``stopping`` | ``stopped``."""
        return self._state

    @property
    def uptime(self) -> float:
        """Seconds since ``start()`` began (0 before)."""
        return time.monotonic() - self._started_at if self._started_at else 0.0

    def health(self) -> HealthStatus:
        """Every channel's health (linear in the channels; see ``health_summary()``)."""
        return self.health_reporter.status()

    def health_summary(self, *, worst: int = 10) -> HealthSummary:
        """A bounded summary: counts by state, degraded channels, the ``worst`` channels."""
        return self.health_reporter.summary(worst=worst)
