"""Throughput: bridge-identical ``chatMsg`` envelopes over 1, 100 and 1000 channels.

Consumers compared in one run: (a) raw nats-py (one wildcard subscription,
``json.loads``, a per-channel counter), (b) a ``Bot`` with a counting
``ChannelActor`` whose trivial handler receives the typed ``ChatMessageEvent``,
(c) the ``KrytenClient`` facade with the same handler. Each run publishes from a
separate process into a backlog (see :func:`bench.measurement.measure`), then
measures how fast the consumer drains it, and how much CPU it spent per event.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bench.consumers import CONSUMERS
from bench.measurement import measure
from bench.report import table

NAME = "throughput"
CAPACITY = 1000
OVERFLOW = "block"  # lossless: the router waits for room instead of dropping


def plan(quick: bool) -> list[dict[str, Any]]:
    events = 20_000 if quick else 100_000
    repeats = 1 if quick else 3
    return [
        {"case": NAME, "consumer": kind, "channels": channels, "events": events}
        for channels in (1, 100, 1000)
        for _ in range(repeats)
        for kind in CONSUMERS
    ]


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    return await measure(
        spec["consumer"],
        spec["url"],
        channels=spec["channels"],
        events=spec["events"],
        options={"capacity": CAPACITY, "overflow": OVERFLOW, **spec.get("options", {})},
        backlog=True,
    )


def _best(runs: list[dict[str, Any]]) -> tuple[float | None, float | None, int]:
    lost = sum(r["lost"] for r in runs)
    rates = [r["rate"] for r in runs if r["rate"] is not None]
    cpus = [r["cpu_us_per_event"] for r in runs if not r["lost"]]
    return (max(rates) if rates else None, min(cpus) if cpus else None, lost)


def _ratio(a: float | None, b: float | None) -> float | None:
    return b / a if a and b else None


def summarize(results: list[dict[str, Any]]) -> str:
    grouped: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        grouped[(r["channels"], r["consumer"])].append(r)
    rows = []
    notes = []
    for channels in sorted({c for c, _ in grouped}):
        best = {kind: _best(grouped[(channels, kind)]) for kind in CONSUMERS}
        for kind, (_, _, lost) in best.items():
            if lost:
                notes.append(f"- {kind} at {channels} channel(s) LOST {lost} events")
        (ra, ca, _), (rb, cb, _), (rc, cc, _) = best["raw"], best["bot"], best["client"]
        rows.append(
            [
                channels,
                ra,
                rb,
                _ratio(ra, rb),
                rc,
                _ratio(ra, rc),
                ca,
                cb,
                cc,
                _ratio(cb, ca),
            ]
        )
    runs = len(grouped[next(iter(grouped))]) if grouped else 0
    events = results[0]["events"] if results else 0
    head = (
        f"{events:,} events per run, best of {runs} run(s) per cell; mailbox capacity "
        f"{CAPACITY}, overflow `{OVERFLOW}`. Every run checked that each channel received "
        "exactly what was published to it (a run that lost events shows — and is listed)."
    )
    body = table(
        [
            "channels",
            "raw nats-py ev/s (a)",
            "Bot ev/s (b)",
            "b/a",
            "KrytenClient ev/s (c)",
            "c/a",
            "raw CPU µs/ev",
            "Bot CPU µs/ev",
            "client CPU µs/ev",
            "CPU a/b",
        ],
        rows,
    )
    return "\n\n".join([head, body, "\n".join(notes) or "No run lost an event."])
