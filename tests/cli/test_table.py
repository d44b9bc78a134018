"""The demo's table: it fits an 80-column terminal and explains its columns (issue 14, 6)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from kryten_actors.cli.table import LEGEND, caption_lines, plain_table, rich_table
from kryten_actors.demo.runner import ChannelRow, DemoSnapshot

NAMES = ["lounge", "movies", "music", "anime", "retro"]


def snapshot(count: int, elapsed: float = 12.3) -> DemoSnapshot:
    rows = tuple(
        ChannelRow(name, count, count, count, 7, 3, "restarting", name == "retro", None)
        for name in NAMES
    )
    return DemoSnapshot(elapsed, "kryten-robot", "nats://127.0.0.1:4222", rows, count)


@pytest.mark.parametrize("count", [0, 12_345, 9_999_999])
def test_the_live_table_fits_80_columns_with_its_caption_whole(count: int) -> None:
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(rich_table(snapshot(count, elapsed=86_400.0)))
    text = console.export_text()
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    # every caption line shows whole, on a line of its own (never wrapped mid-way)
    lines = [line.strip() for line in text.splitlines()]
    for line in (*caption_lines(snapshot(count, elapsed=86_400.0)), *LEGEND):
        assert line in lines, line
    assert "…" not in text


def test_the_legend_explains_handled_against_events() -> None:
    legend = " ".join(LEGEND)
    assert "events: published by the bridge" in legend
    assert "handled: messages the actor" in legend
    assert "timer ticks" in legend
    assert all(len(line) <= 66 for line in LEGEND)


def test_the_plain_table_starts_with_the_totals() -> None:
    text = plain_table(snapshot(5))
    assert text.splitlines()[:2] == list(caption_lines(snapshot(5)))
    assert "profile kryten-robot" in text
