"""Where the time goes per event: CPU µs per stage of the hot path, by ablation.

``python -m bench.profile [--events N] [--rounds R] [--cprofile]``

Every stack is built in this one process, connected to a real nats-server, and fed
the same pre-built 32 KiB chunks of NATS ``MSG`` frames (bridge-identical ``chatMsg``
envelopes) straight into its connection's protocol parser; CPU time is read around
the feeding plus the drain (medians of ``rounds``). Stages are measured by cutting
the path short, each variant on the same frames:

- ``parse``: the lean parser hands each frame to a no-op handler;
- ``+ route``: the router parses the subject, looks up the channel, builds the
  delivery, and tells a sink that only counts;
- ``+ mailbox, dispatch``: the real actors, with the decode replaced by a ready event;
- ``+ decode (full)``: the whole path, the typed decode included.

The plain nats-py consumer (callback + ``json.loads``) is fed the same frames.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

import nats

from bench.envelopes import DOMAIN, channel_names, chat_envelope, subject_for
from kryten_actors.bot import handling as handling_module
from kryten_actors.bot.app import Bot
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.handlers import on
from kryten_actors.protocol.events import ChatMessageEvent, decode_event, decode_hinted
from kryten_actors.transport.server import NatsServer

_CHUNK = 32 * 1024
_DRAIN_DEADLINE = 60.0  # seconds after the last chunk: frames fed to the wrong route never end


class Counter(ChannelActor):
    count = 0

    @on("chatMsg")
    async def handle(self, event: ChatMessageEvent) -> None:
        Counter.count += 1


def frames(
    channels: list[str], events: int, sid: int, bodies: list[bytes] | None = None
) -> list[bytes]:
    """``events`` MSG frames round-robin over ``channels``, cut into ~32 KiB chunks."""
    if bodies is None:
        bodies = envelopes(channels)
    subjects = [subject_for(ch).encode() for ch in channels]
    chunks: list[bytes] = []
    current = bytearray()
    for seq in range(events):
        index = seq % len(channels)
        body = bodies[index]
        current += b"MSG %s %d %d\r\n%s\r\n" % (subjects[index], sid, len(body), body)
        if len(current) >= _CHUNK:
            chunks.append(bytes(current))
            current = bytearray()
    if current:
        chunks.append(bytes(current))
    return chunks


def envelopes(channels: list[str]) -> list[bytes]:
    """One ``chatMsg`` envelope per channel (each channel's frames repeat its own)."""
    return [chat_envelope(ch, seq) for seq, ch in enumerate(channels)]


async def _feed(
    parse: Callable[[bytes], Any], chunks: list[bytes], done: Callable[[], bool]
) -> float:
    gc.collect()
    started = time.process_time()
    for chunk in chunks:
        await parse(chunk)
        await asyncio.sleep(0)  # as between two socket reads: the actors get their turn
    deadline = time.monotonic() + _DRAIN_DEADLINE
    while not done():  # a busy drain on purpose: no event to wait on
        if time.monotonic() > deadline:
            msg = f"the stack did not handle the fed events within {_DRAIN_DEADLINE:.0f} s"
            raise RuntimeError(msg)
        await asyncio.sleep(0)
    return time.process_time() - started


async def _raw(url: str, channels: list[str], events: int) -> Callable[[], Any]:
    client = await nats.connect(url)
    seen = [0]

    async def handle(msg: Any) -> None:
        body = json.loads(msg.data)
        seen[0] += body["payload"]["msg"] is not None

    sub = await client.subscribe("kryten.events.cytube.*.*", cb=handle)
    chunks = frames(channels, events, sub._id)

    async def run() -> float:
        seen[0] = 0
        return await _feed(client._ps.parse, chunks, lambda: seen[0] >= events)

    run.close = client.close  # type: ignore[attr-defined]
    return run


class _Sink:
    """Stands in for an actor ref: counts what the router tells it."""

    full = False
    half_full = False
    path = "/sink"

    def __init__(self) -> None:
        self.count = 0

    def offer(self, message: object, room_only: bool = False) -> bool:
        self.count += 1
        return False


async def _bot(
    url: str, channels: list[str], events: int, stage: str
) -> tuple[Callable[[], Any], Bot]:
    config = {
        "nats": {"servers": [url]},
        "profile": "kryten-robot",
        "channels": [{"domain": DOMAIN, "channel": ch} for ch in channels],
        "mailbox": {"capacity": 100_000, "overflow": "drop_newest"},
        # steady state: no start-up probe, so no replay-by-age check, which decodes every
        # chat line of a channel's first 10 s in the router (bot/tap.py)
        "bridge": {"probe_on_start": False},
    }
    bot = Bot(config, actor=Counter)
    await bot.start()
    transport: Any = bot.transport
    client = transport._client
    # the events' wildcard subscription (the connection's reply inbox is a frame route too)
    sid = next(
        sub.sid for sub in transport._subscriptions if sub.subject.startswith("kryten.events.")
    )
    bodies = envelopes(channels)
    chunks = frames(channels, events, sid, bodies)
    sink = _Sink()
    if stage == "parse":
        client.add_frame_route(sid, lambda subject, data, headers: None)
    elif stage == "route":
        refs = bot.channels.table.refs
        for key in list(refs):
            refs[key] = sink  # type: ignore[assignment]
    elif stage == "dispatch":
        # each channel's own decoded event (a body naming another channel is dead-lettered
        # as a mismatch); the lookup hashes the body, ~0.1 µs counted here, not in decode
        ready = {body: decode_event(body, event_hint="chatmsg")[0] for body in bodies}
        vars(handling_module)["decode_hinted"] = lambda data, event_hint: ready[bytes(data)]

    def counted() -> int:
        if stage == "route":
            return sink.count
        if stage == "parse":
            return events
        return Counter.count

    async def run() -> float:
        Counter.count = 0
        sink.count = 0
        base = counted() if stage == "parse" else 0
        del base
        return await _feed(client._ps.parse, chunks, lambda: counted() >= events)

    return run, bot


STAGES = ("parse", "route", "dispatch", "full")


NAME = "profile"


def plan(quick: bool) -> list[dict[str, Any]]:
    """One case for ``python -m bench``: every channel count, every stage."""
    return [
        {
            "case": NAME,
            "channel_counts": [1, 100, 1000],
            "events": 20_000 if quick else 50_000,
            "rounds": 3 if quick else 7,
        }
    ]


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    results = await profile(spec["url"], spec["channel_counts"], spec["events"], spec["rounds"])
    return {"stages": results}


def summarize(results: list[dict[str, Any]]) -> str:
    if not results:
        return "No result."
    spec = results[0]
    head = (
        f"CPU µs per event by stage, medians of {spec['rounds']} rounds of "
        f"{spec['events']:,} events, the stacks fed the same 32 KiB chunks of `MSG` frames "
        "in one process (see `bench/profile.py`). Each stage is the difference between two "
        "cut-short variants of the path, so they add up to the total."
    )
    return f"{head}\n\n{table(spec['stages'])}"


async def profile(url: str, channel_counts: list[int], events: int, rounds: int) -> dict[str, Any]:
    if url:
        return await _profile(url, channel_counts, events, rounds)
    async with NatsServer() as server:
        return await _profile(server.url, channel_counts, events, rounds)


async def _profile(url: str, channel_counts: list[int], events: int, rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for count in channel_counts:
        channels = channel_names(count)
        raw = await _raw(url, channels, events)
        row: dict[str, float] = {}
        samples: dict[str, list[float]] = {"raw": []}
        for stage in STAGES:
            run, bot = await _bot(url, channels, events, stage)
            samples[stage] = []
            for _ in range(rounds):
                samples[stage].append(await run())
                samples["raw"].append(await raw())
            await bot.stop()
            vars(handling_module)["decode_hinted"] = decode_hinted
        await raw.close()  # type: ignore[attr-defined]
        for name, values in samples.items():
            row[name] = statistics.median(values) / events * 1e6
        results[str(count)] = row
    return results


def table(results: Mapping[str, Mapping[str, float]]) -> str:
    counts = list(results)
    lines = [
        "| stage (CPU µs per event) | " + " | ".join(f"C={c}" for c in counts) + " |",
        "|---|" + "---|" * len(counts),
    ]
    labels = {
        "parse": "read + parse (lean parser, no-op handler)",
        "route": "route (subject cache, table, delivery, tell)",
        "dispatch": "mailbox, dispatcher, `start_event`, handler, counters",
        "full": "typed decode",
    }
    previous = dict.fromkeys(counts, 0.0)
    for stage in STAGES:
        cells = []
        for c in counts:
            value = results[c][stage]
            cells.append(f"{value - previous[c]:.2f}")
            previous[c] = value
        lines.append(f"| {labels[stage]} | " + " | ".join(cells) + " |")
    lines.append(
        "| **total (Bot)** | " + " | ".join(f"**{results[c]['full']:.2f}**" for c in counts) + " |"
    )
    lines.append(
        "| plain nats-py consumer (callback + `json.loads`) | "
        + " | ".join(f"{results[c]['raw']:.2f}" for c in counts)
        + " |"
    )
    lines.append(
        "| ratio raw / Bot | "
        + " | ".join(f"{results[c]['raw'] / results[c]['full']:.2f}" for c in counts)
        + " |"
    )
    return "\n".join(lines)


async def _cprofile(events: int, count: int) -> None:
    async with NatsServer() as server:
        run, bot = await _bot(server.url, channel_names(count), events, "full")
        await run()
        profiler = cProfile.Profile()
        profiler.enable()
        await run()
        profiler.disable()
        await bot.stop()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--channels", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--cprofile", action="store_true", help="print a cProfile of the full path")
    args = parser.parse_args()
    if args.cprofile:
        asyncio.run(_cprofile(args.events, args.channels[-1]))
        return
    results = asyncio.run(profile("", args.channels, args.events, args.rounds))
    print(json.dumps(results))
    print(table(results))


if __name__ == "__main__":
    main()
