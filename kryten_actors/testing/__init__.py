"""The test kit: run a real bot on an in-memory bus with virtual time, and assert on the wire.

``BotHarness`` drives a ``Bot`` (``emit``, ``idle``, ``advance``) and decodes what it sent
(``sent`` → :class:`SentCommand`); :class:`FakeBridge` answers kryten-robot commands and,
with ``serve()``, puts a simulated CyTube channel (:class:`CytubeRoom`) behind them. The
pytest plugin (:mod:`kryten_actors.testing.plugin`, registered as a ``pytest11`` entry
point) provides the ``bot_harness`` and ``nats_server`` fixtures.
"""

from kryten_actors.testing.bridge import BridgeRequest, FakeBridge
from kryten_actors.testing.cytube import CytubeRoom
from kryten_actors.testing.harness import DEFAULT_DOMAIN, BotHarness, HarnessFactory
from kryten_actors.testing.mock_client import MockKrytenClient
from kryten_actors.testing.sent import SentCommand, decode_sent, rebuild_command

__all__ = [
    "DEFAULT_DOMAIN",
    "BotHarness",
    "BridgeRequest",
    "CytubeRoom",
    "FakeBridge",
    "HarnessFactory",
    "MockKrytenClient",
    "SentCommand",
    "decode_sent",
    "rebuild_command",
]
