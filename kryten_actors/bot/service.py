"""A bot's NATS micro service: health for everyone, control when the config enables it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from kryten_actors.bot.control import ChannelControl
from kryten_actors.bot.health import package_version
from kryten_actors.bot.health_query import answer_health, summary_data
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_service import HealthService, start_health_service

if TYPE_CHECKING:
    from kryten_actors.bot.app import Bot

__all__ = ["FRAMEWORK", "start_bot_service"]

FRAMEWORK: Final = "kryten-actors"
"""The ``framework`` metadata of every bot's service: how the dashboard tells bots apart."""
_STATS_WORST: Final = 5


async def start_bot_service(bot: Bot) -> HealthService | None:
    """Register ``bot``'s micro service on its NATS transport (None on another transport)."""
    if not isinstance(bot.transport, NatsTransport):
        return None
    reporter = bot.health_reporter
    control = bot.config.control
    handler = ChannelControl(bot, reporter).handle if control.enabled else None
    service = await start_health_service(
        bot.transport,
        name=bot.config.service_name,
        version=package_version(),
        health=lambda data, budget: answer_health(reporter, data, budget),
        stats=lambda budget: summary_data(reporter, budget, worst=_STATS_WORST),
        control=handler,
        metadata={
            "framework": FRAMEWORK,
            "profile": bot.config.profile,
            "control": "on" if control.enabled else "off",
            **_delivery_metadata(bot),
        },
    )
    reporter.instance = service.id
    reporter.control_enabled = control.enabled
    return service


def _delivery_metadata(bot: Bot) -> dict[str, str]:
    """``delivery``, and with sharding the process's ``shard`` member ID."""
    shards = bot.jetstream.shards if bot.jetstream is not None else None
    data: dict[str, str] = {"delivery": bot.config.delivery}
    if shards is not None:
        data["shard"] = shards.member
    return data
