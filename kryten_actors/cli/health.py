"""``kryten-actors health``: ask a running bot for its health over NATS.

Exit codes: 0 healthy, 2 degraded (a channel's bridge is down or its actor is
restarting or failed, or the bot itself is not connected and running; stderr names
the channels and why), 1 no answer or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, Final

from kryten_actors.cli.nats_options import add_bot_target
from kryten_actors.config.connection import NatsConfig
from kryten_actors.config.validation import config_error
from kryten_actors.errors import KrytenError, KrytenValidationError, PublishError
from kryten_actors.transport.base import RetryPolicy
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_service import health_subject

__all__ = ["NoAnswer", "add_health_parser", "ask_health", "run_health_command"]

_ERROR_HEADER: Final = "Nats-Service-Error"
_SORTS: Final = (
    *("name", "state", "bridge", "restarts", "mailbox", "high_water", "processed"),
    *("failed", "dropped", "latency", "uptime", "events", "commands"),
)
_SHOWN: Final = 20  # degraded channels named on stderr


def add_health_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``health`` on the CLI's subcommands."""
    parser = commands.add_parser(
        "health",
        help="print a running bot's health (JSON) over NATS; exit 2 when degraded",
        description=(
            "Ask the bot whose service_name is NAME for its health over NATS and print it "
            "as JSON: a summary by default (counts by state, degraded and worst channels), "
            "or per-channel rows with --channel, --degraded or --channels (paged with "
            "--offset/--limit, or every page with --all). Exits 0 when healthy, 2 when "
            "degraded (the channels and why go to stderr), 1 when no bot answers."
        ),
    )
    add_bot_target(parser)
    parser.add_argument("--member", metavar="ID", help="ask one instance (its micro service id)")
    parser.add_argument(
        "--timeout", type=float, default=3.0, help="seconds for the whole attempt (default 3)"
    )
    view = parser.add_mutually_exclusive_group()
    view.add_argument("--channel", metavar="NAME", help="one channel: NAME or domain/NAME")
    view.add_argument("--degraded", action="store_true", help="the degraded channels")
    view.add_argument("--channels", action="store_true", help="every channel, paged")
    view.add_argument("--dead-letters", action="store_true", help="recent dead letters")
    parser.add_argument("--state", help="only channels whose actor is in STATE (e.g. failed)")
    parser.add_argument("--match", metavar="TEXT", help="only channels whose name contains TEXT")
    parser.add_argument("--sort", choices=_SORTS, default="name", help="row order (default name)")
    parser.add_argument("--offset", type=int, default=0, help="first row of the page (default 0)")
    parser.add_argument("--limit", type=int, default=100, help="rows per page (default 100)")
    parser.add_argument("--all", action="store_true", help="fetch every page into one list")


class NoAnswer(KrytenError):
    """No bot answered the health request, or it answered with an error."""


def _query(args: argparse.Namespace) -> dict[str, Any]:
    if args.dead_letters:
        query: dict[str, Any] = {"view": "dead_letters"}
    elif args.channel or args.degraded or args.channels or args.state or args.match:
        query = {"view": "channels", "sort": args.sort, "degraded": args.degraded}
        for key in ("channel", "state", "match"):
            if getattr(args, key):
                query[key] = getattr(args, key)
    else:
        return {}
    query.update(offset=args.offset, limit=args.limit)
    return query


def _nats_config(url: str, timeout: float) -> NatsConfig:
    try:
        return NatsConfig(servers=[url], connect_timeout=timeout, name="kryten-actors-health")
    except KrytenValidationError as exc:
        flags = [
            ("--nats" if path.startswith("servers") else "--timeout", message)
            for path, message in exc.errors
        ]
        raise config_error(flags, "--nats/--timeout") from None


