"""FakeBridge: answers ``kryten.robot.command`` requests the way kryten-robot does.

By default every request gets the bridge's success reply (reference §6)::

    {"service": "robot", "command": "say", "success": true, "data": {"success": true}}

``reply_with(name, data)`` changes the ``data`` of a command's replies, ``fail(name,
error)`` makes its replies refusals (which the bot raises as ``CommandRejected``), and
``reset(name)`` restores the default. Names are bridge commands (``say``, ``addvideo``,
``state.playlist``) or seed actions (``sendChat``), which map to their bridge command.

``await serve(channel)`` puts a simulated CyTube channel behind the bridge
(:class:`~kryten_actors.testing.cytube.CytubeRoom`): the bridge announces itself on
``kryten.lifecycle.robot.*``, publishes the join sequence, echoes the bot's chat, applies
CyTube's flood control (``cooldown``) and refusals after its "ok", and ``restart()``
(or ``go_down()`` … ``come_back()``) replays the recent chat after ``rank -1`` and
before the real rank, as a real rejoin does. Once a channel is served, requests naming
another channel are ignored, as kryten-robot ignores them. docs/testing.md has the knobs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.commands import COMMANDS
from kryten_actors.protocol.lifecycle import robot_lifecycle
from kryten_actors.protocol.raw_event import RawEvent
from kryten_actors.protocol.subjects import ROBOT_COMMAND_SUBJECT, scheme_for
from kryten_actors.runtime import Clock, MonotonicClock
from kryten_actors.testing.cytube import CytubeRoom, Event
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
    """A stand-in kryten-robot on a transport; ``attach`` to start it.

    ``clock`` is what CyTube's flood control reads (``BotHarness`` passes its virtual
    clock, so pacing and the limiter agree on time).
    """

    def __init__(self, *, clock: Clock | None = None, hostname: str = "fake-bridge") -> None:
        self._data: dict[str, dict[str, Any]] = {}
        self._errors: dict[str, str] = {}
        self._subscription: Subscription | None = None
        self._transport: Transport | None = None
        self._scheme = scheme_for("kryten-robot")
        self._hostname = hostname
        self._process = datetime.now(UTC)
        self.clock: Clock = clock or MonotonicClock()
        self.rooms: dict[str, CytubeRoom] = {}
        """The served channels by lowercased name (see :meth:`serve`)."""
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

    # --- a simulated CyTube behind the bridge ------------------------------------------
    async def serve(
        self,
        channel: str,
        *,
        domain: str = "cytu.be",
        username: str = "KrytenBot",
        rank: float = 5,
        users: Mapping[str, float] | None = None,
        guests: Iterable[str] = (),
        history: Iterable[tuple[str, str]] = (),
        flood_control: bool = True,
        antiflood: tuple[int, float] | None = None,
    ) -> CytubeRoom:
        """Serve ``channel``: announce the bridge, then publish the channel's join sequence.

        ``users`` are present users by rank (default ``{"alice": 0}``); ``guests`` are
        present but unregistered; ``history`` are ``(user, text)`` lines said before the
        bot came (replayed on every join). Needs :meth:`attach` first.
        """
        room = CytubeRoom(
            domain,
            channel,
            username=username,
            rank=rank,
            users={"alice": 0} if users is None else users,
            guests=guests,
            flood_control=flood_control,
            antiflood=antiflood,
        )
        written = datetime.now(UTC) - timedelta(minutes=5)
        for who, text in history:
            room.chat(who, text, written=written)
        self.rooms[channel.lower()] = room
        await self._announce_up(room)
        await self._publish(room, room.join_sequence())
        return room

    async def say(self, channel: str, username: str, text: str) -> None:
        """A person says ``text`` in a served channel (live, and kept in its history)."""
        room = self._room(channel)
        await self._publish(room, [room.chat(username, text)])

    async def go_down(self) -> None:
        """The bridge process stops: ``disconnected`` + ``shutdown``, then no responder."""
        self._require_attached()
        await self._lifecycle("disconnected", target="CyTube", reason="Graceful shutdown")
        await self._lifecycle("shutdown", reason="Normal shutdown")
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def crash(self) -> None:
        """The bridge process dies without a word (SIGKILL, OOM): no lifecycle message,
        only no responder; :meth:`come_back` starts the next one."""
        self._require_attached()
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def come_back(self, *, rejoin: bool = True) -> None:
        """A new bridge process: it answers again, announces itself and rejoins every
        served channel — ``rank -1``, the replayed history, the join data, the real rank.
        With ``rejoin=False`` it stops after announcing; :meth:`rejoin` finishes."""
        transport = self._require_attached()
        self._process = datetime.now(UTC)
        if self._subscription is None:
            self._subscription = await transport.subscribe(ROBOT_COMMAND_SUBJECT, self._answer)
        for room in self.rooms.values():
            room.logged_in = False
            await self._announce_up(room)
        if rejoin:
            await self.rejoin()

    async def rejoin(self) -> None:
        """Every served channel's join sequence (CyTube's answer to the bridge joining)."""
        for room in self.rooms.values():
            await self._publish(room, room.join_sequence())

    async def restart(self) -> None:
        """:meth:`go_down` then :meth:`come_back` (kryten-robot under systemd)."""
        await self.go_down()
        await self.come_back()

    def _room(self, channel: str) -> CytubeRoom:
        room = self.rooms.get(channel.lower())
        if room is None:
            raise KrytenValidationError(
                f"the fake bridge does not serve {channel!r}; call serve({channel!r}) first",
                [("channel", "not served")],
            )
        return room

    def _require_attached(self) -> Transport:
        if self._transport is None:
            raise KrytenValidationError(
                "attach() the FakeBridge to a transport first", [("transport", "not attached")]
            )
        return self._transport

    async def _announce_up(self, room: CytubeRoom) -> None:
        where = {"domain": room.domain, "channel": room.channel}
        await self._lifecycle("startup")
        await self._lifecycle("connected", target="CyTube", **where)
        await self._lifecycle("startup", **where)

    async def _lifecycle(self, kind: str, **extra: Any) -> None:
        subject, body = robot_lifecycle(
            kind, started=self._process, hostname=self._hostname, **extra
        )
        await self._require_attached().publish(subject, body)

    async def _publish(self, room: CytubeRoom, events: Iterable[Event]) -> None:
        transport = self._require_attached()
        for name, payload in events:
            if name == "login":
                room.logged_in = True
            event = RawEvent(
                event_name=name, payload=payload, channel=room.channel, domain=room.domain
            )
            subject = self._scheme.event_subject(room.domain, room.channel, name)
            await transport.publish(subject, event.to_bytes())

    def _served(self, body: Mapping[str, Any]) -> tuple[bool, CytubeRoom | None]:
        """``(answer, room)``: whether to answer a request and which served room it names."""
        if not self.rooms:
            return True, None
        meta = body.get("meta")
        channel = meta.get("channel") if isinstance(meta, Mapping) else None
        if not isinstance(channel, str):
            return True, None
        room = self.rooms.get(channel.lower())
        return room is not None, room

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
        answer, room = self._served(body)
        if not answer:
            return  # kryten-robot ignores a request for a channel it does not serve
        if room is not None and command not in self._data and command not in self._errors:
            stored = room.stored(command)
            if stored is not None:
                reply = {**reply, "data": stored}
        self.requests.append(BridgeRequest(command=command, body=body, reply=reply))
        if message.reply and self._transport is not None:
            await self._transport.publish(message.reply, json.dumps(reply).encode("utf-8"))
        data = reply.get("data")
        if room is not None and isinstance(data, dict) and data.get("success") is not False:
            args = body.get("args")
            events = room.handle(command, args if isinstance(args, dict) else {}, self.clock.now())
            await self._publish(room, events)
