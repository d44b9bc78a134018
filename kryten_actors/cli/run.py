"""``kryten-actors run``: run a bot from a config file until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from kryten_actors.bot.actor_loader import import_actor
from kryten_actors.bot.app import Bot
from kryten_actors.cli.check import describe_invalid, no_channels_warning
from kryten_actors.config import KrytenConfig, load_config
from kryten_actors.errors import KrytenError, KrytenValidationError
from kryten_actors.observability.logs import LEVELS, LOG_LEVEL_ENV, configure_logging

__all__ = ["add_run_parser", "log_level", "run_bot_command", "serve"]

log = logging.getLogger("kryten_actors.cli")


def log_level(value: str) -> str:
    """``--log-level`` in any case (``debug``, ``Info``), as the level's name."""
    name = value.strip().upper()
    if name not in LEVELS:
        msg = f"{value!r} is not a log level; use one of {', '.join(LEVELS)} (any case)"
        raise argparse.ArgumentTypeError(msg)
    return name


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
    parser.add_argument(
        "--log-level",
        type=log_level,
        metavar="LEVEL",
        default=None,
        help=(
            f"{', '.join(LEVELS)} in any case (default: ${LOG_LEVEL_ENV}, else the "
            "config's log_level, else INFO)"
        ),
    )


async def serve(bot: Bot) -> None:
    """Run ``bot`` (with its NATS micro service) until SIGINT/SIGTERM or ``request_stop()``."""
    await bot.run()


def _missing_actor(config: KrytenConfig, actor: str | None) -> str | None:
    """Why no channel would get an actor class, said in this command's terms."""
    if actor or config.actor:
        return None
    bare = [f"{ch.domain}/{ch.channel}" for ch in config.channels if ch.actor is None]
    if not bare and not config.spawn_unknown_channels:
        return None
    which = f"channel {bare[0]}" if len(bare) == 1 else f"{len(bare)} channels"
    if not bare:
        which = "channels spawned by spawn_unknown_channels"
    return (
        f"no actor class for {which}: pass --actor MODULE:CLASS (for example "
        "--actor mybot:Greeter), or set 'actor: module:Class' in the config"
    )


def run_bot_command(args: argparse.Namespace) -> int:
    """Build and run the bot; 0 after a graceful stop, 1 if it cannot start."""
    # like `python -m`, let `--actor mybot:MyActor` find a module in the working directory
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        config = load_config(args.config)
        configure_logging(args.log_level, config.log_format, configured_level=config.log_level)
        problem = _missing_actor(config, args.actor)
        if problem is not None:
            raise KrytenValidationError(problem, [("--actor", "missing")])
        warning = no_channels_warning(config, args.config)
        if warning is not None:
            log.warning("%s", warning)
        actor = import_actor(args.actor, field="--actor") if args.actor else None
        bot = Bot(config, actor=actor)
        asyncio.run(serve(bot))
    except KrytenValidationError as exc:
        sys.stderr.write(f"kryten-actors run: {describe_invalid(exc)}\n")
        return 1
    except KrytenError as exc:
        sys.stderr.write(f"kryten-actors run: {exc}\n")
        return 1
    return 0
