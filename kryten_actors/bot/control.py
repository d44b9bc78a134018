"""The bot's control endpoint: restart, stop, join or leave a channel on request.

A request is JSON::

    {"action": "restart", "channel": "lounge"}
    {"action": "join", "domain": "cytu.be", "channel": "movies"}

``channel`` is a channel name or ``domain/channel``; ``domain`` is needed for
``join`` and wherever a name is served on several domains. The reply is
``{"ok": true, "action": …, "channel": "domain/channel", "state": …}``; a refusal is a
NATS micro error (400 bad request, 403 action not enabled, 404 unknown channel,
409 conflicts with the channel's state, 503 the bot is not running).

- ``restart``: stop the channel's actor (its mailbox drains) and start a fresh one;
  the channel's binding — tracked state and counters — is kept. Revives a ``failed``
  or ``stopped`` channel too.
- ``stop``: stop the actor but keep serving the channel: its events become dead
  letters (``actor_stopped``) until ``restart``.
- ``join`` / ``leave``: as ``bot.join_channel`` / ``bot.leave_channel``.

The endpoint is off unless ``control.enabled``; ``control.actions`` limits what it does.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from kryten_actors.bot.channels import child_name
from kryten_actors.config.validation import config_error
from kryten_actors.errors import KrytenValidationError
from kryten_actors.transport.nats_service import EndpointError

if TYPE_CHECKING:
    from kryten_actors.bot.app import Bot
    from kryten_actors.bot.binding import ChannelBinding
    from kryten_actors.bot.health_report import HealthReporter

__all__ = ["ChannelControl", "ControlRequest"]

log = logging.getLogger("kryten_actors.bot.control")


class ControlRequest(BaseModel):
    """One control request (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["restart", "stop", "join", "leave"]
    channel: str
    domain: str | None = None


class ChannelControl:
    """Carries out control requests on one bot; ``handle`` is the endpoint's handler."""

    def __init__(self, bot: Bot, reporter: HealthReporter) -> None:
        self._bot = bot
        self._reporter = reporter
        self._allowed = frozenset(bot.config.control.actions)

    async def handle(self, data: bytes) -> bytes:
        """Run one request (JSON bytes) and return the JSON reply; raises ``EndpointError``."""
        request = _parse(data)
        if request.action not in self._allowed:
            allowed = ", ".join(sorted(self._allowed))
            msg = f"action {request.action!r} is not enabled (control.actions: {allowed})"
            raise EndpointError(403, msg)
        if self._bot.state != "running":
            raise EndpointError(503, f"the bot is {self._bot.state}; try again when it runs")
        domain, channel = self._locate(request)
        log.info("control: %s %s/%s", request.action, domain, channel)
        try:
            state = await self._run(request.action, domain, channel)
        finally:
            self._reporter.invalidate()
        reply = {
            "ok": True,
            "action": request.action,
            "channel": f"{domain}/{channel}",
            "state": state,
        }
        return json.dumps(reply).encode()

    async def _run(self, action: str, domain: str, channel: str) -> str:
        bot = self._bot
        if action == "join":
            ref = await bot.join_channel(domain, channel)
            return ref.state.value if ref is not None else "served by another shard member"
        if action == "leave":
            await bot.leave_channel(domain, channel)
            return "left"
        name = child_name(domain, channel)
        if bot.system.root.child(name) is not None:
            await bot.system.stop_child(name)
        if action == "stop":
            return "stopped"
        ref = await bot.channels.start(domain, channel, None)
        return ref.state.value

    def _locate(self, request: ControlRequest) -> tuple[str, str]:
        """``(domain, channel)`` of the request; a served channel unless joining."""
        domain, sep, name = request.channel.rpartition("/")
        if not sep:
            domain, name = request.domain or "", request.channel
        elif request.domain is not None and request.domain != domain:
            msg = f"channel {request.channel!r} and domain {request.domain!r} disagree"
            raise EndpointError(400, msg)
        binding = self._find(domain, name)
        if request.action == "join":
            if binding is not None and binding.key in self._bot.channels.table.refs:
                ref = self._bot.channels.table.refs[binding.key]
                if ref.is_alive:
                    raise EndpointError(409, f"{binding.domain}/{name} is already served")
            if not domain:
                raise EndpointError(400, "join needs the channel's domain (domain or domain/name)")
            cap = self._bot.config.max_channels
            if binding is None and len(self._bot.channels.bindings) >= cap:
                msg = f"max_channels ({cap}) channels are served; raise it to join more"
                raise EndpointError(409, msg)
            return domain, name
        if binding is None:
            raise EndpointError(404, f"this bot does not serve a channel {request.channel!r}")
        return binding.domain, binding.channel

    def _find(self, domain: str, name: str) -> ChannelBinding | None:
        bindings = self._bot.channels.bindings.values()
        if domain:
            try:
                return self._bot.channels.binding(domain, name)
            except KrytenValidationError:
                return None
        found = [b for b in bindings if b.channel.lower() == name.lower()]
        if len(found) > 1:
            domains = ", ".join(sorted(b.domain for b in found))
            msg = f"channel {name!r} is served on several domains ({domains}); name the domain"
            raise EndpointError(400, msg)
        return found[0] if found else None


def _parse(data: bytes) -> ControlRequest:
    try:
        return ControlRequest.model_validate_json(data)
    except ValidationError as exc:
        error = config_error(exc, "control request")
    raise error
