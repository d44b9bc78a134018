"""Health report of a bot: the seed's ``HealthStatus`` plus per-actor runtime stats."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from kryten_actors.runtime import ActorState, ActorStats

if TYPE_CHECKING:
    from kryten_actors.bot.binding import ChannelBinding
    from kryten_actors.bot.router import RouterStats
    from kryten_actors.bot.sender import SenderStats

__all__ = [
    "ActorHealth",
    "ChannelInfo",
    "HealthStatus",
    "build_health",
    "channel_health",
    "package_version",
    "service_stats",
]


class ChannelInfo(BaseModel):
    """One configured channel as the bot sees it."""

    model_config = ConfigDict(frozen=True)

    domain: str
    channel: str
    connected: bool
    subscribed: bool


class ActorHealth(BaseModel):
    """Runtime stats of one channel actor (``state`` is ``failed`` past its restart limit)."""

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


class HealthStatus(BaseModel):
    """A bot's health, as returned by ``bot.health()`` and the ``health`` NATS endpoint.

    ``actors`` is keyed ``"{domain}/{channel}"``. ``avg_latency`` is the mean time in
    seconds from an event's arrival at the router to the end of its handlers.
    """

    model_config = ConfigDict(frozen=True)

    state: str
    connected: bool
    uptime: float
    events_received: int
    commands_sent: int
    errors: int
    avg_latency: float
    handlers_registered: int
    channels: list[ChannelInfo]
    actors: dict[str, ActorHealth]
    dead_letters: dict[str, int]
    router: dict[str, int]


def channel_health(
    binding: ChannelBinding, stats: ActorStats, *, connected: bool, running: bool
) -> tuple[ActorHealth, ChannelInfo]:
    """The health entries of one channel actor."""
    error = stats.last_error
    actor = ActorHealth(
        state=str(stats.state),
        restarts=stats.restarts,
        mailbox_depth=stats.mailbox_depth,
        mailbox_high_water=stats.mailbox_high_water,
        processed=stats.processed,
        failed=stats.failed,
        dropped=stats.dropped,
        last_error=f"{error.type}: {error.message}" if error else None,
        uptime=stats.uptime,
    )
    info = ChannelInfo(
        domain=binding.domain,
        channel=binding.channel,
        connected=connected,
        subscribed=running and stats.state is not ActorState.FAILED,
    )
    return actor, info


def build_health(
    *,
    state: str,
    connected: bool,
    uptime: float,
    channels: Iterable[tuple[ChannelBinding, ActorStats | None]],
    router: RouterStats,
    sender: SenderStats,
    dead_letters: dict[str, int],
    handlers_registered: int,
) -> HealthStatus:
    """Assemble a bot's :class:`HealthStatus` from its parts' counters."""
    running = state == "running"
    actors: dict[str, ActorHealth] = {}
    infos: list[ChannelInfo] = []
    handled = errors = 0
    latency = 0.0
    for binding, stats in channels:
        counters = binding.counters
        handled += counters.events_handled
        latency += counters.latency_total
        errors += counters.decode_failed
        if stats is None:
            continue
        actor, info = channel_health(binding, stats, connected=connected, running=running)
        actors[f"{binding.domain}/{binding.channel}"] = actor
        infos.append(info)
        errors += actor.failed
    errors += sender.failed + router.unroutable
    return HealthStatus(
        state=state,
        connected=connected,
        uptime=uptime,
        events_received=router.received,
        commands_sent=sender.sent,
        errors=errors,
        avg_latency=latency / handled if handled else 0.0,
        handlers_registered=handlers_registered,
        channels=infos,
        actors=actors,
        dead_letters=dead_letters,
        router=dataclasses.asdict(router),
    )


def service_stats(report: HealthStatus) -> dict[str, Any]:
    """The ``health`` endpoint's data in ``$SRV.STATS``: per-channel actor stats."""
    return {
        "state": report.state,
        "events_received": report.events_received,
        "commands_sent": report.commands_sent,
        "actors": {key: actor.model_dump(mode="json") for key, actor in report.actors.items()},
    }


def package_version() -> str:
    """The installed kryten-actors version (``0.0.0`` when run from a bare source tree)."""
    try:
        return version("kryten-actors")
    except PackageNotFoundError:
        return "0.0.0"
