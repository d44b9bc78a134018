"""``kryten-actors health``: ask a running bot for its health report over NATS."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any, Final

from kryten_actors.cli.nats_options import nats_options
from kryten_actors.errors import KrytenError, PublishError
from kryten_actors.transport.base import RetryPolicy
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_service import health_subject

__all__ = ["add_health_parser", "ask_health", "run_health_command"]

DEFAULT_URL: Final = "nats://127.0.0.1:4222"
DEFAULT_NAME: Final = "kryten-actors"
_ERROR_HEADER: Final = "Nats-Service-Error"
_CLOSE_TIMEOUT: Final = 0.5
_MIN_REQUEST: Final = 0.05


def add_health_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``health`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "health",
        help="print a running bot's health report (JSON) over NATS",
        description=(
            "Ask the bot whose service_name is NAME for its health over NATS and print the "
            "JSON report. Exits 1 when no bot answers."
        ),
    )
    parser.add_argument(
        "--nats",
        default=os.environ.get("NATS_URL", DEFAULT_URL),
        help=f"NATS server URL (default: $NATS_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--name",
        default=DEFAULT_NAME,
        help=f"the bot's service_name (default {DEFAULT_NAME})",
    )
    parser.add_argument(
        "--timeout", type=float, default=3.0, help="seconds to wait for an answer (default 3)"
    )


class NoAnswer(KrytenError):
    """No bot answered the health request."""


async def ask_health(url: str, name: str, *, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109 - the CLI's --timeout is a per-request deadline
    """The health report of the bot named ``name`` on the NATS server at ``url``.

    Raises :class:`NoAnswer` when nothing answers within ``timeout`` seconds, or the bot
    answers with a service error; :class:`KrytenError` subclasses for connection problems.
    """
    config = nats_options(url, name="kryten-actors-health", timeout=timeout)
    subject = health_subject(name)
    # One deadline for the whole attempt: the request gets what connecting left over,
    # and closing (after an answer, or with a server that stopped answering) gets 0.5 s.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    close_timeout = min(_CLOSE_TIMEOUT, timeout)
    # one attempt: a health probe should report "nobody home" promptly, not retry
    async with NatsTransport(
        config, retry=RetryPolicy(attempts=1), close_timeout=close_timeout
    ) as nats:
        try:
            remaining = max(deadline - loop.time(), _MIN_REQUEST)
            reply = await nats.request(subject, b"", timeout=remaining)
        except (TimeoutError, PublishError) as exc:
            msg = (
                f"no bot named {name!r} answered on {subject} at {url} within {timeout:g} s; "
                "check that it runs, and its service_name (--name) and NATS URL (--nats)"
            )
            raise NoAnswer(msg) from exc
    headers = reply.headers or {}
    if _ERROR_HEADER in headers:
        msg = f"bot {name!r} could not report its health: {headers[_ERROR_HEADER]}"
        raise NoAnswer(msg)
    try:
        report: object = json.loads(reply.data)
    except ValueError as exc:
        msg = f"bot {name!r} answered with something that is not JSON: {exc}"
        raise NoAnswer(msg) from exc
    if not isinstance(report, dict):
        msg = f"bot {name!r} answered with JSON that is not an object"
        raise NoAnswer(msg)
    return report


def run_health_command(args: argparse.Namespace) -> int:
    """Print the report as indented JSON and return 0, or explain on stderr and return 1."""
    try:
        report = asyncio.run(ask_health(args.nats, args.name, timeout=args.timeout))
    except KrytenError as exc:
        sys.stderr.write(f"kryten-actors health: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 0
