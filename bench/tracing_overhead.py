"""Tracing overhead: the throughput case (100 channels, Bot) with tracing off, 100 % and
1 % sampled.

Tracing runs the real OpenTelemetry SDK pipeline the bot builds from its config
(``OtelInstrumentation``: tracer provider, ratio sampler, ``BatchSpanProcessor``,
OTLP/HTTP exporter) exporting to a local receiver in another process
(:mod:`bench.otlp_sink`), which counts the spans it got.
"""

from __future__ import annotations

from typing import Any

from bench.measurement import measure
from bench.processes import Child
from bench.report import table
from kryten_actors.transport.server import free_port

NAME = "tracing_overhead"
CHANNELS = 100
CAPACITY = 1000
OVERFLOW = "block"
SETTINGS: dict[str, float | None] = {"off": None, "100 %": 1.0, "1 %": 0.01}


def plan(quick: bool) -> list[dict[str, Any]]:
    events = 20_000 if quick else 100_000
    repeats = 1 if quick else 3
    return [
        {"case": NAME, "tracing": name, "events": events}
        for _ in range(repeats)
        for name in SETTINGS
    ]


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    ratio = SETTINGS[spec["tracing"]]
    options: dict[str, Any] = {"capacity": CAPACITY, "overflow": OVERFLOW}
    if ratio is None:
        return await measure(
            "bot",
            spec["url"],
            channels=CHANNELS,
            events=spec["events"],
            options=options,
            backlog=True,
        )
    port = free_port()
    async with Child("bench.otlp_sink", str(port)) as sink:
        options["config"] = {
            "tracing": {
                "enabled": True,
                "endpoint": f"http://127.0.0.1:{port}",
                "sample_ratio": ratio,
            }
        }
        result = await measure(
            "bot",
            spec["url"],
            channels=CHANNELS,
            events=spec["events"],
            options=options,
            backlog=True,
        )
        sink.stop()
        exported = await sink.result()
    return {**result, "spans": exported["spans"], "exports": exported["requests"]}


def summarize(results: list[dict[str, Any]]) -> str:
    best: dict[str, tuple[float | None, float | None]] = {}
    rows = []
    notes = []
    for name in SETTINGS:
        runs = [r for r in results if r["tracing"] == name]
        if not runs:
            continue
        lost = sum(r["lost"] for r in runs)
        if lost:
            notes.append(f"- tracing {name} LOST {lost} events")
        rates = [r["rate"] for r in runs if r["rate"]]
        cpus = [r["cpu_us_per_event"] for r in runs if not r["lost"]]
        best[name] = (max(rates) if rates else None, min(cpus) if cpus else None)
        spans = runs[-1].get("spans")
        rows.append([name, *best[name], spans])
    off_rate, off_cpu = best.get("off", (None, None))
    for row in rows:
        rate, cpu = row[1], row[2]
        rate_over = (off_rate / rate - 1) * 100 if off_rate and isinstance(rate, float) else None
        cpu_over = (cpu / off_cpu - 1) * 100 if off_cpu and isinstance(cpu, float) else None
        row[3:3] = [rate_over, cpu_over]
    events = results[0]["events"] if results else 0
    head = (
        f"Bot, {CHANNELS} channels, {events:,} events per run, best of "
        f"{max(1, len(results) // len(SETTINGS))}; mailbox capacity {CAPACITY}, overflow "
        f"`{OVERFLOW}`. Overhead is relative to tracing off, by wall rate and by CPU per "
        "event. Spans = what the OTLP receiver got in the last run (the SDK's batch "
        "processor drops spans when its queue of 2048 is full)."
    )
    body = table(
        ["tracing", "ev/s", "CPU µs/ev", "overhead % (rate)", "overhead % (CPU)", "spans exported"],
        rows,
    )
    return "\n\n".join([head, body, "\n".join(notes) or "No run lost an event."])
