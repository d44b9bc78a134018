"""Every kryten-actors bot on the bus, polled: discovery, summaries, dead letters, rates.

A :class:`Fleet` finds bots with ``$SRV.PING`` (services whose metadata says
``framework: kryten-actors``), reads each instance's summary from ``$SRV.STATS`` every
``interval`` seconds, fetches its recent dead letters when their count changes, and
keeps each bot's counters for sparklines. Dead letters published on
``kryten.deadletters.{bot}.{channel}`` (by bots with ``publish_dead_letters``) are shown
instead of the polled ones for that bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from kryten_actors.dashboard.series import Sample, Series
from kryten_actors.errors import KrytenError
from kryten_actors.transport.base import InboundMessage, Subscription
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_discovery import gather
from kryten_actors.transport.nats_service import HEALTH_ENDPOINT, health_subject

__all__ = ["FRAMEWORK", "LETTER_STREAM", "Fleet", "Member"]

log = logging.getLogger("kryten_actors.dashboard")

FRAMEWORK: Final = "kryten-actors"
"""The ``framework`` metadata value of a kryten-actors bot's micro service."""
LETTER_STREAM: Final = "kryten.deadletters.>"
"""Where bots that publish their dead letters do so (``kryten.deadletters.{bot}.{channel}``)."""
_LETTERS: Final = 50  # recent dead letters kept per member
_SHOWN_LETTERS: Final = 100


@dataclass
class Member:
    """One instance of a bot's micro service (a bot process; a shard of a sharded bot)."""

    name: str
    id: str
    version: str
    metadata: dict[str, str]
    summary: dict[str, Any] | None = None
    error: str | None = None
    answered_at: float = field(default_factory=time.monotonic)
    letters: list[dict[str, Any]] = field(default_factory=list)
    letters_seen: int = -1

    @property
    def subject(self) -> str:
        """This instance's own health subject."""
        return f"{health_subject(self.name)}.{self.id}"


