"""How a simulated kryten-robot judges one request on ``kryten.robot.command`` (reference §6).

:func:`judge_request` decides which simulated channel answers, runs the action or query
against that channel's state, and returns a :class:`Verdict`: the replies to send and, for
an action, the outcome whose events must be published before the reply. The rules are
1.12.6's, as captured in ``tests/fixtures/commands.jsonl``:

* ``meta`` naming a domain (compared exactly) **and** a channel (ignoring case) that no
  simulated channel serves → silently ignored. Without both, the first channel answers.
* ``service`` other than ``robot`` (or ``system`` for actions) → ``{"service":"robot",
  "success":false,"error":"Command intended for 'x', not 'robot'"}``.
* invalid JSON or no ``command`` → two error replies (two handlers subscribe).
* unknown command → no reply.
* an action whose arguments are missing or badly typed → ``{"service","success":false,
  "error"}``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from kryten_actors.demo.command_table import robot_action
from kryten_actors.demo.outcome import ActionOutcome
from kryten_actors.demo.queries import BridgeFacts, answer_query, is_query
from kryten_actors.demo.scenario import ChannelState

__all__ = ["Verdict", "action_reply", "error_reply", "judge_request"]

_SERVICE: Final = "robot"


@dataclass(slots=True)
class Verdict:
    """What to do with one request.

    ``state`` is the answering channel (``None``: nobody answers, the request is ignored);
    ``replies`` are sent in order; when ``outcome`` is set, its events are published first
    and :func:`action_reply` of its ``data`` is sent after ``replies``.
    """

    state: ChannelState | None
    command: str = ""
    replies: list[dict[str, Any]] = field(default_factory=list)
    outcome: ActionOutcome | None = None


def error_reply(message: str, *, command: str | None = None) -> dict[str, Any]:
    """The bridge's failure body; some paths include ``command``, some do not."""
    body: dict[str, Any] = {"service": _SERVICE}
    if command is not None:
        body["command"] = command
    body.update(success=False, error=message)
    return body


def action_reply(command: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The success body ``{"service":"robot","command":c,"success":true,"data":{…}}``."""
    return {"service": _SERVICE, "command": command, "success": True, "data": dict(data)}


def _twice(message: str) -> list[dict[str, Any]]:
    return [error_reply(message, command="unknown"), error_reply(message)]


def _answering(meta: Any, states: Sequence[ChannelState]) -> ChannelState | None:
    if isinstance(meta, Mapping) and meta.get("domain") and meta.get("channel"):
        domain, channel = str(meta["domain"]), str(meta["channel"]).lower()
        return next(
            (s for s in states if s.domain == domain and s.channel.lower() == channel), None
        )
    return states[0] if states else None


def judge_request(
    data: bytes,
    states: Sequence[ChannelState],
    facts: Mapping[str, BridgeFacts],
    rng: random.Random,
) -> Verdict:
    """Judge one request body; ``facts`` is keyed by channel name (for ``system.*``)."""
    try:
        body = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return Verdict(states[0] if states else None, replies=_twice(f"Invalid JSON: {exc}"))
    if not isinstance(body, dict):
        return Verdict(states[0] if states else None, replies=_twice("Invalid JSON: not an object"))
    state = _answering(body.get("meta"), states)
    if state is None:
        return Verdict(None)
    command = body.get("command")
    service = body.get("service", _SERVICE)
    if service not in (_SERVICE, "system"):
        message = f"Command intended for '{service}', not '{_SERVICE}'"
        return Verdict(state, replies=[error_reply(message)])
    if not isinstance(command, str) or not command:
        return Verdict(state, replies=_twice("Missing 'command' field"))
    if is_query(command):
        return _query(command, body, state, facts[state.channel])
    action = robot_action(command)
    if action is None:
        return Verdict(state, command)
    args = body.get("args") or {}
    if not isinstance(args, Mapping):
        return Verdict(state, command, [error_reply("'args' must be an object")])
    try:
        outcome = action(state, args, rng)
    except (TypeError, ValueError) as exc:
        # A handler that raised: the bridge answers with the error (KrytenValidationError for
        # a missing argument, TypeError/ValueError for a badly typed one).
        return Verdict(state, command, [error_reply(str(exc))])
    return Verdict(state, command, outcome=outcome)


def _query(
    command: str, body: Mapping[str, Any], state: ChannelState, facts: BridgeFacts
) -> Verdict:
    answers = answer_query(command, body, state, facts)
    if answers is None:
        return Verdict(state, command)
    return Verdict(state, command, [action_reply(command, data) for data in answers])
