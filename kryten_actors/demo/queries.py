"""Simulated ``state.*`` and ``system.*`` queries of kryten-robot (reference §8).

Each answer is the reply's ``data``, shaped as in ``tests/fixtures/commands.jsonl``.
Parameters are read from the request's **top level** (``username`` of ``state.user``), as
the real bridge does. ``system.ping``, ``system.health`` and ``system.stats`` answer twice,
because two handlers subscribe in the real bridge; callers take the first.
``system.config`` reports the account; ``system.shutdown`` and ``system.reload`` are not
simulated (no reply).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from kryten_actors.demo.scenario import ChannelState

__all__ = ["BRIDGE_VERSION", "BridgeFacts", "answer_query", "is_query"]

BRIDGE_VERSION: Final = "1.12.6"
"""The kryten-robot release the simulation imitates."""
_SERVICE: Final = "robot"


@dataclass(slots=True)
class BridgeFacts:
    """What ``system.*`` reports about one simulated bridge."""

    started: float
    events_published: int = 0
    queries_processed: int = 0

    def uptime(self) -> float:
        """Seconds since the bridge started."""
        return time.monotonic() - self.started


def is_query(command: str) -> bool:
    """True for ``state.*`` and ``system.*`` names (parameters at the top level)."""
    return command.startswith(("state.", "system."))


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _state_answer(
    command: str, body: Mapping[str, Any], state: ChannelState
) -> dict[str, Any] | None:
    users = state.userlist()
    playlist = state.playlist.payload()
    emotes = [dict(emote) for emote in state.emotes]
    if command == "state.emotes":
        return {"emotes": emotes}
    if command == "state.playlist":
        return {"playlist": playlist}
    if command == "state.userlist":
        return {"userlist": users}
    if command == "state.all":
        stats = {
            "emote_count": len(emotes),
            "playlist_count": len(playlist),
            "user_count": len(users),
        }
        return {"emotes": emotes, "playlist": playlist, "userlist": users, "stats": stats}
    if command == "state.user":
        user = state.users.get(str(body.get("username", "")))
        if user is None:
            return {"user": None, "profile": None}
        return {"user": user.payload(), "profile": user.profile()}
    if command == "state.profiles":
        return {"profiles": {user.name: user.profile() for user in state.users.values()}}
    simple = {
        "state.motd": ("motd", state.motd),
        "state.css": ("css", state.css),
        "state.js": ("js", state.js),
    }
    if command in simple:
        key, value = simple[command]
        return {key: value}
    if command in {"state.options", "state.permissions"}:
        # kryten-robot 1.12.x does not store these (reference §8 ⚠).
        return {command.removeprefix("state."): {}}
    return None


def _system_answers(
    command: str, state: ChannelState, facts: BridgeFacts
) -> list[dict[str, Any]] | None:
    where = {"channel": state.channel, "domain": state.domain}
    uptime = facts.uptime()
    if command == "system.ping":
        first = {
            "pong": True,
            "timestamp": _now(),
            "uptime_seconds": uptime,
            "service": _SERVICE,
            "version": BRIDGE_VERSION,
        }
        second = {
            "pong": True,
            "service": _SERVICE,
            "version": BRIDGE_VERSION,
            "uptime_seconds": uptime,
            "timestamp": _now(),
            "cytube_connected": True,
            **where,
        }
        return [first, second]
    if command == "system.config":
        # the real bridge's shape, with what a bot reads from it (its account name)
        cytube = {**where, "user": state.bot_name, "password": "***REDACTED***"}
        return [{"cytube": cytube, "commands": {"enabled": True}}]
    if command == "system.health":
        first = {
            "service": _SERVICE,
            "status": "healthy",
            "domain": state.domain,
            "channel": state.channel,
            "nats_connected": True,
            "queries_processed": facts.queries_processed,
            "queries_failed": 0,
        }
        second = {
            "service": _SERVICE,
            "status": "healthy",
            "version": BRIDGE_VERSION,
            "uptime_seconds": uptime,
            "nats_connected": True,
            "nats_reconnect_count": 0,
            "cytube_connected": True,
            **where,
        }
        return [first, second]
    if command == "system.stats":
        first = {
            "uptime_seconds": uptime,
            "events": {"total_published": facts.events_published, "failed": 0},
            "commands": {},
            "queries": {"processed": facts.queries_processed, "failed": 0},
            "state": {
                "users": len(state.users),
                "playlist": len(state.playlist.entries),
                "emotes": len(state.emotes),
            },
        }
        second = {
            "service": _SERVICE,
            "version": BRIDGE_VERSION,
            "uptime_seconds": uptime,
            "events_published": 0,
        }
        return [first, second]
    if command == "system.channels":
        return [
            {"channels": [{"domain": state.domain, "channel": state.channel, "connected": True}]}
        ]
    if command == "system.version":
        return [{"version": BRIDGE_VERSION}]
    if command == "system.services":
        return [{"services": [], "count": 0, "active_count": 0}]
    return None


def answer_query(
    command: str, body: Mapping[str, Any], state: ChannelState, facts: BridgeFacts
) -> list[dict[str, Any]] | None:
    """The ``data`` of each reply to a query, in order; ``None`` for an unknown name (no reply)."""
    if command.startswith("state."):
        answer = _state_answer(command, body, state)
        answers = None if answer is None else [answer]
    else:
        answers = _system_answers(command, state, facts)
    if answers is not None:
        facts.queries_processed += 1
    return answers
