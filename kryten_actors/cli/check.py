"""``kryten-actors check``: validate a config file and show what it resolves to."""

from __future__ import annotations

import argparse
import json
import sys

from kryten_actors.config import KrytenConfig, load_config
from kryten_actors.errors import KrytenValidationError

__all__ = ["add_check_parser", "describe_invalid", "no_channels_warning", "run_check_command"]


def add_check_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``check`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "check",
        help="validate a config file and print the resolved settings (secrets masked)",
        description=(
            "Validate CONFIG (.yaml, .yml or .json, with ${VAR} expanded) and print the "
            "resolved settings with secrets masked (exit 0), or every problem with its "
            "field path (exit 1)."
        ),
    )
    parser.add_argument("config", help="path to the config file")


def describe_invalid(exc: KrytenValidationError) -> str:
    """The error's message plus any ``path: message`` pair it does not already list."""
    text = str(exc)
    missing = [f"  {path}: {message}" for path, message in exc.errors if path not in text]
    return "\n".join([text, *missing])


def no_channels_warning(config: KrytenConfig, source: str) -> str | None:
    """A warning when ``config`` serves no channel at all (an empty file does that)."""
    if config.channels or config.spawn_unknown_channels:
        return None
    return (
        f"{source} lists no channels (and spawn_unknown_channels is off), so the bot will "
        "receive no events; add for example: channels: [{domain: cytu.be, channel: lounge}]"
    )


def run_check_command(args: argparse.Namespace) -> int:
    """Print the masked settings and return 0, or print every error and return 1."""
    try:
        config = load_config(args.config)
    except KrytenValidationError as exc:
        sys.stderr.write(describe_invalid(exc) + "\n")
        return 1
    warning = no_channels_warning(config, args.config)
    if warning is not None:
        sys.stderr.write(f"warning: {warning}\n")
    sys.stdout.write(f"{args.config}: valid. Resolved settings (secrets masked):\n")
    sys.stdout.write(json.dumps(config.display_dict(), indent=2) + "\n")
    return 0
