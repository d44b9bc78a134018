"""A flood of one warning is written a few times and then counted (issue 11, item 11).

2,000 events for made-up channel names a ``ChannelConfig`` refuses, on a bot that spawns
actors for unknown channels, each cause the warning "not spawning an actor for unknown
channel". Before, that was 2,000 WARNING lines; now the first few are written and the
rest summed up in one line, "… and 1,995 more like this in the last N s".
"""

from __future__ import annotations

import logging
import re

import pytest

from kryten_actors.bot import Bot, ChannelActor
from kryten_actors.config.connection import NatsConfig
from kryten_actors.observability.logs import limit_repeated_warnings
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.polling import wait_until
from tests.reliability.load import chat_envelope
from tests.reliability.support import bot_config

FLOOD = 2000
WARNING = "not spawning an actor for unknown channel"


class Quiet(ChannelActor):
    """Never started here: every channel of the flood is refused."""


async def test_2000_refused_channels_give_a_few_lines_and_a_count(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = limit_repeated_warnings()
    limiter.flush()  # nothing pending from earlier tests
    config = bot_config(nats_server.url, [], spawn_unknown_channels=True)
    scheme = scheme_for("seed")
    caplog.set_level(logging.WARNING, logger="kryten_actors")
    async with (
        Bot(config, actor=Quiet) as bot,
        NatsTransport(NatsConfig(servers=[nats_server.url])) as nats,
    ):
        for n in range(FLOOD):
            name = f"{'x' * 30}{n}"  # 31+ characters: not a CyTube channel name
            subject = scheme.event_subject("cytu.be", name, "chatMsg")
            await nats.publish(subject, chat_envelope("cytu.be", name, n))
        await nats.flush()
        await wait_until(lambda: bot.router_stats.received == FLOOD, what="the whole flood")
        assert bot.router_stats.foreign_channel == FLOOD  # each one counted, none lost
    lines = [r.getMessage() for r in caplog.records if WARNING in r.getMessage()]
    written = [line for line in lines if not line.startswith("…")]
    assert len(written) == limiter.burst
    summaries = [line for line in lines if line.startswith("…")]
    assert len(summaries) == 1  # written when the bot stopped
    match = re.match(r"… and ([\d,]+) more like this in the last \d+ s; the last: ", summaries[0])
    assert match is not None, summaries[0]
    assert int(match.group(1).replace(",", "")) == FLOOD - limiter.burst
    assert f"'{'x' * 30}{FLOOD - 1}'" in summaries[0]
