"""``kryten-actors dashboard``: every bot on the bus, live, in a browser (optional extra)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Final

from kryten_actors.config import load_config
from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import KrytenError

if TYPE_CHECKING:
    from kryten_actors.dashboard import Dashboard

__all__ = ["add_dashboard_parser", "nats_config", "run_dashboard_command"]

DEFAULT_URL: Final = "nats://127.0.0.1:4222"
_EXTRA: Final = (
    "the dashboard needs the 'dashboard' extra: pip install 'kryten-actors[dashboard]' "
    "(or uv add 'kryten-actors[dashboard]')"
)


def add_dashboard_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``dashboard`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "dashboard",
        help="serve a live web dashboard of every bot on the bus (read-only by default)",
        description=(
            "Serve a web page showing every kryten-actors bot that answers on the NATS "
            "server: health, supervision tree, dead letters, throughput. Bound to loopback; "
            "read-only unless --allow-actions. Needs the 'dashboard' extra."
        ),
    )
    parser.add_argument(
        "--nats", help=f"NATS server URL (default: the config's, else $NATS_URL or {DEFAULT_URL})"
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="take NATS servers, credentials and TLS from this bot config file's nats section",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8787, help="port to serve on (default 8787)")
    parser.add_argument(
        "--allow-actions",
        action="store_true",
        help="add restart/stop/join/leave buttons (bots must enable control)",
    )
    parser.add_argument(
        "--interval", type=float, default=0.5, help="seconds between polls (default 0.5)"
    )


def nats_config(url: str | None, config_file: str | None) -> NatsConfig:
    """The connection to use: a bot config's ``nats`` section, with ``url`` overriding servers."""
    base = load_config(config_file).nats if config_file else NatsConfig()
    server = url or (None if config_file else os.environ.get("NATS_URL", DEFAULT_URL))
    if server is None:
        return base.model_copy(update={"name": "kryten-actors-dashboard"})
    data = base.model_dump()
    data.update(servers=[server], name="kryten-actors-dashboard")
    return NatsConfig.model_validate(data)


async def serve(dashboard: Dashboard) -> None:
    """Run ``dashboard`` until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with dashboard:
        sys.stderr.write(f"kryten-actors dashboard: open {dashboard.url} (Ctrl-C stops)\n")
        waiter = asyncio.ensure_future(stop.wait())
        closed = asyncio.ensure_future(dashboard.wait_closed())
        try:
            await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            closed.cancel()


def run_dashboard_command(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C (0), or explain on stderr why not (1)."""
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        # an optional extra, and nothing else needs aiohttp: imported only here
        from kryten_actors.dashboard import Dashboard  # noqa: PLC0415
        from kryten_actors.dashboard.web import exposure_warning  # noqa: PLC0415
    except ImportError as exc:
        sys.stderr.write(f"kryten-actors dashboard: {_EXTRA} ({exc})\n")
        return 1
    warning = exposure_warning(args.host, allow_actions=args.allow_actions)
    if warning is not None:
        sys.stderr.write(f"kryten-actors dashboard: WARNING: {warning}\n")
    try:
        config = nats_config(args.nats, args.config)
        dashboard = Dashboard(
            config,
            host=args.host,
            port=args.port,
            allow_actions=args.allow_actions,
            interval=args.interval,
        )
        asyncio.run(serve(dashboard))
    except KrytenError as exc:
        sys.stderr.write(f"kryten-actors dashboard: {exc}\n")
        return 1
    return 0
