"""Counters of the simulated bridge: :class:`BridgeStats`, per channel :class:`ChannelTraffic`."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BridgeStats", "ChannelTraffic"]


@dataclass(slots=True)
class ChannelTraffic:
    """What one simulated channel did since the bridge started.

    ``commands_received`` counts requests (kryten-robot) or publishes (seed) addressed to this
    channel; ``commands_answered`` those that got a reply (kryten-robot) or took effect (seed);
    ``commands_ignored`` those that got neither (unknown name, bad arguments on the seed path).
    """

    events_published: int = 0
    commands_received: int = 0
    commands_answered: int = 0
    commands_ignored: int = 0


@dataclass(slots=True)
class BridgeStats:
    """Per-channel traffic (keyed by channel name) plus commands no channel took.

    ``unaddressed_commands`` counts commands whose domain/channel no simulated channel serves;
    like the real bridge, the simulation does not answer them.
    """

    channels: dict[str, ChannelTraffic] = field(default_factory=dict)
    unaddressed_commands: int = 0

    @property
    def events_published(self) -> int:
        """Events published over all channels."""
        return sum(traffic.events_published for traffic in self.channels.values())

    @property
    def commands_received(self) -> int:
        """Commands received over all channels, including unaddressed ones."""
        received = sum(traffic.commands_received for traffic in self.channels.values())
        return received + self.unaddressed_commands

    @property
    def commands_answered(self) -> int:
        """Commands answered (or applied) over all channels."""
        return sum(traffic.commands_answered for traffic in self.channels.values())
