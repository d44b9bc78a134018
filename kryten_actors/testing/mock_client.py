"""MockKrytenClient: the seed's test double — a ``KrytenClient`` whose bot runs in a BotHarness."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kryten_actors.bot.app import Bot
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.client import KrytenClient
from kryten_actors.config import KrytenConfig, load_config
from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.events import RawEvent
from kryten_actors.testing.harness import BotHarness
from kryten_actors.transport.base import Transport
from kryten_actors.transport.memory import MemoryTransport

__all__ = ["MockKrytenClient"]


class MockKrytenClient(KrytenClient):
    """``KrytenClient`` on the test kit: no NATS server, the same bot and command path.

    Its bot runs in a :class:`~kryten_actors.testing.harness.BotHarness` (``harness``):
    an in-memory bus, a virtual clock, and in the ``kryten-robot`` profile the fake
    bridge answering every command with success (``bridge=False``: answer them
    yourself). ``simulate_event()`` publishes an envelope as the bridge would and returns
    once every handler it triggered has finished; ``get_published_commands()`` decodes
    what the production command encoder put on the bus, as dicts.
    """

    harness: BotHarness

    def __init__(
        self,
        config: KrytenConfig | Mapping[str, Any] | str | Path,
        *,
        bridge: bool = True,
    ) -> None:
        loaded = load_config(config)
        # the fake bridge has no state or identity to probe, and the mock announces nothing
        quiet = loaded.bridge.model_copy(update={"probe_on_start": False, "announce": False})
        # CyTube's answers, if any, come from the memory bus at once
        update = {"bridge": quiet, "outcome_window": min(loaded.outcome_window, 0.05)}
        self._fake_bridge = bridge
        super().__init__(loaded.model_copy(update=update))

    def _build_bot(self, actor: type[ChannelActor], transport: Transport | None) -> Bot:
        self.harness = BotHarness(actor, config=self.config, bridge=self._fake_bridge)
        return self.harness.bot

    @property
    def memory(self) -> MemoryTransport:
        """The in-memory bus (every publish is recorded in ``memory.published``)."""
        return self.harness.transport

    async def connect(self) -> None:
        """Start the harness: the memory bus, the fake bridge and the bot."""
        await self.harness.start()

    async def disconnect(self) -> None:
        """Stop the bot and close the memory bus."""
        await self.harness.close()

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
        return await self.harness.emit(ch.channel, event_name, payload, domain=ch.domain)

    def get_published_commands(self) -> list[dict[str, Any]]:
        """Every command published so far, decoded, oldest first.

        Each dict has ``subject``, ``action``, ``payload``, ``channel``, ``domain``,
        ``correlation_id``, ``body`` (and ``data``, the seed's older name for
        ``payload``). In the ``kryten-robot`` profile ``action`` is the bridge command
        and ``payload`` its ``args``. (``harness.sent`` has them as typed records.)
        """
        return [
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
            for sent in self.harness.sent
        ]

    def clear_published_commands(self) -> None:
        """Forget every recorded publish."""
        self.harness.clear_sent()
