"""MockKrytenClient: the seed's test double, running the real bot on a memory bus."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kryten_actors.bot.client import KrytenClient
from kryten_actors.config import KrytenConfig, load_config
from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.events import RawEvent
from kryten_actors.protocol.sent_commands import decode_command
from kryten_actors.protocol.subjects import ROBOT_COMMAND_SUBJECT, scheme_for
from kryten_actors.transport.base import InboundMessage
from kryten_actors.transport.memory import MemoryTransport

__all__ = ["MockKrytenClient"]


class MockKrytenClient(KrytenClient):
    """``KrytenClient`` on an in-memory bus: no NATS server, same code path.

    ``simulate_event()`` publishes an envelope built by the production encoder and
    returns once every handler it triggered has finished. ``get_published_commands()``
    decodes what the production command encoder put on the bus. In the
    ``kryten-robot`` profile a stand-in bridge answers every command with success
    (``{"success": true}``); pass ``bridge=False`` to answer them yourself.
    """

    def __init__(
        self,
        config: KrytenConfig | Mapping[str, Any] | str | Path,
        *,
        bridge: bool = True,
    ) -> None:
        self.memory = MemoryTransport()
        loaded = load_config(config)
        # the stand-in bridge has no state or identity to probe, and the mock announces nothing
        quiet = loaded.bridge.model_copy(update={"probe_on_start": False, "announce": False})
        super().__init__(loaded.model_copy(update={"bridge": quiet}), transport=self.memory)
        self._fake_bridge = bridge

    async def connect(self) -> None:
        """Start the bot on the memory bus (and the stand-in bridge)."""
        await self.memory.connect()
        if self._fake_bridge and self.config.profile == "kryten-robot":
            await self.memory.subscribe(ROBOT_COMMAND_SUBJECT, self._answer)
        await super().connect()

    async def disconnect(self) -> None:
        """Stop the bot and close the memory bus."""
        await super().disconnect()
        await self.memory.close()

    async def _answer(self, message: InboundMessage) -> None:
        if not message.reply:
            return
        body = json.loads(message.data)
        reply = {
            "service": "robot",
            "command": body.get("command"),
            "success": True,
            "data": {"success": True},
        }
        await self.memory.publish(message.reply, json.dumps(reply).encode())

    async def simulate_event(
        self,
        event_name: str,
        payload: Any = None,
        *,
        channel: str | None = None,
        domain: str | None = None,
    ) -> RawEvent:
        """Deliver an event as the bridge would, and wait until it is fully handled.

        ``channel`` defaults to the first configured channel. Returns the envelope sent.
        """
        if not self.config.channels:
            raise KrytenValidationError("simulate_event needs at least one configured channel")
        ch = self.resolve_channel(channel, domain) if channel else self.config.channels[0]
        event = RawEvent(
            event_name=event_name, payload=payload, channel=ch.channel, domain=ch.domain
        )
        subject = scheme_for(self.config.profile).event_subject(ch.domain, ch.channel, event_name)
        await self.memory.publish(subject, event.to_bytes())
        await self.memory.settle()
        await self.bot.system.idle()
        return event

    def get_published_commands(self) -> list[dict[str, Any]]:
        """Every command published so far, decoded, oldest first.

        Each dict has ``subject``, ``action``, ``payload``, ``channel``, ``domain``,
        ``correlation_id`` (and ``data``, the seed's older name for ``payload``). In the
        ``kryten-robot`` profile ``action`` is the bridge command and ``payload`` its
        ``args``.
        """
        commands: list[dict[str, Any]] = []
        for message in self.memory.published:
            sent = decode_command(message.subject, message.data)
            if sent is not None:
                commands.append(
                    {
                        "subject": sent.subject,
                        "action": sent.action,
                        "payload": sent.payload,
                        "data": sent.payload,
                        "channel": sent.channel,
                        "domain": sent.domain,
                        "correlation_id": sent.correlation_id,
                        "body": sent.body,
                    }
                )
        return commands

    def clear_published_commands(self) -> None:
        """Forget every recorded publish."""
        self.memory.clear()
