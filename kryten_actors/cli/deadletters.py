"""``kryten-actors deadletters``: print the dead letters a bot publishes over NATS.

A bot with ``publish_dead_letters: true`` publishes each dead letter on
``kryten.deadletters.{service_name}.{channel}`` (see
:mod:`kryten_actors.bot.dead_letter_feed`). ``--follow`` prints them as they come until
Ctrl-C; without it, those arriving within ``--seconds``. One line per letter, or the
JSON object itself with ``--json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from typing import Any, Final, TextIO

from kryten_actors.bot.dead_letter_feed import DEAD_LETTER_PREFIX
from kryten_actors.cli.nats_options import add_bot_target, nats_options
from kryten_actors.errors import KrytenError, KrytenValidationError
from kryten_actors.protocol.subjects import sanitize_token
from kryten_actors.transport.base import InboundMessage
from kryten_actors.transport.nats import NatsTransport

__all__ = ["add_deadletters_parser", "format_letter", "run_deadletters_command"]

_PREVIEW_CHARS: Final = 120


def _seconds(value: str) -> float:
    seconds = float(value)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {value}")
    return seconds


def add_deadletters_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``deadletters`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "deadletters",
        help="print the dead letters a bot publishes (publish_dead_letters: true)",
        description=(
            "Print the dead letters the bot whose service_name is NAME publishes on "
            "kryten.deadletters.NAME.* (the bot needs publish_dead_letters: true). "
            "--follow prints them until Ctrl-C."
        ),
    )
    add_bot_target(parser)
    parser.add_argument("--channel", help="only this channel's letters")
    parser.add_argument("--follow", "-f", action="store_true", help="print until Ctrl-C")
    parser.add_argument(
        "--seconds",
        type=_seconds,
        default=5.0,
        help="without --follow: how long to listen (default 5)",
    )
    parser.add_argument("--json", action="store_true", help="print each letter's JSON object")


def format_letter(letter: dict[str, Any]) -> str:
    """One readable line: time, where, reason, size, error and the start of the body."""
    where = "/".join(str(p) for p in (letter.get("domain"), letter.get("channel")) if p)
    preview = str(letter.get("preview") or "").replace("\n", " ")
    if len(preview) > _PREVIEW_CHARS or letter.get("truncated"):
        preview = preview[:_PREVIEW_CHARS] + "…"
    parts = [
        str(letter.get("time", "?")),
        where or str(letter.get("subject") or "-"),
        str(letter.get("reason", "?")),
        f"{letter.get('size', '?')} B",
    ]
    if letter.get("event"):
        parts.append(f"event={letter['event']}")
    if letter.get("error"):
        parts.append(f"error={letter['error']}")
    if letter.get("correlation_id"):
        parts.append(f"cid={letter['correlation_id']}")
    return "  ".join(parts) + (f"\n    {preview}" if preview else "")


def _subject(name: str, channel: str | None) -> str:
    bot = sanitize_token(name)
    if not bot:
        raise KrytenValidationError(f"--name: {name!r} is not a service name", [("--name", name)])
    if channel is None:
        return f"{DEAD_LETTER_PREFIX}.{bot}.>"
    token = sanitize_token(channel)
    if not token:
        raise KrytenValidationError(f"--channel: {channel!r} is not a channel name")
    return f"{DEAD_LETTER_PREFIX}.{bot}.{token}"


async def follow(args: argparse.Namespace, out: TextIO, stop: asyncio.Event) -> int:
    """Print letters until ``stop`` (or ``--seconds`` without ``--follow``); returns how many."""
    subject = _subject(args.name, args.channel)
    config = nats_options(args.nats, name="kryten-actors-deadletters")
    count = 0

    async def on_letter(message: InboundMessage) -> None:
        nonlocal count
        count += 1
        try:
            letter = json.loads(message.data)
        except ValueError:
            letter = {"subject": message.subject, "preview": repr(message.data[:200])}
        text = json.dumps(letter) if args.json else format_letter(letter)
        out.write(text + "\n")
        out.flush()

    async with NatsTransport(config) as nats:
        await nats.subscribe(subject, on_letter)
        if args.follow:
            sys.stderr.write(f"following {subject} at {args.nats} (Ctrl-C to stop)\n")
            await stop.wait()
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.seconds)
    return count


async def _main(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    return await follow(args, sys.stdout, stop)


def run_deadletters_command(args: argparse.Namespace) -> int:
    """Print the letters; 0 when done (or interrupted), 1 when NATS cannot be reached."""
    try:
        count = asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 0
    except KrytenError as exc:
        sys.stderr.write(f"kryten-actors deadletters: {exc}\n")
        return 1
    if not args.follow:
        sys.stderr.write(f"{count} dead letter(s) in {args.seconds:g} s\n")
    return 0
