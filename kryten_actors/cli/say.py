"""``kryten-actors say``: talk to a running demo (or simulated bridge) as a chat user.

``kryten-actors say --channel lounge "!roll"`` has the simulated bridge publish the line
as user ``you`` typed it in CyTube, then prints what the bot says in that channel
during the next ``--wait`` seconds. Without TEXT it reads lines from the terminal (or
stdin) and prints the bot's lines as they come, until end of input. The demo's NATS
URL and channels are found on their own (see :mod:`kryten_actors.demo.discovery`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Final, TextIO

from kryten_actors.cli.nats_options import nats_options
from kryten_actors.demo.discovery import DemoInfo, read_demo_info
from kryten_actors.demo.say import SayReply, ask_to_say, say_request, say_subject
from kryten_actors.errors import KrytenError, KrytenTimeoutError, PublishError
from kryten_actors.protocol.events import decode_event
from kryten_actors.protocol.subjects import ROBOT_SCHEME, SEED_SCHEME
from kryten_actors.protocol.user_events import ChatMessageEvent
from kryten_actors.transport.base import InboundMessage
from kryten_actors.transport.nats import NatsTransport

__all__ = ["add_say_parser", "run_say_command"]

DEFAULT_URL: Final = "nats://127.0.0.1:4222"
_ANSWER_TIMEOUT: Final = 3.0


def _positive(value: str) -> float:
    seconds = float(value)
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {value}")
    return seconds


def add_say_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``say`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "say",
        help="say a chat line as a user in a running demo (or a simulated bridge)",
        description=(
            "Have the simulated bridge of a running `kryten-actors demo` (or of "
            "examples/simulated_bridge.py) publish TEXT as a chat line typed by --user in "
            "--channel, and print what the bot answers. Without TEXT, read lines from the "
            "terminal until end of input (Ctrl-D)."
        ),
    )
    parser.add_argument("text", nargs="?", help='the chat line, e.g. "!roll" (quote it)')
    parser.add_argument("--channel", help="the channel (default: the demo's first)")
    parser.add_argument("--user", default="you", help="who says it (default: you)")
    parser.add_argument(
        "--nats", help=f"NATS URL (default: the running demo's, else $NATS_URL or {DEFAULT_URL})"
    )
    parser.add_argument(
        "--wait",
        type=_positive,
        default=2.0,
        help="seconds to print the bot's answers after a line (default 2)",
    )


def _bot_lines(
    channel: str, bot: Callable[[], str | None], out: TextIO
) -> Callable[[InboundMessage], Awaitable[None]]:
    """A subscription callback printing the chat lines of the bot account in ``channel``."""

    async def on_message(message: InboundMessage) -> None:
        parsed = ROBOT_SCHEME.parse_event(message.subject) or SEED_SCHEME.parse_event(
            message.subject
        )
        if parsed is None or parsed.channel != channel or parsed.event != "chatmsg":
            return
        event, error = decode_event(message.data, event_hint=parsed.event)
        name = bot()
        if error is None and isinstance(event, ChatMessageEvent) and event.username == name:
            out.write(f"{event.username}: {event.message}\n")
            out.flush()

    return on_message


async def _lines(prompt: str) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    if prompt:
        sys.stdout.write(prompt)
        sys.stdout.flush()
    return reader


async def _converse(
    args: argparse.Namespace, url: str, channel: str, info: DemoInfo | None
) -> None:
    out = sys.stdout
    bot: list[str | None] = [info.bot_name if info else None]
    config = nats_options(url, name="kryten-actors-say")
    async with NatsTransport(config) as nats:
        printer = _bot_lines(channel, lambda: bot[0], out)
        await nats.subscribe(f"kryten.events.cytube.{channel}.chatmsg", printer)
        await nats.subscribe("cytube.events.>", printer)

        async def say(text: str) -> SayReply:
            # written first: the bot's answer may arrive before the bridge's reply does
            out.write(f"{args.user} in {channel}: {text}\n")
            out.flush()
            try:
                reply = await ask_to_say(nats, channel, args.user, text, timeout=_ANSWER_TIMEOUT)
            except (PublishError, KrytenTimeoutError) as exc:
                msg = (
                    f"no simulated bridge answered on {say_subject(channel)} at {url}; start "
                    "`kryten-actors demo` (or examples/simulated_bridge.py) first, or pass "
                    "--nats with its URL"
                )
                raise KrytenError(msg) from exc
            bot[0] = reply.bot
            return reply

        if args.text is not None:
            await say(args.text)
            await asyncio.sleep(args.wait)  # the window in which answers are printed
            return
        interactive = sys.stdin.isatty()
        prompt = f"{channel}> " if interactive else ""
        reader = await _lines(prompt)
        while line := await reader.readline():
            text = line.decode(errors="replace").strip()
            if text:
                await say(text)
            if interactive:
                await asyncio.sleep(min(args.wait, 0.5))  # let the answer print first
                out.write(prompt)
                out.flush()
        await asyncio.sleep(args.wait)


def run_say_command(args: argparse.Namespace) -> int:
    """Say the line(s); 0 when the bridge took them, 1 with the reason when not."""
    info = read_demo_info()
    url = args.nats or (info.url if info else None) or os.environ.get("NATS_URL", DEFAULT_URL)
    channel = (args.channel or (info.channels[0] if info else "")).lower()
    if not channel:
        sys.stderr.write(
            "kryten-actors say: no running demo found, so name the channel: --channel NAME "
            "(and --nats URL if the bridge is not on the default server)\n"
        )
        return 1
    try:
        say_request(args.user, args.text if args.text is not None else "-")  # before connecting
        asyncio.run(_converse(args, url, channel, info))
    except KeyboardInterrupt:
        return 0
    except KrytenError as exc:
        sys.stderr.write(f"kryten-actors say: {exc}\n")
        return 1
    return 0
