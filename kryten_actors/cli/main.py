"""Entry point of the ``kryten-actors`` console script: ``run | demo | health | check``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version

from kryten_actors.cli.check import add_check_parser, run_check_command
from kryten_actors.cli.dashboard import add_dashboard_parser, run_dashboard_command
from kryten_actors.cli.demo import add_demo_parser, run_demo_command
from kryten_actors.cli.health import add_health_parser, run_health_command
from kryten_actors.cli.run import add_run_parser, run_bot_command

__all__ = ["build_parser", "main"]

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": run_bot_command,
    "demo": run_demo_command,
    "health": run_health_command,
    "check": run_check_command,
    "dashboard": run_dashboard_command,
}


def _version() -> str:
    try:
        return version("kryten-actors")
    except PackageNotFoundError:  # a bare source tree, not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The ``kryten-actors`` argument parser with its four subcommands."""
    parser = argparse.ArgumentParser(
        prog="kryten-actors",
        description="Supervised actors for multi-channel CyTube bots over NATS.",
        epilog="Start with `kryten-actors demo --seconds 20`.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_run_parser(commands)
    add_demo_parser(commands)
    add_health_parser(commands)
    add_check_parser(commands)
    add_dashboard_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2 for a usage error, like argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = _COMMANDS.get(args.command or "")
    if command is None:
        parser.print_help()
        return 2
    return command(args)


if __name__ == "__main__":
    sys.exit(main())
