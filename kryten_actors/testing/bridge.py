"""FakeBridge: answers ``kryten.robot.command`` requests the way kryten-robot does.

By default every request gets the bridge's success reply (reference §6)::

    {"service": "robot", "command": "say", "success": true, "data": {"success": true}}

``reply_with(name, data)`` changes the ``data`` of a command's replies, ``fail(name,
error)`` makes its replies refusals (which the bot raises as ``CommandRejected``), and
``reset(name)`` restores the default. Names are bridge commands (``say``, ``addvideo``,
``state.playlist``) or seed actions (``sendChat``), which map to their bridge command.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.commands import COMMANDS
from kryten_actors.protocol.subjects import ROBOT_COMMAND_SUBJECT
from kryten_actors.transport.base import InboundMessage, Subscription, Transport

__all__ = ["BridgeRequest", "FakeBridge"]

_SERVICE: Final = "robot"
# Queries and system commands report a refusal in the outer envelope; actions always
# answer outer success and carry the refusal in ``data`` (reference §6).
_OUTER_FAILURE_PREFIXES: Final = ("state.", "system.")


@dataclass(frozen=True, slots=True)
class BridgeRequest:
    """One request the fake bridge answered: the bridge command and the decoded body."""

    command: str
    body: dict[str, Any] = field(repr=False)
    reply: dict[str, Any] = field(repr=False)


def _bridge_name(name: str) -> str:
    model = COMMANDS.get(name)
    return model.robot_command if model is not None else name


class FakeBridge:
    """A stand-in kryten-robot on a transport; ``async with`` / ``attach`` to start it."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}
        self._errors: dict[str, str] = {}
        self._subscription: Subscription | None = None
        self._transport: Transport | None = None
        self.requests: list[BridgeRequest] = []

    # --- configuring replies -----------------------------------------------------------
    def reply_with(self, command: str, data: Mapping[str, Any]) -> None:
        """Answer every later ``command`` request with success and ``data``."""
        name = _bridge_name(command)
        self._errors.pop(name, None)
        self._data[name] = dict(data)

    def fail(self, command: str, error: str) -> None:
        """Refuse every later ``command`` request with the bridge's ``error`` text."""
        if not error:
            raise KrytenValidationError(
                "fail() needs the error text the bridge would send", [("error", "empty")]
            )
        name = _bridge_name(command)
        self._data.pop(name, None)
        self._errors[name] = error

    def reset(self, command: str | None = None) -> None:
        """Back to the default success reply for ``command`` (or for every command)."""
        if command is None:
            self._data.clear()
            self._errors.clear()
            return
        name = _bridge_name(command)
        self._data.pop(name, None)
        self._errors.pop(name, None)

    def reply_for(self, command: str) -> dict[str, Any]:
        """The reply body a request for bridge command ``command`` gets now."""
        error = self._errors.get(command)
        if error is not None:
            if command.startswith(_OUTER_FAILURE_PREFIXES):
                return {"service": _SERVICE, "command": command, "success": False, "error": error}
            data: dict[str, Any] = {"success": False, "error": error}
        else:
            data = self._data.get(command, {"success": True})
        return {"service": _SERVICE, "command": command, "success": True, "data": data}

    # --- lifecycle ---------------------------------------------------------------------
    async def attach(self, transport: Transport) -> None:
        """Subscribe to ``kryten.robot.command`` on a connected ``transport``."""
        if self._subscription is not None:
            raise KrytenValidationError(
                "this FakeBridge is already attached; detach() it first",
                [("transport", "already attached")],
            )
        self._transport = transport
        self._subscription = await transport.subscribe(ROBOT_COMMAND_SUBJECT, self._answer)

    async def detach(self) -> None:
        """Stop answering (idempotent)."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            await subscription.unsubscribe()

    async def _answer(self, message: InboundMessage) -> None:
        try:
            body = json.loads(message.data)
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("command"), str):
            reply: dict[str, Any] = {
                "service": _SERVICE,
                "success": False,
                "error": "Invalid request: no command",
            }
            body = body if isinstance(body, dict) else {}
            command = ""
        else:
            command = body["command"]
            reply = self.reply_for(command)
        self.requests.append(BridgeRequest(command=command, body=body, reply=reply))
        if message.reply and self._transport is not None:
            await self._transport.publish(message.reply, json.dumps(reply).encode("utf-8"))
