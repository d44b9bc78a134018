"""``python -m bench [--quick] [--only NAME ...] [--no-write]``: run the benchmarks.

Each benchmark starts its own loopback nats-server, runs every case in a fresh
worker process (bounded in time), prints its table and writes it into
``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import time
from typing import Any

from bench.processes import ROOT
from bench.report import machine_notes, write_section
from kryten_actors.transport.server import NatsServer

BENCHMARKS = (
    "throughput",
    "profile",
    "latency",
    "scale",
    "supervision",
    "tracing_overhead",
    "health",
    "jetstream",
)
_CASE_TIMEOUT = 600.0


async def _run_case(spec: dict[str, Any]) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        spec.get("python") or sys.executable,
        "-m",
        "bench.worker",
        json.dumps(spec),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), _CASE_TIMEOUT)
    except TimeoutError:
        return {**spec, "error": f"timed out after {_CASE_TIMEOUT:.0f} s"}
    finally:
        if process.returncode is None:  # timed out or cancelled: no worker outlives its case
            process.kill()
            await process.wait()
    lines = stdout.decode().strip().splitlines()
    if process.returncode != 0 or not lines:
        return {**spec, "error": f"worker exited with {process.returncode}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return {**result, **spec}  # the spec's parameters win over same-named results


async def _run_benchmark(name: str, quick: bool, write: bool) -> None:
    module = importlib.import_module(f"bench.{name}")
    specs = module.plan(quick)
    load_at_start = os.getloadavg()
    results = []
    started = time.monotonic()
    async with NatsServer(**getattr(module, "SERVER", {})) as server:
        for index, planned in enumerate(specs, 1):
            spec = {**planned, "url": server.url, "quick": quick}
            print(f"[{name} {index}/{len(specs)}] {_label(spec)}", file=sys.stderr, flush=True)
            results.append(await _run_case(spec))
    failed = [r for r in results if "error" in r]
    stamp = time.strftime("%Y-%m-%d %H:%M %Z")
    load = ", ".join(f"{v:.2f}" for v in load_at_start)
    text = module.summarize([r for r in results if "error" not in r])
    if failed:
        text += "\n\n" + "\n".join(f"- FAILED {_label(r)}: {r['error']}" for r in failed)
    text += f"\n\n_Measured {stamp}, `{'--quick' if quick else 'full'}` mode; load average "
    text += f"at the start: {load}._"
    print(f"\n## {name} ({time.monotonic() - started:.0f} s)\n\n{text}\n", flush=True)
    if write:
        write_section(name, text)


def _label(spec: dict[str, Any]) -> str:
    skip = {"case", "url", "quick", "python"}
    return " ".join(
        f"{k}={v}" for k, v in spec.items() if k not in skip and not isinstance(v, list | dict)
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer events and repeats")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave docs/performance.md alone"
    )
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    if not args.no_write and not args.only:
        write_section("machine", machine_notes(mode))
    for name in args.only or BENCHMARKS:
        asyncio.run(_run_benchmark(name, args.quick, not args.no_write))


if __name__ == "__main__":
    main()
