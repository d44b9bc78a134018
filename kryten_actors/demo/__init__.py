"""The embedded demo: a simulated kryten-robot bridge (and, separately, the demo bot).

:class:`SimulatedBridge` publishes realistic CyTube traffic for many channels over any
:class:`~kryten_actors.transport.base.Transport` and answers commands like the real bridge.
"""

from __future__ import annotations

from kryten_actors.demo.bridge import MEDIA_UPDATE_SECONDS, SimulatedBridge
from kryten_actors.demo.presets import CRASH_LINE
from kryten_actors.demo.scenario import ChannelState
from kryten_actors.demo.traffic import BridgeStats, ChannelTraffic

__all__ = [
    "CRASH_LINE",
    "MEDIA_UPDATE_SECONDS",
    "BridgeStats",
    "ChannelState",
    "ChannelTraffic",
    "SimulatedBridge",
]
