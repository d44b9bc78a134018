"""Throughput: bridge-identical ``chatMsg`` envelopes over 1, 100 and 1000 channels.

Consumers compared in one run: (a) raw nats-py (one wildcard subscription,
``json.loads``, a per-channel counter), (b) a ``Bot`` with a counting
``ChannelActor`` whose trivial handler receives the typed ``ChatMessageEvent``,
(c) the ``KrytenClient`` facade with the same handler, and the peers kryten-py
0.17.5 and FastStream 0.7.8 (see :mod:`bench.peers`; run from a separate bench
environment). Each run publishes from a separate process into a backlog (see
:func:`bench.measurement.measure`), then measures how fast the consumer drains it,
and how much CPU it spent per event. Cases of one channel count are interleaved.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bench.consumers import CONSUMERS
from bench.measurement import measure
from bench.peers import PEERS, peer_python
from bench.report import table

NAME = "throughput"
CAPACITY = 1000
OVERFLOW = "block"  # lossless: the router waits for room instead of dropping


def plan(quick: bool) -> list[dict[str, Any]]:
    events = 20_000 if quick else 100_000
    repeats = 1 if quick else 3
    python = peer_python()
    kinds: list[tuple[str, str | None]] = [(kind, None) for kind in CONSUMERS]
    if python is not None:
        kinds += [(peer, python) for peer in PEERS]
    return [
        {"case": NAME, "consumer": kind, "channels": channels, "events": events}
        | ({"python": py} if py else {})
        for channels in (1, 100, 1000)
        for _ in range(repeats)
        for kind, py in kinds
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
    kinds = [k for k in (*CONSUMERS, *PEERS) if any(kind == k for _, kind in grouped)]
    rows = []
    notes = []
    for channels in sorted({c for c, _ in grouped}):
        best = {kind: _best(grouped[(channels, kind)]) for kind in kinds}
        for kind, (_, _, lost) in best.items():
            if lost:
                notes.append(f"- {kind} at {channels} channel(s) LOST {lost} events")
        raw_rate, raw_cpu, _ = best["raw"]
        row: list[object] = [channels, raw_rate, raw_cpu]
        for kind in kinds[1:]:
            rate, cpu, _ = best[kind]
            row += [rate, _ratio(raw_rate, rate), cpu, _ratio(cpu, raw_cpu)]
        rows.append(row)
    runs = len(grouped[next(iter(grouped))]) if grouped else 0
    events = results[0]["events"] if results else 0
    head = (
        f"{events:,} events per run, best of {runs} run(s) per cell; mailbox capacity "
        f"{CAPACITY}, overflow `{OVERFLOW}`. Every run checked that each channel received "
        "exactly what was published to it (a run that lost events shows — and is listed). "
        "x raw: events/s relative to raw nats-py; CPU x raw: raw's CPU per event divided by "
        "the consumer's (above 1: cheaper than raw)."
    )
    headers = ["channels", "raw nats-py ev/s", "raw CPU µs/ev"]
    for kind in kinds[1:]:
        label = {"bot": "Bot", "client": "KrytenClient"}.get(kind, kind)
        headers += [f"{label} ev/s", "x raw", f"{label} CPU µs/ev", "CPU x raw"]
    body = table(headers, rows)
    return "\n\n".join([head, body, "\n".join(notes) or "No run lost an event."])
