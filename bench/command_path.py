"""What one ``send_chat`` costs, by part: ``python -m bench.command_path [--sends N]``.

Measures ``CommandSender.send`` for a ``SendChat`` in both profiles over a transport
that does nothing (so only the command path is timed: rank check, model build,
encode, retry wrapper, instrumentation scope, reply decode), against the bare parts
(``SendChat(...)``, the encoder, the reply's decode). CPU µs per send, best of 5.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kryten_actors.bot.sender import CommandSender
from kryten_actors.observability.instrumentation import NoInstrumentation
from kryten_actors.protocol.commands import SendChat, encoder_for
from kryten_actors.transport.base import RetryPolicy, TransportStats
from kryten_actors.transport.retry import send_with_retry


class _Reply:
    subject = "_INBOX.x"
    reply = ""
    headers = None
    data = b'{"success": true, "data": {}}'


class NullTransport:
    """Accepts every publish and answers every request at once."""

    stats = TransportStats()
    is_connected = True

    async def publish(self, subject: str, data: bytes, *, headers: Any = None) -> None:
        return None

    async def request(self, subject: str, data: bytes, **_: Any) -> Any:
        return _Reply()


async def _timed(label: str, n: int, call: Callable[[], Awaitable[Any] | Any]) -> tuple[str, float]:
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(n):
            result = call()
            if asyncio.iscoroutine(result):
                await result
        best = min(best, time.process_time() - started)
    return label, best / n * 1e6


async def measure(n: int) -> list[tuple[str, float]]:
    rows = []
    for profile in ("seed", "kryten-robot"):
        sender = CommandSender(
            NullTransport(),  # type: ignore[arg-type]
            encoder_for(profile),
            source="bench",
            command_timeout=5.0,
            instrumentation=NoInstrumentation(),
        )
        command = SendChat(message="hello there")
        rows.append(
            await _timed(
                f"CommandSender.send(SendChat), {profile}",
                n,
                functools.partial(sender.send, command, domain="cytu.be", channel="lounge"),
            )
        )
        encoder = encoder_for(profile)
        rows.append(
            await _timed(
                f"encode only, {profile}",
                n,
                functools.partial(
                    encoder.encode,
                    command,
                    domain="cytu.be",
                    channel="lounge",
                    correlation_id="c",
                    source="b",
                ),
            )
        )
    rows.append(
        await _timed("SendChat(message=...) (model build)", n, lambda: SendChat(message="x"))
    )
    robot, chat = encoder_for("kryten-robot"), SendChat(message="x")
    rows.append(
        await _timed(
            "decode_reply (the reply's JSON, the typed result)",
            n,
            lambda: robot.decode_reply(chat, _Reply.data, "c"),
        )
    )

    async def nothing() -> None:
        return None

    policy, stats = RetryPolicy(), TransportStats()
    rows.append(
        await _timed(
            "send_with_retry around a no-op (first try succeeds)",
            n,
            lambda: send_with_retry(
                nothing, policy=policy, stats=stats, subject="s", retryable=(OSError,), describe=str
            ),
        )
    )
    return rows


def table(rows: list[tuple[str, float]]) -> str:
    lines = ["| part | CPU µs per send |", "|---|---|"]
    lines += [f"| {label} | {value:.2f} |" for label, value in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.command_path", description=__doc__)
    parser.add_argument("--sends", type=int, default=20_000)
    args = parser.parse_args()
    print(table(asyncio.run(measure(args.sends))))


if __name__ == "__main__":
    main()
