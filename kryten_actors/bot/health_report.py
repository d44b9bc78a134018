"""Assembling a bot's health cheaply enough to answer at 100,000 channels.

A :class:`HealthReporter` reads the bot's parts without building a stats object per
channel unless asked for: counts by state come from one pass over the actors' refs
(a few tens of milliseconds at 100,000 channels, cached for :data:`SNAPSHOT_TTL`), full
stats are built only for the channels shown (a page, the worst channels).
"""

from __future__ import annotations

import dataclasses
import heapq
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from kryten_actors.bot.health import (
    NO_ACTOR,
    ActorHealth,
    ChannelHealth,
    ChannelInfo,
    DegradedChannel,
    HealthStatus,
    HealthSummary,
    channel_row,
    degraded_reason,
    package_version,
    seed_state,
    tracing_health,
)
from kryten_actors.bot.health_delivery import delivery_health
from kryten_actors.bot.letters import channel_of
from kryten_actors.runtime import ActorRef, ActorState, DeadLetter, RuntimeEvent

if TYPE_CHECKING:
    from kryten_actors.bot.app import Bot
    from kryten_actors.bot.binding import ChannelBinding

__all__ = ["SNAPSHOT_TTL", "ChannelEntry", "HealthReporter", "RestartTracker"]

SNAPSHOT_TTL: Final = 0.25
"""Seconds a snapshot of the channels' states is reused (bounds the cost of request floods)."""
_ROUTER: Final = "router"
_DOWN: Final = frozenset({ActorState.RESTARTING.value, ActorState.FAILED.value})
_CANDIDATES: Final = 2_000  # channels with full stats computed when ranking the worst


class ChannelEntry(NamedTuple):
    """A channel in a snapshot: identity, actor ref and the two states (cheap to build)."""

    key: str
    binding: ChannelBinding
    ref: ActorRef | None
    state: str

    @property
    def degraded(self) -> bool:
        return self.state in _DOWN or self.binding.bridge_state == "down"


class RestartTracker:
    """Failures and restarts of the top-level actors, from the runtime's lifecycle events.

    Keyed by child name (``domain:channel``); only actors that ever failed have an entry,
    so it finds the restarted channels among 100,000 without looking at each.
    """

    def __init__(self) -> None:
        self.restarts: dict[str, int] = {}
        self.failures = 0
        self.total_restarts = 0

    def observe(self, event: RuntimeEvent) -> None:
        """The ``ActorSystem.subscribe`` observer."""
        name = event.path.rsplit("/", 1)[-1]
        if event.kind == "failed":
            self.failures += 1
        elif event.kind == "restarting":
            self.restarts[name] = self.restarts.get(name, 0) + 1
            if name != _ROUTER:
                self.total_restarts += 1


