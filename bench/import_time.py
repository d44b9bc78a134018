"""``python -m bench.import_time [--runs N] [--write]``: what importing kryten-actors costs.

Each case runs in a fresh interpreter under ``python -X importtime`` (tracing off: no
``OTEL_*`` variables, no config), ``--runs`` times; the median is reported. The cost of
a case is the cumulative import time of every top-level import that a bare interpreter
(``python -c pass``) does not make — the interpreter's own start-up is left out. The
wall-clock time of the whole process is shown next to it, with the bare interpreter's.

Cases: ``import kryten_actors`` and ``kryten-actors --version`` (the targets, at most
0.3 s each), and, for information, ``from kryten_actors import Bot`` and building a
``Bot`` (the protocol models, pydantic and nats-py load there).

``--write`` replaces the "Import time" section of ``docs/performance.md`` (between its
markers) with the table.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
START = "<!-- import-time:start -->"
END = "<!-- import-time:end -->"
TARGET = 0.3
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)$")

CASES: dict[str, tuple[str, bool]] = {
    "import kryten_actors": ("import kryten_actors", True),
    "kryten-actors --version": (
        "from kryten_actors.cli.main import main\ntry:\n    main(['--version'])\n"
        "except SystemExit:\n    pass",
        True,
    ),
    "from kryten_actors import Bot": ("from kryten_actors import Bot", False),
    "Bot(config) built": (
        "from kryten_actors import Bot, ChannelActor\n"
        "Bot({'channels': [{'domain': 'cytu.be', 'channel': 'lounge'}]}, actor=ChannelActor)",
        False,
    ),
}


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def top_level_imports(stderr: str) -> dict[str, int]:
    """``-X importtime`` output → cumulative microseconds of each top-level import."""
    found: dict[str, int] = {}
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match is not None and not match.group(3):
            found[match.group(4)] = int(match.group(2))
    return found


def run_once(code: str, baseline: set[str]) -> tuple[float, float]:
    """``(import seconds, wall seconds)`` of ``code`` in a fresh interpreter."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=_environment(),
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    imports = top_level_imports(done.stderr)
    return sum(us for name, us in imports.items() if name not in baseline) / 1e6, wall


def measure(runs: int) -> tuple[list[tuple[str, bool, float, float]], float]:
    """Median import and wall time of every case, and the bare interpreter's wall time."""
    bare = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"],
        capture_output=True,
        text=True,
        check=True,
        env=_environment(),
    )
    baseline = set(top_level_imports(bare.stderr))
    bare_walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=_environment())
        bare_walls.append(time.perf_counter() - started)
    rows = []
    for label, (code, is_target) in CASES.items():
        samples = [run_once(code, baseline) for _ in range(runs)]
        rows.append(
            (
                label,
                is_target,
                statistics.median(s[0] for s in samples),
                statistics.median(s[1] for s in samples),
            )
        )
    return rows, statistics.median(bare_walls)


def table(rows: list[tuple[str, bool, float, float]], bare: float, runs: int) -> str:
    lines = [
        "| case | imports (s) | whole process (s) | target |",
        "|---|---:|---:|---|",
    ]
    for label, is_target, imports, wall in rows:
        verdict = (
            ("met" if imports <= TARGET else "**missed**") + f" (≤ {TARGET} s)"
            if is_target
            else "information"
        )
        lines.append(f"| `{label}` | {imports:.3f} | {wall:.3f} | {verdict} |")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    lines += [
        "",
        f"Median of {runs} runs each; a bare `python -c pass` takes {bare:.3f} s on the same "
        f"machine (Python {sys.version.split()[0]}, load average {load} at the end, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}).",
    ]
    return "\n".join(lines)


def write(text: str) -> None:
    """Replace the text between the markers of ``docs/performance.md``."""
    doc = DOC.read_text(encoding="utf-8")
    if START not in doc or END not in doc:
        raise SystemExit(f"{DOC} has no {START} … {END} markers")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.import_time")
    parser.add_argument("--runs", type=int, default=7, help="runs per case (default 7)")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    rows, bare = measure(args.runs)
    text = table(rows, bare, args.runs)
    print(text)
    if args.write:
        write(text)


if __name__ == "__main__":
    main()
