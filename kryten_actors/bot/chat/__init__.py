"""Chat commands: ``@command`` methods, their arguments, checks, ``!help`` and dispatch."""

from kryten_actors.bot.chat.arguments import ArgumentError
from kryten_actors.bot.chat.checks import CheckFailure, Cooldown
from kryten_actors.bot.chat.command import Commands, CommandSpec, command, include
from kryten_actors.bot.chat.context import CommandContext

__all__ = [
    "ArgumentError",
    "CheckFailure",
    "CommandContext",
    "CommandSpec",
    "Commands",
    "Cooldown",
    "command",
    "include",
]