class HealthReporter:
    """The health of one :class:`~kryten_actors.bot.app.Bot`: full, summarised or paged."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self.tracker = RestartTracker()
        bot.system.subscribe(self.tracker.observe)
        self.instance: str | None = None
        self.control_enabled = False
        self._snapshot: list[ChannelEntry] = []
        self._snapshot_at = -SNAPSHOT_TTL

    # --- snapshots -----------------------------------------------------------------------
    def entries(self) -> list[ChannelEntry]:
        """Every channel with its actor's state; reused for :data:`SNAPSHOT_TTL` seconds."""
        now = time.monotonic()
        if now - self._snapshot_at >= SNAPSHOT_TTL:
            self._snapshot = list(self._scan())
            self._snapshot_at = now
        return self._snapshot

    def _scan(self) -> Iterator[ChannelEntry]:
        refs = self._bot.channels.table.refs
        for binding in tuple(self._bot.channels.bindings.values()):
            ref = refs.get(binding.key)
            state = ref.state.value if ref is not None else NO_ACTOR
            yield ChannelEntry(f"{binding.domain}/{binding.channel}", binding, ref, state)

    def invalidate(self) -> None:
        """Forget the snapshot (after a control action, so its effect shows at once)."""
        self._snapshot_at = -SNAPSHOT_TTL

    def clock_now(self) -> float:
        """Now on the bot's clock (the one latencies are recorded with)."""
        return self._bot.system.clock.now()

    def dead_letters(self, *, channel: str | None = None) -> list[DeadLetter]:
        """Recent dead letters, newest first; ``channel`` keeps one channel's (name or key)."""
        letters = self._bot.system.dead_letters.recent
        letters.reverse()
        if channel is None:
            return letters
        wanted = channel.lower()
        return [
            letter
            for letter in letters
            if (key := channel_of(letter.recipient)) is not None
            and wanted in {key.lower(), key.partition("/")[2].lower()}
        ]

    def rows(self, entries: Iterable[ChannelEntry]) -> list[ChannelHealth]:
        """Full health rows of ``entries``."""
        now = self.clock_now()
        return [
            channel_row(e.binding, e.ref.stats() if e.ref is not None else None, now)
            for e in entries
        ]

    # --- the bot as a whole --------------------------------------------------------------
    def _router_failed(self) -> bool:
        bot = self._bot
        if not bot.system.running:
            return False
        router = bot.system.root.child(_ROUTER)
        return router is not None and router.state is ActorState.FAILED

    def problems(self) -> list[str]:
        """What makes the bot itself unhealthy, whatever its channels do."""
        bot = self._bot
        found = []
        if bot.state != "running":
            found.append(f"bot is {bot.state}")
        elif not bot.transport.is_connected:
            found.append("not connected to NATS (reconnecting)")
        if self._router_failed():
            found.append("router failed: no events are received; see the log for its error")
        mismatch = bot.profile_mismatch
        if mismatch is not None:
            found.append(mismatch.describe())
        return found

    def stalls(self) -> int:
        """Event-loop stalls seen (a handler blocking the loop; 0 without a monitor)."""
        monitor = self._bot.system.stall_monitor
        return monitor.stalls if monitor is not None else 0

    def _state(self) -> str:
        bot = self._bot
        return seed_state(
            bot.state, connected=bot.transport.is_connected, router_failed=self._router_failed()
        )

    def summary(self, *, worst: int = 10, degraded: int = 20) -> HealthSummary:
        """A bounded summary: counts by state, up to ``degraded`` reasons, ``worst`` rows."""
        bot = self._bot
        entries = self.entries()
        states = Counter(e.state for e in entries)
        bridge = Counter(e.binding.bridge_state for e in entries)
        down = [e for e in entries if e.degraded]
        handled = decode_failed = 0
        latency = 0.0
        chat_commands: Counter[str] = Counter()
        for e in entries:
            counters = e.binding.counters
            handled += counters.events_handled
            latency += counters.latency_total
            decode_failed += counters.decode_failed
            if counters.chat_commands:
                chat_commands.update(counters.chat_commands)
        vitals = self._vitals(full=False)
        config = bot.config
        return HealthSummary(
            **vitals,
            service=config.service_name,
            instance=self.instance,
            version=package_version(),
            profile=config.profile,
            healthy=not vitals["problems"] and not down,
            errors=decode_failed + self.tracker.failures + self._send_and_route_errors(),
            avg_latency=latency / handled if handled else 0.0,
            chat_commands=dict(chat_commands),
            channel_count=len(entries),
            states=dict(states),
            bridge=dict(bridge),
            degraded_count=len(down),
            degraded=[
                DegradedChannel(key=row.key, reason=row.degraded or "")
                for row in self.rows(down[:degraded])
            ],
            worst=self.worst(entries, worst) if worst else [],
            restarts=self.tracker.total_restarts,
            control=self.control_enabled,
            trace_ui=config.tracing.ui_url,
            trace_service=config.effective_service_name,
        )

    def _vitals(self, *, full: bool) -> dict[str, Any]:
        """The :class:`BotVitals` both answers compute alike (not ``healthy``, ``errors``
        and ``avg_latency``: those sum over the channels each answer walks)."""
        bot = self._bot
        return {
            "state": self._state(),
            "lifecycle": bot.state,
            "connected": bot.transport.is_connected,
            "uptime": bot.uptime,
            "events_received": bot.router_stats.received,
            "commands_sent": bot.sender.stats.sent,
            "handlers_registered": bot.channels.handlers_registered,
            "problems": self.problems(),
            "stalls": self.stalls(),
            "dead_letters": dict(bot.system.dead_letters.counts),
            "router": dataclasses.asdict(bot.router_stats),
            "delivery": delivery_health(bot.jetstream, full=full),
            "tracing": tracing_health(bot.instrumentation),
        }

    def _send_and_route_errors(self) -> int:
        return self._bot.sender.stats.failed + self._bot.router_stats.unroutable

    def worst(self, entries: Sequence[ChannelEntry], count: int) -> list[ChannelHealth]:
        """Up to ``count`` channels with a problem, worst first (none when all are well)."""
        chosen: dict[str, ChannelEntry] = {e.key: e for e in entries if e.degraded}
        for e in entries:
            if len(chosen) >= _CANDIDATES:
                break
            if e.ref is not None and e.ref.half_full:
                chosen.setdefault(e.key, e)
        if len(chosen) < _CANDIDATES and self.tracker.restarts:
            by_name = self._by_child_name(self.tracker.restarts)
            ranked = sorted(by_name, key=lambda n: -self.tracker.restarts[n])
            for name in ranked[: _CANDIDATES - len(chosen)]:
                chosen.setdefault(by_name[name].key, by_name[name])
        rows = [
            row
            for row in self.rows(chosen.values())
            if row.degraded or row.restarts or row.mailbox_depth or row.dropped
        ]
        return heapq.nsmallest(count, rows, key=_badness)

    def _by_child_name(self, names: Iterable[str]) -> dict[str, ChannelEntry]:
        refs = self._bot.channels.table.refs
        found = {}
        for name in names:
            domain, sep, channel = name.partition(":")
            binding = self._bot.channels.binding(domain, channel) if sep else None
            if binding is not None:
                ref = refs.get(binding.key)
                state = ref.state.value if ref is not None else NO_ACTOR
                found[name] = ChannelEntry(f"{domain}/{channel}", binding, ref, state)
        return found

    def status(self) -> HealthStatus:
        """Every channel's seed fields and actor stats (linear in the channels)."""
        bot = self._bot
        connected = bot.transport.is_connected
        running = bot.state == "running"
        now = bot.system.clock.now()
        actors: dict[str, ActorHealth] = {}
        infos: list[ChannelInfo] = []
        degraded: dict[str, str] = {}
        handled = errors = 0
        latency = 0.0
        chat_commands: Counter[str] = Counter()
        for e in list(self._scan()):
            counters = e.binding.counters
            handled += counters.events_handled
            latency += counters.latency_total
            errors += counters.decode_failed
            if counters.chat_commands:
                chat_commands.update(counters.chat_commands)
            stats = e.ref.stats() if e.ref is not None else None
            reason = degraded_reason(e.state, e.binding.bridge_state, stats)
            if reason is not None:
                degraded[e.key] = reason
            infos.append(
                ChannelInfo(
                    domain=e.binding.domain,
                    channel=e.binding.channel,
                    connected=connected,
                    subscribed=running and e.state not in {ActorState.FAILED.value, NO_ACTOR},
                    bridge_state=e.binding.bridge_state,
                    degraded=reason,
                )
            )
            if stats is None:
                continue
            errors += stats.failed
            error = stats.last_error
            actors[e.key] = ActorHealth(
                state=stats.state.value,
                restarts=stats.restarts,
                mailbox_depth=stats.mailbox_depth,
                mailbox_high_water=stats.mailbox_high_water,
                processed=stats.processed,
                failed=stats.failed,
                dropped=stats.dropped,
                last_error=f"{error.type}: {error.message}" if error else None,
                uptime=stats.uptime,
                latency_p99=counters.latency.quantile(0.99, now),
            )
        vitals = self._vitals(full=True)
        return HealthStatus(
            **vitals,
            healthy=not vitals["problems"] and not degraded,
            errors=errors + self._send_and_route_errors(),
            avg_latency=latency / handled if handled else 0.0,
            chat_commands=dict(chat_commands),
            channels=infos,
            actors=actors,
            degraded=degraded,
        )


def _badness(row: ChannelHealth) -> tuple[int, int, int, int, str]:
    # nsmallest: negate so the worst sorts first; the key breaks ties stably
    return (-(row.degraded is not None), -row.restarts, -row.mailbox_depth, -row.dropped, row.key)
