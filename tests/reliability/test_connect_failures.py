"""Connect failures on a real nats-server: one error type, naming the cause (issue 11, item 9).

A bad nkey seed file raised ``AssertionError: Client.connect must be called first``
with a traceback; a wrong password was diagnosed as "Authorization Violation" or as
a generic connection-reset hint depending on timing. Now each is a
:class:`KrytenConnectionError` whose message names the cause, the same every time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from kryten_actors.bot import Bot, ChannelActor
from kryten_actors.errors import KrytenConnectionError
from kryten_actors.transport.server import NatsServer
from tests.reliability.support import bot_config

NatsServerFactory = Callable[..., Awaitable[NatsServer]]


async def start_fails(config: dict[str, object]) -> str:
    bot = Bot(config, actor=ChannelActor)
    with pytest.raises(KrytenConnectionError) as caught:
        await bot.start()
    assert bot.state == "stopped"
    return str(caught.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read the nkey seed file"),
        (b"not a seed", "does not hold a valid nkey seed"),
        (b"SUAM0000", "does not hold a valid nkey seed"),
    ],
)
async def test_a_bad_nkey_seed_file_is_named(
    nats_server_factory: NatsServerFactory,
    tmp_path: Path,
    content: bytes | None,
    expected: str,
) -> None:
    server = await nats_server_factory()
    seed = tmp_path / "bot.nk"
    if content is not None:
        seed.write_bytes(content)
    config = bot_config(server.url, [("cytu.be", "lounge")])
    config["nats"] = {**config["nats"], "nkey_seed_file": str(seed)}  # type: ignore[dict-item]
    message = await start_fails(config)
    assert expected in message
    assert str(seed) in message
    if content is not None:
        assert content.decode() not in message


async def test_a_wrong_password_is_diagnosed_the_same_way_every_time(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = await nats_server_factory(user="bot", password="right-pw")
    config = bot_config(server.url, [("cytu.be", "lounge")])
    config["nats"] = {  # type: ignore[dict-item]
        **config["nats"],  # type: ignore[dict-item]
        "user": "bot",
        "password": "wrong-pw",
        "connect_timeout": 1.0,
    }
    messages = [await start_fails(config) for _ in range(3)]
    for message in messages:
        assert "rejected the credentials" in message, message
        assert "wrong-pw" not in message