class Fleet:
    """Polls the bus; ``snapshot()`` is what the page shows, ``changed`` wakes its streams.

    A member that has not answered for ``forget_after`` seconds is dropped (a stopped bot).
    """

    def __init__(
        self,
        transport: NatsTransport,
        *,
        interval: float = 0.5,
        discover_every: float = 5.0,
        window: float = 0.3,
        timeout: float = 2.0,
        forget_after: float = 30.0,
    ) -> None:
        self.transport = transport
        self.interval = interval
        self._discover_every = discover_every
        self._window = window
        self._timeout = timeout
        self._forget_after = forget_after
        self.members: dict[str, Member] = {}
        self._series: dict[str, Series] = {}
        self._stream: dict[str, deque[dict[str, Any]]] = {}
        self._discovered_at = -discover_every
        self._snapshot: dict[str, Any] | None = None
        self._subscription: Subscription | None = None
        self.version = 0
        self.changed = asyncio.Condition()
        self._poke = asyncio.Event()

    async def run(self) -> None:
        """Poll until cancelled (the dashboard's poller task)."""
        self._subscription = await self.transport.subscribe(LETTER_STREAM, self._streamed)
        try:
            while True:
                started = time.monotonic()
                try:
                    await self.refresh()
                except KrytenError as exc:
                    log.warning("dashboard poll failed: %s", exc)
                remaining = self.interval - (time.monotonic() - started)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, remaining)):
                        await self._poke.wait()
                self._poke.clear()
        finally:
            with contextlib.suppress(KrytenError):
                await self._subscription.unsubscribe()

    def poke(self) -> None:
        """Poll again now (after an action, so its effect shows at once)."""
        self._poke.set()

    async def refresh(self) -> None:
        """One round: discover if due, then every member's summary and new dead letters."""
        now = time.monotonic()
        if now - self._discovered_at >= self._discover_every or not self.members:
            self._discovered_at = now
            await self.discover()
        await asyncio.gather(*(self._poll(m) for m in list(self.members.values())))
        for member in list(self.members.values()):
            if time.monotonic() - member.answered_at > self._forget_after:
                log.info(
                    "bot %s member %s stopped answering; forgetting it", member.name, member.id
                )
                del self.members[member.id]
        self._record_series()
        self._snapshot = None
        async with self.changed:
            self.version += 1
            self.changed.notify_all()

    async def discover(self) -> None:
        """Add the kryten-actors bots that answer ``$SRV.PING``."""
        for body in await gather(self.transport, "$SRV.PING", window=self._window):
            try:
                ping = json.loads(body)
                metadata = ping.get("metadata") or {}
                if metadata.get("framework") != FRAMEWORK or ping["id"] in self.members:
                    continue
                self.members[ping["id"]] = Member(
                    name=ping["name"], id=ping["id"], version=ping["version"], metadata=metadata
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # not a micro service's ping reply; somebody else's business
        for name in {m.name for m in self.members.values()}:
            self._series.setdefault(name, Series())

    async def ask(self, member: Member, query: dict[str, Any]) -> dict[str, Any]:
        """One health request to ``member``; raises :class:`KrytenError` with the reason."""
        reply = await self.transport.request(
            member.subject, json.dumps(query).encode(), timeout=self._timeout
        )
        error = (reply.headers or {}).get("Nats-Service-Error")
        if error is not None:
            raise KrytenError(f"{member.name}: {error}")
        data: dict[str, Any] = json.loads(reply.data)
        return data

    async def _poll(self, member: Member) -> None:
        try:
            reply = await self.transport.request(
                f"$SRV.STATS.{member.name}.{member.id}", b"", timeout=self._timeout
            )
            stats = json.loads(reply.data)
            summary = next(
                e["data"] for e in stats["endpoints"] if e.get("name") == HEALTH_ENDPOINT
            )
            if not isinstance(summary, dict) or "error" in summary:
                raise KrytenError(str((summary or {}).get("error", "no health data")))
        except (KrytenError, ValueError, KeyError, StopIteration) as exc:
            member.error = f"{type(exc).__name__}: {exc}"
            return
        member.summary, member.error, member.answered_at = summary, None, time.monotonic()
        letters = sum(summary.get("dead_letters", {}).values())
        if letters != member.letters_seen:
            try:
                page = await self.ask(
                    member, {"view": "dead_letters", "limit": _LETTERS, "worst": 0}
                )
            except (KrytenError, ValueError) as exc:
                member.error = f"dead letters: {exc}"
                return
            member.letters, member.letters_seen = page["items"], letters

    async def _streamed(self, message: InboundMessage) -> None:
        tokens = message.subject.split(".")
        try:
            letter = json.loads(message.data)
        except ValueError:
            return
        if len(tokens) < 3 or not isinstance(letter, dict):
            return
        bot = tokens[2]
        channel = letter.get("channel") or ".".join(tokens[3:]) or None
        domain = letter.get("domain")
        letter["channel"] = f"{domain}/{channel}" if domain and channel else channel
        letter["time"] = _epoch(letter.get("time"))
        self._stream.setdefault(bot, deque(maxlen=_LETTERS)).appendleft(letter)

    def _record_series(self) -> None:
        now = time.monotonic()
        for name, series in self._series.items():
            summaries = [m.summary for m in self.members.values() if m.name == name and m.summary]
            series.add(
                Sample(
                    now,
                    sum(s.get("events_received", 0) for s in summaries),
                    sum(s.get("commands_sent", 0) for s in summaries),
                    sum(s.get("restarts", 0) for s in summaries),
                )
            )

    def member(self, bot: str | None, member: str | None) -> Member | None:
        """The member to show: the one asked for, else the first of ``bot`` (or of all)."""
        if member is not None and member in self.members:
            return self.members[member]
        candidates = sorted(
            (m for m in self.members.values() if bot is None or m.name == bot),
            key=lambda m: (m.name, m.id),
        )
        return candidates[0] if candidates else None

    def snapshot(self) -> dict[str, Any]:
        """Every bot, its members, rates and series, and the recent dead letters."""
        if self._snapshot is None:
            self._snapshot = self._build_snapshot()
        return self._snapshot

    def _build_snapshot(self) -> dict[str, Any]:
        bots = []
        letters: list[dict[str, Any]] = []
        for name in sorted({m.name for m in self.members.values()}):
            members = sorted(
                (m for m in self.members.values() if m.name == name), key=lambda m: m.id
            )
            series = self._series.setdefault(name, Series())
            events_rate, commands_rate = series.latest_rates()
            shown = [_member_view(m) for m in members]
            bots.append(
                {
                    "name": name,
                    "members": shown,
                    "events_rate": round(events_rate, 2),
                    "commands_rate": round(commands_rate, 2),
                    "channel_count": sum(m["channel_count"] for m in shown),
                    "degraded_count": sum(m["degraded_count"] for m in shown),
                    "healthy": all(m["healthy"] for m in shown),
                    "series": series.rates(),
                }
            )
            stream = self._stream.get(name)
            if stream:
                letters += [{"bot": name, "source": "stream", **item} for item in stream]
            else:
                letters += [
                    {"bot": name, "member": m.id, "source": "health", **item}
                    for m in members
                    for item in m.letters
                ]
        letters.sort(key=lambda item: item.get("time") or 0, reverse=True)
        return {"time": time.time(), "bots": bots, "letters": letters[:_SHOWN_LETTERS]}


def _epoch(value: object) -> float:
    """A letter's time as seconds since the epoch (it may come as ISO 8601 text), else now."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value).timestamp()
    return time.time()


def _member_view(member: Member) -> dict[str, Any]:
    summary = member.summary or {}
    stale = time.monotonic() - member.answered_at
    return {
        "id": member.id,
        "name": member.name,
        "version": member.version,
        "profile": member.metadata.get("profile"),
        "error": member.error,
        "stale": round(stale, 1),
        "healthy": bool(summary.get("healthy")) and member.error is None,
        "channel_count": summary.get("channel_count", 0),
        "degraded_count": summary.get("degraded_count", 0),
        **{k: v for k, v in summary.items() if k not in {"service", "instance"}},
    }
