"""Entry point of the ``kryten-actors`` console script.

Each subcommand lives in its own module, imported only when that subcommand runs:
``kryten-actors --version`` and ``--help`` load neither NATS nor the protocol models.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple

__all__ = ["SUBCOMMANDS", "build_parser", "main"]


class Subcommand(NamedTuple):
    """Where a subcommand lives: its module, and the names of its two functions there."""

    module: str
    add_parser: str
    run: str
    summary: str


SUBCOMMANDS: Final = {
    "run": Subcommand(
        "kryten_actors.cli.run",
        "add_run_parser",
        "run_bot_command",
        "run a bot from a config file until Ctrl-C or SIGTERM",
    ),
    "demo": Subcommand(
        "kryten_actors.cli.demo",
        "add_demo_parser",
        "run_demo_command",
        "run a multi-channel bot against an embedded NATS and a simulated bridge",
    ),
    "say": Subcommand(
        "kryten_actors.cli.say",
        "add_say_parser",
        "run_say_command",
        "say a chat line as a user in a running demo (or a simulated bridge)",
    ),
    "health": Subcommand(
        "kryten_actors.cli.health",
        "add_health_parser",
        "run_health_command",
        "print a running bot's health report (JSON) over NATS",
    ),
    "deadletters": Subcommand(
        "kryten_actors.cli.deadletters",
        "add_deadletters_parser",
        "run_deadletters_command",
        "print the dead letters a bot publishes (publish_dead_letters: true)",
    ),
    "dashboard": Subcommand(
        "kryten_actors.cli.dashboard",
        "add_dashboard_parser",
        "run_dashboard_command",
        "serve a live web page of every bot on the bus (needs kryten-actors[dashboard])",
    ),
    "check": Subcommand(
        "kryten_actors.cli.check",
        "add_check_parser",
        "run_check_command",
        "validate a config file and print the resolved settings (secrets masked)",
    ),
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - lazy

    try:
        return version("kryten-actors")
    except PackageNotFoundError:  # a bare source tree, not installed
        return "unknown"


class _VersionAction(argparse.Action):
    """``--version``: read the installed metadata only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        sys.stdout.write(f"{_version()}\n")
        parser.exit()


def _requested(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line, if any (the first non-option word)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in SUBCOMMANDS else None
    return None


def build_parser(load: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``kryten-actors`` parser; ``load`` names the subcommands to build in full
    (default: all). The others are listed with their summary only."""
    parser = argparse.ArgumentParser(
        prog="kryten-actors",
        description="Supervised actors for multi-channel CyTube bots over NATS.",
        epilog="Start with `kryten-actors demo --seconds 20`.",
    )
    parser.add_argument("--version", action=_VersionAction)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, sub in SUBCOMMANDS.items():
        if load is None or name in load:
            add: Callable[[object], None] = getattr(
                importlib.import_module(sub.module), sub.add_parser
            )
            add(commands)
        else:
            commands.add_parser(name, help=sub.summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2 for a usage error, like argparse)."""
    words = list(sys.argv[1:] if argv is None else argv)
    requested = _requested(words)
    parser = build_parser([requested] if requested else [])
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help()
        return 2
    sub = SUBCOMMANDS[args.command]
    run: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(sub.module), sub.run)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
