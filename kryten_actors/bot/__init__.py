"""Composition of the layers: channel actors, the router, the Bot and the client APIs."""

from kryten_actors.bot.app import Bot
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.client import KrytenClient
from kryten_actors.bot.handlers import HandlerRegistration, on
from kryten_actors.bot.health import (
    ActorHealth,
    ChannelHealth,
    ChannelInfo,
    HealthStatus,
    HealthSummary,
    TracingHealth,
)

__all__ = [
    "ActorHealth",
    "Bot",
    "ChannelActor",
    "ChannelHealth",
    "ChannelInfo",
    "HandlerRegistration",
    "HealthStatus",
    "HealthSummary",
    "KrytenClient",
    "TracingHealth",
    "on",
]
