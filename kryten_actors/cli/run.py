"""``kryten-actors run``: run a bot from a config file until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from kryten_actors.bot.actor_loader import import_actor
from kryten_actors.bot.app import Bot
from kryten_actors.cli.check import describe_invalid
from kryten_actors.errors import KrytenError, KrytenValidationError

__all__ = ["add_run_parser", "run_bot_command", "serve"]

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def add_run_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``run`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "run",
        help="run a bot from a config file until Ctrl-C or SIGTERM",
        description=(
            "Run the bot described by CONFIG. The actor class comes from --actor or, per "
            "channel or for all channels, from the config's 'actor' entries. Exits 0 after a "
            "graceful shutdown on SIGINT/SIGTERM."
        ),
    )
    parser.add_argument("config", help="path to the config file (.yaml, .yml or .json)")
    parser.add_argument(
        "--actor", metavar="MODULE:CLASS", help="the ChannelActor subclass for every channel"
    )
    parser.add_argument("--log-level", choices=_LEVELS, default="INFO", help="default INFO")


async def serve(bot: Bot) -> None:
    """Run ``bot`` (with its NATS micro service) until SIGINT/SIGTERM or ``request_stop()``."""
    await bot.run()


def run_bot_command(args: argparse.Namespace) -> int:
    """Build and run the bot; 0 after a graceful stop, 1 if it cannot start."""
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # like `python -m`, let `--actor mybot:MyActor` find a module in the working directory
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        actor = import_actor(args.actor, field="--actor") if args.actor else None
        bot = Bot(args.config, actor=actor)
        asyncio.run(serve(bot))
    except KrytenValidationError as exc:
        sys.stderr.write(f"kryten-actors run: {describe_invalid(exc)}\n")
        return 1
    except KrytenError as exc:
        sys.stderr.write(f"kryten-actors run: {exc}\n")
        return 1
    return 0
