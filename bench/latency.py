"""Latency at fixed offered rates: publish → handler start, and event in → command out.

The publisher (a separate process) paces ``chatMsg`` envelopes over 100 channels
at 1k, 5k and 20k events/s and stamps each with ``perf_counter_ns()`` as it hands
it to nats-py. The handler computes its delay when it starts with the decoded
event. For event → command, the handler sends a ``sendChat`` carrying the stamp
(request/reply, as the kryten-robot profile does) and an independent subscriber
process (:mod:`bench.responder`) notes its arrival and replies. The first 10 % of
each run is warm-up and not counted.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar

from bench.consumers import Tally
from bench.measurement import measure
from bench.processes import Child
from bench.report import percentile, table
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.handlers import on
from kryten_actors.protocol.events import ChatMessageEvent

NAME = "latency"
RATES = (1_000, 5_000, 10_000, 20_000)
CHANNEL_COUNTS = (100, 1_000)
COMMAND_CHANNELS = 100
CAPACITY = 1000
OVERFLOW = "drop_newest"  # the default: a late event is dropped (and counted), never waited for
WARMUP = 0.1


class CommandingActor(ChannelActor):
    """Counts the event, then answers it with a ``sendChat`` carrying the stamp."""

    tally: ClassVar[Tally]

    @on("chatMsg")
    async def answer(self, event: ChatMessageEvent) -> None:
        self.tally.hit(self.channel, event.payload.msg)
        await self.send_chat(f"lat {event.payload.msg}")


def plan(quick: bool) -> list[dict[str, Any]]:
    seconds = 2.0 if quick else 6.0
    return [
        {
            "case": NAME,
            "consumer": kind,
            "offered": rate,
            "channels": channels,
            "events": int(rate * seconds),
        }
        for channels in CHANNEL_COUNTS
        for rate in RATES
        for kind in ("raw", "bot", "command")
        if kind != "command" or channels == COMMAND_CHANNELS
    ]


def _summary(latencies_ns: list[int]) -> dict[str, float]:
    kept = sorted(latencies_ns[int(len(latencies_ns) * WARMUP) :])
    ms = [v / 1e6 for v in kept]
    return {"p50": percentile(ms, 0.50), "p99": percentile(ms, 0.99), "max": ms[-1] if ms else 0.0}


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec["consumer"]
    options: dict[str, Any] = {"capacity": CAPACITY, "overflow": OVERFLOW}
    bound = spec["events"] / spec["offered"] + 60
    if kind != "command":
        result = await measure(
            kind,
            spec["url"],
            channels=spec["channels"],
            events=spec["events"],
            rate=spec["offered"],
            options=options,
            bound=bound,
        )
        return {**_drop_raw(result), "handler": _summary(result["latencies_ns"])}
    async with Child("bench.responder", spec["url"]) as responder:
        options["actor_class"] = CommandingActor
        # the bot's command path, not CyTube's chat limiter (10 lines/s per channel after
        # a burst of 20, which a line per event at these rates exceeds many times over)
        options["config"] = {"chat": {"pace": False}}
        result = await measure(
            "bot",
            spec["url"],
            channels=spec["channels"],
            events=spec["events"],
            rate=spec["offered"],
            options=options,
            bound=bound,
        )
        responder.stop()
        answered = await responder.result()
    return {
        **_drop_raw(result),
        "handler": _summary(result["latencies_ns"]),
        "command": _summary(answered["latencies_ns"]),
        "commands_arrived": answered["count"],
    }


def _drop_raw(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "latencies_ns"}


def summarize(results: list[dict[str, Any]]) -> str:
    rows = []
    notes = []
    cells: dict[tuple[int, int], dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in results:
        cells[(r["channels"], r["offered"])][r["consumer"]] = r
        if r["lost"]:
            notes.append(f"- {r['consumer']} at {r['offered']}/s LOST {r['lost']} events")
        if r["consumer"] == "command" and r["commands_arrived"] != r["published"]:
            missing = r["published"] - r["commands_arrived"]
            notes.append(f"- command at {r['offered']}/s: {missing} commands did not arrive")
    for channels, rate in sorted(cells):
        runs = cells[(channels, rate)]
        row: list[object] = [channels, rate]
        for kind, key in (("raw", "handler"), ("bot", "handler"), ("command", "command")):
            s = runs.get(kind, {}).get(key) if kind in runs and not runs[kind]["lost"] else None
            row += [s["p50"], s["p99"], s["max"]] if s else [None, None, None]
        rows.append(row)
    head = (
        f"Round-robin over the channels; mailbox capacity {CAPACITY}, overflow `{OVERFLOW}`; "
        f"milliseconds; the first {WARMUP:.0%} of each run is warm-up. Event → handler is "
        "measured when the handler starts with the decoded event (after `json.loads` for raw "
        "nats-py); event → command (at 100 channels, `chat.pace` off: the bot's command "
        "path, not CyTube's chat limit) when the independent subscriber receives the "
        "`sendChat` the handler sent (kryten-robot request/reply)."
    )
    body = table(
        [
            "channels",
            "offered ev/s",
            "raw p50",
            "raw p99",
            "raw max",
            "Bot p50",
            "Bot p99",
            "Bot max",
            "→cmd p50",
            "→cmd p99",
            "→cmd max",
        ],
        rows,
    )
    return "\n\n".join([head, body, "\n".join(notes) or "No run lost an event or a command."])
