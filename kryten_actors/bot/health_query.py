"""The health endpoint's requests and replies: summary, filtered pages, dead letters.

A request body is JSON (empty means ``{"view": "summary"}``)::

    {"view": "channels", "degraded": true, "sort": "restarts", "offset": 0, "limit": 100}

Every reply is built to fit in a byte budget (the server's ``max_payload`` less room
for headers): a page holds at most ``limit`` rows and stops early when the next row
would not fit, saying where to continue (``next_offset``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kryten_actors.bot.letters import letter_info
from kryten_actors.config.validation import config_error
from kryten_actors.errors import KrytenError

if TYPE_CHECKING:
    from kryten_actors.bot.health_report import ChannelEntry, HealthReporter

__all__ = ["MAX_LIMIT", "HealthQuery", "answer_health", "parse_query", "summary_data"]

MAX_LIMIT: Final = 10_000
"""The most rows one page may ask for (the byte budget usually stops it sooner)."""
_ENVELOPE: Final = 256  # room for a page's counters around its rows

Sort = Literal[
    "name",
    "state",
    "bridge",
    "restarts",
    "mailbox",
    "high_water",
    "processed",
    "failed",
    "dropped",
    "latency",
    "uptime",
    "events",
    "commands",
]
_STATS_FIELDS: Final = {
    "restarts": "restarts",
    "mailbox": "mailbox_depth",
    "high_water": "mailbox_high_water",
    "processed": "processed",
    "failed": "failed",
    "dropped": "dropped",
    "uptime": "uptime",
}


class HealthQuery(BaseModel):
    """What a health request asks for.

    ``view``: ``summary`` (default), ``channels`` (a page of rows, filtered and sorted)
    or ``dead_letters`` (the most recent, newest first). Filters: ``channel`` (a channel
    name or ``domain/channel``), ``degraded``, ``state`` (an actor state, or
    ``inactive``), ``match`` (a case-insensitive substring of ``domain/channel``).
    ``sort`` orders rows; ``descending`` defaults to false for ``name``, ``state`` and
    ``bridge`` and true for the counters. ``worst`` is how many worst channels the
    summary carries.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    view: Literal["summary", "channels", "dead_letters"] = "summary"
    channel: str | None = None
    degraded: bool = False
    state: str | None = None
    match: str | None = None
    sort: Sort = "name"
    descending: bool | None = None
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=1, le=MAX_LIMIT)
    worst: int = Field(default=10, ge=0, le=100)


def parse_query(data: bytes) -> HealthQuery:
    """The query in a request body; raises :class:`KrytenValidationError` saying what is wrong."""
    if not data.strip():
        return HealthQuery()
    try:
        return HealthQuery.model_validate_json(data)
    except ValidationError as exc:
        error = config_error(exc, "health request")
    raise error


def summary_data(reporter: HealthReporter, budget: int, *, worst: int = 10) -> dict[str, Any]:
    """The summary as JSON-able data of at most ``budget`` bytes (lists trimmed to fit)."""
    data = reporter.summary(worst=worst).model_dump(mode="json")
    size = len(_dumps(data))
    while size > budget:
        rows = data["worst"] or data["degraded"]
        if not rows:
            msg = (
                f"the health summary needs {size} bytes but a reply may carry {budget}; "
                "raise the NATS server's max_payload"
            )
            raise KrytenError(msg)
        size -= len(_dumps(rows.pop())) + 1
    return data


def answer_health(reporter: HealthReporter, data: bytes, budget: int) -> bytes:
    """The JSON reply (at most ``budget`` bytes) to a health request body."""
    query = parse_query(data)
    if query.view == "summary":
        return _dumps({"view": "summary", **summary_data(reporter, budget, worst=query.worst)})
    summary = _dumps(summary_data(reporter, budget // 2, worst=query.worst))
    room = budget - len(summary) - _ENVELOPE
    if query.view == "dead_letters":
        letters = reporter.dead_letters(channel=query.channel)
        total = len(letters)
        chunks = [_dumps(letter_info(letter)) for letter in letters[query.offset :][: query.limit]]
        return _page(b"dead_letters", summary, chunks, offset=query.offset, total=total, room=room)
    selected = _select(reporter, query)
    ordered = _ordered(reporter, selected, query)
    window = ordered[query.offset : query.offset + query.limit]
    chunks = [row.model_dump_json().encode() for row in reporter.rows(window)]
    total = len(selected)
    return _page(b"channels", summary, chunks, offset=query.offset, total=total, room=room)


def _page(
    view: bytes, summary: bytes, chunks: Sequence[bytes], *, offset: int, total: int, room: int
) -> bytes:
    kept: list[bytes] = []
    used = 0
    for chunk in chunks:
        if used + len(chunk) + 1 > room:
            break
        kept.append(chunk)
        used += len(chunk) + 1
    if not kept and chunks:
        msg = f"one health row needs {len(chunks[0])} bytes but only {room} are left in a reply"
        raise KrytenError(msg)
    end = offset + len(kept)
    head = {
        "total": total,
        "offset": offset,
        "returned": len(kept),
        "next_offset": end if end < total else None,
    }
    items = b"[" + b",".join(kept) + b"]"
    return b'{"view":"%s","summary":%s,%s,"items":%s}' % (
        view,
        summary,
        _dumps(head)[1:-1],
        items,
    )


def _select(reporter: HealthReporter, query: HealthQuery) -> list[ChannelEntry]:
    entries = reporter.entries()
    if query.channel is not None:
        wanted = query.channel.lower()
        entries = [e for e in entries if wanted in {e.key.lower(), e.binding.channel.lower()}]
    if query.degraded:
        entries = [e for e in entries if e.degraded]
    if query.state is not None:
        entries = [e for e in entries if e.state == query.state]
    if query.match:
        needle = query.match.lower()
        entries = [e for e in entries if needle in e.key.lower()]
    return entries


def _ordered(
    reporter: HealthReporter, entries: list[ChannelEntry], query: HealthQuery
) -> list[ChannelEntry]:
    field = _STATS_FIELDS.get(query.sort)
    descending = query.descending
    if descending is None:
        descending = query.sort not in {"name", "state", "bridge"}
    key: Callable[[ChannelEntry], Any]
    if field is not None:

        def key(e: ChannelEntry) -> Any:
            stats = e.ref.stats() if e.ref is not None else None
            return (getattr(stats, field) if stats is not None else 0, e.key)

    elif query.sort == "latency":
        now = reporter.clock_now()

        def key(e: ChannelEntry) -> Any:
            return (e.binding.counters.latency.quantile(0.99, now) or 0.0, e.key)

    else:
        key = _CHEAP_KEYS[query.sort]
    return sorted(entries, key=key, reverse=descending)


_CHEAP_KEYS: Final[dict[str, Callable[[ChannelEntry], Any]]] = {
    "name": lambda e: e.key,
    "state": lambda e: (e.state, e.key),
    "bridge": lambda e: (e.binding.bridge_state, e.key),
    "events": lambda e: (e.binding.counters.events_received, e.key),
    "commands": lambda e: (e.binding.counters.commands_sent, e.key),
}


def _dumps(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
