"""An own-script bot (``asyncio.run(Bot(...).run())``) logs without any logging setup.

The bot runs in a child process against a real nats-server, as a user's script does;
its handler's ``logger.info`` lines must show, and in ``json`` format every line carries
the channel, actor path, event name and correlation/trace IDs.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from kryten_actors.config import NatsConfig
from kryten_actors.protocol.raw_event import RawEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer

# each case runs a bot in a subprocess
pytestmark = pytest.mark.slow

SCRIPT = """
import asyncio, logging, sys

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on

mine = logging.getLogger("mybot")


class Echo(ChannelActor):
    @on("chatMsg")
    async def heard(self, event: ChatMessageEvent) -> None:
        self.context.logger.info("actor heard %s", event.message)
        mine.debug("a debug detail")
        mine.info("module logger heard %s", event.message)


config = {
    "nats": {"servers": [sys.argv[1]]},
    "channels": [{"domain": "cytu.be", "channel": "lounge"}],
    "log_format": sys.argv[2],
    "profile_check_after": None,
}
asyncio.run(Bot(config, actor=Echo).run())
"""
CID = "0b7a3f32-2d4c-4c53-9a55-7b7d1f0c9a11"


async def run_bot(tmp_path: Path, url: str, log_format: str, env: dict[str, str]) -> list[str]:
    script = tmp_path / "own_bot.py"
    script.write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        url,
        log_format,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        env=env,
    )
    lines: list[str] = []
    assert proc.stderr is not None

    async def until(text: str) -> None:
        while not any(text in line for line in lines):
            line = (await proc.stderr.readline()).decode()  # type: ignore[union-attr]
            assert line, f"the bot ended before {text!r}:\n{''.join(lines)}"
            lines.append(line)

    try:
        async with asyncio.timeout(30):
            await until("answering health")  # logged once the bot is subscribed
            async with NatsTransport(NatsConfig(servers=[url])) as nats:
                event = RawEvent(
                    event_name="chatMsg",
                    payload={"username": "ann", "msg": "hi there", "meta": {}, "time": 1},
                    channel="lounge",
                    domain="cytu.be",
                    correlation_id=CID,
                )
                subject = scheme_for("seed").event_subject("cytu.be", "lounge", "chatMsg")
                await nats.publish(subject, event.to_bytes())
            await until("module logger heard")
            proc.send_signal(signal.SIGTERM)
            _, rest = await proc.communicate()
            lines.extend(rest.decode().splitlines(keepends=True))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, "".join(lines)
    return [line for line in lines if line.strip()]


@pytest.fixture
def child_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    import os  # noqa: PLC0415

    env = dict(os.environ)
    env.pop("KRYTEN_LOG_LEVEL", None)
    env["PYTHONPATH"] = str(Path(__file__).parents[2])
    return env


async def test_an_own_script_bot_prints_its_info_lines(
    nats_server: NatsServer, tmp_path: Path, child_env: dict[str, str]
) -> None:
    lines = await run_bot(tmp_path, nats_server.url, "text", child_env)
    text = "".join(lines)
    assert "connected to NATS" in text
    heard = next(line for line in lines if "module logger heard hi there" in line)
    assert f"mybot [cytu.be/lounge chatMsg cid={CID}]: module logger heard hi there" in heard
    assert "actor heard hi there" in text
    assert "a debug detail" not in text  # INFO by default


async def test_json_lines_carry_the_context_in_every_record(
    nats_server: NatsServer, tmp_path: Path, child_env: dict[str, str]
) -> None:
    lines = await run_bot(tmp_path, nats_server.url, "json", child_env)
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"channel", "actor", "event", "correlation_id", "trace_id"} <= set(record)
    heard = [r for r in records if "heard hi there" in r["message"]]
    assert len(heard) == 2
    for record in heard:
        assert record["channel"] == "cytu.be/lounge"
        assert record["actor"] == "/root/cytu.be:lounge"
        assert record["event"] == "chatMsg"
        assert record["correlation_id"] == CID
        assert record["trace_id"] == CID.replace("-", "")


async def test_the_level_comes_from_the_environment(
    nats_server: NatsServer, tmp_path: Path, child_env: dict[str, str]
) -> None:
    child_env["KRYTEN_LOG_LEVEL"] = "debug"
    lines = await run_bot(tmp_path, nats_server.url, "json", child_env)
    debug = [json.loads(line) for line in lines if "a debug detail" in line]
    assert [record["level"] for record in debug] == ["DEBUG"]
