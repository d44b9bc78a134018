"""``kryten-actors demo``: the embedded demo with a live per-channel table.

On a terminal the table is a ``rich`` live view refreshed about four times a second; when
stdout is a pipe or a file a plain table is printed every second instead. Either way a
summary follows, and the process exits 0 after ``--seconds`` or on Ctrl-C/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal
import sys
from collections.abc import Iterator
from typing import Final, TextIO

from rich.console import Console
from rich.live import Live

from kryten_actors.cli.table import LEGEND, plain_table, rich_table, summary_text
from kryten_actors.demo.runner import DEMO_SERVICE_NAME, DemoSnapshot, channel_names, run_demo
from kryten_actors.errors import KrytenError

__all__ = ["add_demo_parser", "run_demo_command"]

_MAX_CHANNELS: Final = 50
_LIVE_REFRESH: Final = 4.0
_PLAIN_EVERY: Final = 1.0


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not (seconds > 0 and math.isfinite(seconds)):
        raise argparse.ArgumentTypeError(
            f"must be more than 0 seconds, got {value} (leave it out to run until Ctrl-C)"
        )
    return seconds


def _channels(value: str) -> int:
    try:
        count = int(value)
        channel_names(count)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {_MAX_CHANNELS}, got {value}"
        ) from None
    return count


def add_demo_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``demo`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "demo",
        help="run a multi-channel bot against an embedded NATS and a simulated bridge",
        description=(
            "Start an embedded nats-server, a simulated CyTube bridge for N channels and the "
            "demo bot, and show a live per-channel table. One channel (marked *) crashes its "
            "actor now and then so you can watch supervised restarts."
        ),
    )
    parser.add_argument(
        "--channels",
        type=_channels,
        default=5,
        help=f"number of channels, 1 to {_MAX_CHANNELS} (default 5)",
    )
    parser.add_argument(
        "--seconds",
        type=_seconds,
        default=None,
        help="stop after this many seconds (default: Ctrl-C)",
    )
    parser.add_argument(
        "--profile",
        choices=("seed", "kryten-robot"),
        default="seed",
        help="subject scheme: seed (cytube.*) or kryten-robot (the real bridge's kryten.*)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also log warnings (each crash, with traceback)"
    )


@contextlib.contextmanager
def _stop_on_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> Iterator[None]:
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # not available off the main thread or on some platforms; Ctrl-C still interrupts
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def _ready_text(url: str) -> str:
    return (
        f"nats-server on {url}; the bot answers "
        f"`kryten-actors health --nats {url} --name {DEMO_SERVICE_NAME}`\n"
        'talk to it from another terminal: kryten-actors say --channel lounge "!roll"'
    )


async def _run_live(args: argparse.Namespace, console: Console) -> DemoSnapshot:
    stop = asyncio.Event()
    with (
        _stop_on_signals(asyncio.get_running_loop(), stop),
        Live(console=console, refresh_per_second=_LIVE_REFRESH, transient=True) as live,
    ):
        return await run_demo(
            args.channels,
            args.seconds,
            args.profile,
            lambda snapshot: live.update(rich_table(snapshot)),
            stop=stop,
            on_ready=lambda url: live.console.print(_ready_text(url)),
        )


async def _run_plain(args: argparse.Namespace, out: TextIO) -> DemoSnapshot:
    stop = asyncio.Event()
    next_print = 0.0

    def tick(snapshot: DemoSnapshot) -> None:
        nonlocal next_print
        if snapshot.elapsed >= next_print:
            next_print = snapshot.elapsed + _PLAIN_EVERY
            out.write(plain_table(snapshot) + "\n\n")
            out.flush()

    def ready(url: str) -> None:
        out.write(_ready_text(url) + "\n" + "\n".join(LEGEND) + "\n\n")
        out.flush()

    with _stop_on_signals(asyncio.get_running_loop(), stop):
        return await run_demo(
            args.channels, args.seconds, args.profile, tick, stop=stop, on_ready=ready
        )


def run_demo_command(args: argparse.Namespace) -> int:
    """Run the demo; 0 when it ran to the end or was interrupted, 1 when it could not start."""
    logging.basicConfig(
        level=logging.WARNING if args.verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    out = sys.stdout
    try:
        if out.isatty():
            console = Console(file=out)
            final = asyncio.run(_run_live(args, console))
            console.print(rich_table(final, title="kryten-actors demo: final"))
            console.print(summary_text(final), highlight=False)
        else:
            final = asyncio.run(_run_plain(args, out))
            out.write("final\n" + plain_table(final) + "\n\n" + summary_text(final) + "\n")
    except KeyboardInterrupt:
        # only when no signal handler could be installed; run_demo's cleanup has run
        return 0
    except KrytenError as exc:
        sys.stderr.write(f"kryten-actors demo: {exc}\n")
        return 1
    return 0
