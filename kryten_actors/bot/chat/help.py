"""The generated ``!help``: a command list packed into as few chat lines as fit, or one command."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kryten_actors.bot.chat.command import CommandSpec

__all__ = ["command_help", "command_list"]


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def command_list(specs: Sequence[CommandSpec], prefix: str, limit: int) -> list[str]:
    """``commands: !roll, !quote … — !help <command> tells more``, packed into lines of
    at most ``limit`` characters (a name is never split across lines)."""
    names = [f"{prefix}{spec.name}" for spec in specs]
    if not names:
        return ["no commands are available to you here"]
    head, tail = "commands: ", f" — {prefix}help <command> tells more"
    lines: list[str] = []
    current = head
    for index, name in enumerate(names):
        fresh = current in (head, "")
        separator = "" if fresh else ", "
        # room for the comma that ends the line when another name follows
        comma = 0 if index == len(names) - 1 else 1
        if not fresh and len(current) + len(separator) + len(name) + comma > limit:
            lines.append(current + ",")
            current, separator = "", ""
        current += separator + name
    if len(current) + len(tail) <= limit:
        current += tail
    lines.append(current)
    return [_fit(line, limit) for line in lines]


def command_help(spec: CommandSpec, prefix: str, limit: int) -> str:
    """``!roll [dice=1d6] [comment…] (also !r) — Roll dice.`` within ``limit`` characters."""
    text = spec.usage(prefix)
    if spec.aliases:
        text += " (also " + ", ".join(prefix + alias for alias in spec.aliases) + ")"
    if spec.min_rank > 0:
        text += f" [rank {spec.min_rank:g}+]"
    if spec.summary:
        text += f" — {spec.summary}"
    return _fit(text, limit)
