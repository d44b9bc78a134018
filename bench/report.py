"""Tables, machine notes, and the sections of ``docs/performance.md`` the bench owns.

The bench rewrites only what lies between ``<!-- bench:NAME:start -->`` and
``<!-- bench:NAME:end -->``; the prose around the markers is left alone. A section
whose markers are missing is appended at the end of the file.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from bench.processes import ROOT
from kryten_actors.transport.server import find_nats_server

__all__ = ["DOC", "machine_notes", "percentile", "table", "write_section"]

DOC = ROOT / "docs" / "performance.md"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table; floats are shown with sensible precision."""

    def cell(value: object) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            if abs(value) >= 100:
                return f"{value:,.0f}"
            if abs(value) >= 10:
                return f"{value:.1f}"
            return f"{value:.2f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (``fraction`` in 0..1)."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def _nats_server_version() -> str:
    try:
        out = subprocess.run(
            [str(find_nats_server()), "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"unknown ({exc})"
    return out.strip().removeprefix("nats-server: ")


def machine_notes(mode: str) -> str:
    """Cores, versions and load: what a reader needs to weigh the numbers."""
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("nats-py", "pydantic", "opentelemetry-sdk")
    )
    return "\n".join(
        [
            f"- run: {time.strftime('%Y-%m-%d %H:%M %Z')}, mode `{mode}`",
            f"- machine: {os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
            f"{platform.release()}",
            f"- Python {platform.python_version()} ({platform.python_implementation()}), "
            f"nats-server {_nats_server_version()}, {versions}",
            f"- load average when the run started: {load} (the machine may be shared with "
            "other processes; rates are best-of-N, CPU µs/event is the steadier figure)",
        ]
    )


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace the ``name`` section of ``doc`` with ``body`` (markers kept)."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + f"\n\n{block}\n"
    doc.write_text(text, encoding="utf-8")
