"""The typed decode alone: ``python -m bench.decode [--events N] [--rounds R]``.

CPU µs per event for bridge-identical ``chatMsg`` envelopes (1,000 distinct bodies,
cycled): ``json.loads`` (what a plain nats-py consumer does), ``decode_hinted`` (the
Bot's hot path: one validation into ``ChatMessageEvent``), and ``decode_event`` with
and without the subject's hint. Interleaved rounds, medians. A hot-cache figure: inside
the pipeline the same decode costs more (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.envelopes import channel_names, chat_envelope
from kryten_actors.protocol.events import decode_event, decode_hinted

CASES: dict[str, Callable[[bytes], Any]] = {
    "json.loads": json.loads,
    "decode_hinted": lambda body: decode_hinted(body, "chatmsg"),
    "decode_event (hinted)": lambda body: decode_event(body, event_hint="chatmsg"),
    "decode_event (no hint)": decode_event,
}


def measure(events: int, rounds: int) -> dict[str, float]:
    """Median CPU µs per event of each case."""
    bodies = [chat_envelope(channel, seq) for seq, channel in enumerate(channel_names(1000))]
    work = (bodies * (events // len(bodies) + 1))[:events]
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(rounds):
        for name, decode in CASES.items():
            started = time.process_time()
            for body in work:
                decode(body)
            samples[name].append((time.process_time() - started) / events * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.decode", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    results = measure(args.events, args.rounds)
    print(json.dumps(results))
    base = results["json.loads"]
    print("| decode | CPU µs per event | x json.loads |\n|---|---|---|")
    for name, value in results.items():
        print(f"| {name} | {value:.2f} | {value / base:.2f} |")


if __name__ == "__main__":
    main()