async def ask_health(
    url: str,
    name: str,
    *,
    timeout: float,  # noqa: ASYNC109 - the CLI's --timeout bounds the whole attempt
    query: dict[str, Any] | None = None,
    member: str | None = None,
    every_page: bool = False,
) -> dict[str, Any]:
    """The health reply of the bot named ``name`` (``query`` as in the health endpoint).

    With ``every_page``, follows ``next_offset`` and returns one reply whose ``items``
    hold every row. Raises :class:`NoAnswer` when nothing answers within ``timeout``
    seconds (connecting included) or the bot answers with an error;
    :class:`KrytenError` subclasses for connection problems.
    """
    config = _nats_config(url, timeout)
    subject = health_subject(name) + (f".{member}" if member else "")
    body = dict(query or {})
    try:
        async with asyncio.timeout(timeout):
            # one attempt: a health probe should report "nobody home" promptly, not retry
            retry = RetryPolicy(attempts=1)
            async with NatsTransport(config, retry=retry, close_timeout=timeout) as nats:
                reply = await _ask(nats, subject, body, name, timeout)
                while every_page and reply.get("next_offset") is not None:
                    body["offset"] = reply["next_offset"]
                    more = await _ask(nats, subject, body, name, timeout)
                    more["items"] = reply["items"] + more["items"]
                    reply = more
    except TimeoutError:
        msg = (
            f"no bot named {name!r} answered on {subject} at {url} within {timeout:g} s; "
            "check that it runs, and its service_name (--name) and NATS URL (--nats)"
        )
        raise NoAnswer(msg) from None
    if every_page and "items" in reply:
        first = (query or {}).get("offset", 0)
        reply.update(offset=first, next_offset=None, returned=len(reply["items"]))
    return reply


async def _ask(
    nats: NatsTransport,
    subject: str,
    body: dict[str, Any],
    name: str,
    timeout: float,  # noqa: ASYNC109 - a backstop; the caller's asyncio.timeout bounds it all
) -> dict[str, Any]:
    try:
        # the caller's asyncio.timeout bounds the whole attempt; this is only a backstop
        reply = await nats.request(subject, json.dumps(body).encode(), timeout=timeout)
    except PublishError as exc:  # no responders: nobody serves the subject
        raise TimeoutError from exc
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


def degraded_lines(reply: dict[str, Any], *, rows: bool) -> list[str]:
    """What makes the reply degraded, one line each (empty when it is healthy)."""
    summary = reply.get("summary", reply)
    lines = [f"bot: {problem}" for problem in summary.get("problems", [])]
    if rows:
        found = [item for item in reply.get("items", []) if item.get("degraded")]
        lines += [f"{item['key']}: {item['degraded']}" for item in found[:_SHOWN]]
        hidden = len(found) - _SHOWN
    else:
        lines += [f"{d['key']}: {d['reason']}" for d in summary.get("degraded", [])[:_SHOWN]]
        hidden = summary.get("degraded_count", 0) - min(_SHOWN, len(summary.get("degraded", [])))
    if hidden > 0:
        lines.append(f"… and {hidden} more (kryten-actors health --degraded --all)")
    return lines


def run_health_command(args: argparse.Namespace) -> int:
    """Print the reply as indented JSON; return 0 healthy, 2 degraded, 1 on no answer."""
    query = _query(args)
    try:
        reply = asyncio.run(
            ask_health(
                args.nats,
                args.name,
                timeout=args.timeout,
                query=query,
                member=args.member,
                every_page=args.all,
            )
        )
    except KrytenError as exc:
        sys.stderr.write(f"kryten-actors health: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(reply, indent=2) + "\n")
    if args.channel and not reply.get("items"):
        sys.stderr.write(f"kryten-actors health: bot {args.name!r} serves no {args.channel!r}\n")
        return 1
    # a view of some channels is judged on those channels; the summary on the whole bot
    lines = degraded_lines(reply, rows=bool(args.channel))
    if not lines:
        return 0
    sys.stderr.write(f"kryten-actors health: bot {args.name!r} is degraded:\n")
    sys.stderr.writelines(f"  {line}\n" for line in lines)
    return 2
