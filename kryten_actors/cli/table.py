"""The demo's per-channel table: a ``rich`` table for terminals, plain text for pipes and logs."""

from __future__ import annotations

from typing import Final

from rich.table import Table
from rich.text import Text

from kryten_actors.demo.runner import ChannelRow, DemoSnapshot

__all__ = ["COLUMNS", "LEGEND", "caption_lines", "plain_table", "rich_table", "summary_text"]

COLUMNS: Final = ("channel", "events", "handled", "commands", "mailbox", "restarts", "state")
_STATE_STYLES: Final = {
    "running": "green",
    "starting": "yellow",
    "restarting": "bold yellow",
    "stopped": "dim",
    "failed": "bold red",
}
CRASH_MARK: Final = "*"
"""Appended to the crash channel's name."""
LEGEND: Final = (
    "events: published by the bridge; handled: messages the actor",
    "finished (events and timer ticks; failed ones not counted)",
    f"{CRASH_MARK} crashes on purpose now and then: watch its restarts",
)
"""What the columns mean; each line fits the narrowest table (and 80 columns)."""


def _cells(row: ChannelRow) -> tuple[str, ...]:
    name = row.channel + (CRASH_MARK if row.crashes else "")
    numbers = (row.events, row.handled, row.commands, row.mailbox, row.restarts)
    return (name, *(str(n) for n in numbers), row.state)


def caption_lines(snapshot: DemoSnapshot) -> tuple[str, str]:
    """The totals in two short lines (at most 66 columns with 10-digit counts)."""
    return (
        f"{snapshot.elapsed:.1f} s · profile {snapshot.profile} · {snapshot.events:,} events",
        f"{snapshot.commands:,} commands · {snapshot.restarts:,} restarts · "
        f"{snapshot.dead_letters:,} dead letters",
    )


def plain_table(snapshot: DemoSnapshot) -> str:
    """The snapshot as aligned plain text: a headline, the header row, one row per channel."""
    rows = [COLUMNS, *(_cells(row) for row in snapshot.rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = list(caption_lines(snapshot))
    for row in rows:
        first = row[0].ljust(widths[0])
        middle = (cell.rjust(width) for cell, width in zip(row[1:-1], widths[1:-1], strict=True))
        lines.append("  ".join((first, *middle, row[-1])))
    return "\n".join(lines)


def rich_table(snapshot: DemoSnapshot, *, title: str = "kryten-actors demo") -> Table:
    """The snapshot as a ``rich`` table (the crash channel's name is marked ``*``)."""
    caption = "\n".join((*caption_lines(snapshot), *LEGEND))
    table = Table(title=title, caption=caption, caption_justify="left")
    table.add_column("channel", style="bold")
    for column in COLUMNS[1:-1]:
        table.add_column(column, justify="right")
    table.add_column("state")
    for row in snapshot.rows:
        cells = _cells(row)
        state = Text(row.state, style=_STATE_STYLES.get(row.state, ""))
        restarts = Text(cells[5], style="bold yellow" if row.restarts else "")
        table.add_row(*cells[:5], restarts, state)
    return table


def summary_text(snapshot: DemoSnapshot) -> str:
    """A few sentences on how the run went: totals, the crash channel, the others."""
    lines = [
        f"Ran {snapshot.elapsed:.1f} s on the {snapshot.profile} profile: "
        f"{snapshot.events} events, {snapshot.commands} commands, "
        f"{snapshot.restarts} supervised restart(s), {snapshot.dead_letters} dead letter(s).",
    ]
    for row in snapshot.rows:
        if row.crashes and not row.restarts:
            lines.append(f"{row.channel}{CRASH_MARK} has not crashed yet; run a little longer.")
        elif row.crashes:
            lines.append(
                f"{row.channel}{CRASH_MARK} crashed on '!crash' and was restarted "
                f"{row.restarts} time(s); now {row.state}."
            )
            if row.last_error:
                lines.append(f"  last error: {row.last_error}")
    others = [row for row in snapshot.rows if not row.crashes]
    if others:
        carried = ", ".join(f"{row.channel} {row.handled}" for row in others)
        lines.append(f"The other channels carried on (messages handled): {carried}.")
    return "\n".join(lines)
