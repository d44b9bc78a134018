"""Health of a bot: the seed's ``HealthStatus``, per-channel rows and a bounded summary.

``HealthStatus.state`` speaks the seed's vocabulary (see :func:`seed_state`); the
bot's richer lifecycle is ``lifecycle``. A channel is **degraded** when its bridge is
down or its actor is restarting or failed (:func:`degraded_reason`); a bot is
``healthy`` when it is connected and running with no degraded channel.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict

from kryten_actors.bot.health_delivery import DeliveryHealth
from kryten_actors.runtime import ActorState, ActorStats

if TYPE_CHECKING:
    from kryten_actors.bot.binding import ChannelBinding
    from kryten_actors.observability.instrumentation import Instrumentation

__all__ = [
    "NO_ACTOR",
    "ActorHealth",
    "BotVitals",
    "ChannelHealth",
    "ChannelInfo",
    "DegradedChannel",
    "HealthStatus",
    "HealthSummary",
    "TracingHealth",
    "channel_row",
    "degraded_reason",
    "package_version",
    "seed_state",
    "tracing_health",
]

NO_ACTOR: Final = "inactive"
"""The ``state`` of a channel whose binding has no live actor (not started, or passivated)."""
_ERROR_CHARS: Final = 300  # a last error is a hint, not a traceback; keeps rows small
_DOWN_STATES: Final = frozenset({ActorState.RESTARTING.value, ActorState.FAILED.value})


class ChannelInfo(BaseModel):
    """One channel as the bot sees it (the seed's fields, plus bridge state and degradation)."""

    model_config = ConfigDict(frozen=True)

    domain: str
    channel: str
    connected: bool
    subscribed: bool
    bridge_state: str = "unknown"
    degraded: str | None = None


class ActorHealth(BaseModel):
    """Runtime stats of one channel actor (``state`` is ``failed`` past its restart limit).

    ``latency_p99`` is seconds from an event's arrival at the router to the end of its
    handlers, over the last one to two minutes, rounded up to a power of two.
    """

    model_config = ConfigDict(frozen=True)

    state: str
    restarts: int
    mailbox_depth: int
    mailbox_high_water: int
    processed: int
    failed: int
    dropped: int
    last_error: str | None
    uptime: float
    latency_p99: float | None = None


class TracingHealth(BaseModel):
    """How the bot's sampled spans are exported, and how many never were.

    ``mode`` is ``in_process``, ``span_worker`` (``tracing.span_worker``) or
    ``application`` (the application's own SDK provider, whose losses are not counted
    here). ``spans_lost`` is the sum of ``lost``, by reason: ``queue_full`` (export
    could not keep up), ``export_failed`` (the exporter gave a batch up: the collector
    is down or refused it) and, with the span worker, ``worker_lost``, ``unencodable``
    and ``after_shutdown``. Losing spans never makes the bot unhealthy.
    """

    model_config = ConfigDict(frozen=True)

    mode: str
    spans_lost: int
    lost: dict[str, int]


def tracing_health(instrumentation: Instrumentation) -> TracingHealth | None:
    """The ``tracing`` section of a bot's health (None with tracing off)."""
    status = instrumentation.tracing_status()
    if status is None:
        return None
    lost = dict(status.lost)
    return TracingHealth(mode=status.mode, spans_lost=sum(lost.values()), lost=lost)


class BotVitals(BaseModel):
    """What both health answers say about the bot as a whole.

    ``state`` is the seed's ``connecting`` | ``connected`` | ``disconnected`` | ``error``
    (:func:`seed_state`); ``lifecycle`` the bot's ``created`` | ``starting`` | ``running``
    | ``stopping`` | ``stopped``. ``problems`` lists what makes the bot itself unhealthy
    (not running, NATS reconnecting, the router failed, a wrong ``profile``); ``stalls``
    counts event-loop stalls (a handler blocking every channel; the log names it).
    ``avg_latency`` is the mean time in seconds from an event's arrival at the router to
    the end of its handlers. ``delivery`` is set with ``delivery: jetstream`` only: the
    stream, the acks, the shard members. ``chat_commands`` counts the chat command lines
    of every channel by outcome (``run``, ``failed``, ``refused``, ``invalid``,
    ``ignored``; see :mod:`~kryten_actors.bot.chat.dispatch`). ``tracing`` is set with
    tracing on: how spans are exported and how many were lost (:class:`TracingHealth`).
    """

    model_config = ConfigDict(frozen=True)

    state: str
    lifecycle: str
    healthy: bool
    connected: bool
    uptime: float
    events_received: int
    commands_sent: int
    errors: int
    avg_latency: float
    handlers_registered: int
    problems: list[str]
    stalls: int = 0
    dead_letters: dict[str, int]
    router: dict[str, int]
    delivery: DeliveryHealth | None = None
    chat_commands: dict[str, int] = {}
    tracing: TracingHealth | None = None


class HealthStatus(BotVitals):
    """A bot's full health, as returned by ``bot.health()`` (every channel, in process).

    Besides the :class:`BotVitals`: ``channels`` every channel's seed fields, ``actors``
    and ``degraded`` keyed ``"{domain}/{channel}"``. Building it costs time linear in
    the channels (one to two seconds at 100,000): prefer ``bot.health_summary()`` for a
    large bot.
    """

    channels: list[ChannelInfo]
    actors: dict[str, ActorHealth]
    degraded: dict[str, str]


class ChannelHealth(BaseModel):
    """One channel's row in the health endpoint's pages and in the summary's worst list.

    ``state`` is the actor's state, or ``inactive`` when the channel has no live actor.
    ``degraded`` is the reason the channel is degraded, or None. ``last_error_at`` is
    wall-clock time (seconds since the epoch).
    """

    model_config = ConfigDict(frozen=True)

    key: str
    domain: str
    channel: str
    state: str
    bridge_state: str
    degraded: str | None
    restarts: int
    mailbox_depth: int
    mailbox_high_water: int
    processed: int
    failed: int
    dropped: int
    events_received: int
    commands_sent: int
    latency_p99: float | None
    last_error: str | None
    last_error_at: float | None
    uptime: float


class DegradedChannel(BaseModel):
    """A degraded channel and why."""

    model_config = ConfigDict(frozen=True)

    key: str
    reason: str


class HealthSummary(BotVitals):
    """What the ``health`` endpoint answers by default: bounded whatever the channel count.

    Besides the :class:`BotVitals`: ``states`` counts channels by actor state,
    ``bridge`` by bridge state. ``degraded`` lists up to a limit of the
    ``degraded_count`` degraded channels; ``worst`` the channels most in need of
    attention (degraded first, then restarts, mailbox depth, drops), empty when none has
    a problem. ``restarts`` counts channel actor restarts since the bot started.
    ``trace_ui`` is ``tracing.ui_url`` and ``trace_service`` the service name spans
    carry, for links to a trace viewer. ``delivery`` holds counts only (no channel lists).
    """

    service: str
    instance: str | None
    version: str
    profile: str
    channel_count: int
    states: dict[str, int]
    bridge: dict[str, int]
    degraded_count: int
    degraded: list[DegradedChannel]
    worst: list[ChannelHealth]
    restarts: int
    control: bool
    trace_ui: str | None
    trace_service: str


def seed_state(lifecycle: str, *, connected: bool, router_failed: bool) -> str:
    """The seed's ``HealthStatus.state`` for a bot in ``lifecycle``.

    ``starting`` → ``connecting``; ``running`` → ``connected``, or ``disconnected`` while
    NATS reconnects, or ``error`` when the router has failed (no events arrive);
    ``created``, ``stopping`` and ``stopped`` → ``disconnected``.
    """
    if lifecycle == "starting":
        return "connecting"
    if lifecycle != "running":
        return "disconnected"
    if router_failed:
        return "error"
    return "connected" if connected else "disconnected"


def degraded_reason(state: str, bridge_state: str, stats: ActorStats | None) -> str | None:
    """Why a channel is degraded (bridge down, actor restarting or failed), or None."""
    reasons = []
    if bridge_state == "down":
        reasons.append("bridge down")
    if state in _DOWN_STATES:
        restarts = stats.restarts if stats is not None else 0
        what = "restarting" if state == ActorState.RESTARTING.value else "failed"
        reason = f"actor {what} after {restarts} restart{'s' * (restarts != 1)}"
        error = stats.last_error if stats is not None else None
        if error is not None:
            reason += f": {_clip(f'{error.type}: {error.message}')}"
        reasons.append(reason)
    return "; ".join(reasons) or None


def channel_row(binding: ChannelBinding, stats: ActorStats | None, now: float) -> ChannelHealth:
    """The health row of one channel (``now`` on the binding's clock, for the p99 window)."""
    state = stats.state.value if stats is not None else NO_ACTOR
    error = stats.last_error if stats is not None else None
    counters = binding.counters
    return ChannelHealth(
        key=f"{binding.domain}/{binding.channel}",
        domain=binding.domain,
        channel=binding.channel,
        state=state,
        bridge_state=binding.bridge_state,
        degraded=degraded_reason(state, binding.bridge_state, stats),
        restarts=stats.restarts if stats else 0,
        mailbox_depth=stats.mailbox_depth if stats else 0,
        mailbox_high_water=stats.mailbox_high_water if stats else 0,
        processed=stats.processed if stats else 0,
        failed=stats.failed if stats else 0,
        dropped=stats.dropped if stats else 0,
        events_received=counters.events_received,
        commands_sent=counters.commands_sent,
        latency_p99=counters.latency.quantile(0.99, now),
        last_error=_clip(f"{error.type}: {error.message}") if error else None,
        last_error_at=error.time if error else None,
        uptime=stats.uptime if stats else 0.0,
    )


def _clip(text: str) -> str:
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 1] + "…"


def package_version() -> str:
    """The installed kryten-actors version (``0.0.0`` when run from a bare source tree)."""
    try:
        return version("kryten-actors")
    except PackageNotFoundError:
        return "0.0.0"
