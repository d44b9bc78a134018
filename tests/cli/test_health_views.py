"""``kryten-actors health`` on a real nats-server: exit codes, views, paging, max_payload."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on
from kryten_actors.cli.main import main
from kryten_actors.config.connection import NatsConfig
from kryten_actors.transport.base import RetryPolicy
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_service import health_subject
from kryten_actors.transport.server import NatsServer
from tests.bot.support import chat
from tests.conftest import NatsServerFactory
from tests.polling import wait_until

NAME = "views-bot"


class Crashing(ChannelActor):
    """Raises on every chat line in a channel whose name starts with ``crash``."""

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        if self.channel.startswith("crash"):
            raise RuntimeError("kaboom")


def bot_config(server: NatsServer, channels: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "service_name": NAME,
        "nats": {"servers": [server.url]},
        "channels": [{"domain": "cytu.be", "channel": c} for c in channels],
        "supervision": {"max_restarts": 1, "min_backoff": 0.01, "max_backoff": 0.02},
        **extra,
    }


async def cli(*argv: str) -> tuple[int, Any, str]:
    """Run the CLI in a thread (it runs its own loop); exit code, parsed stdout, stderr."""
    code, out, err = await asyncio.to_thread(_run, list(argv))
    return code, json.loads(out) if out else None, err


def _run(argv: list[str]) -> tuple[int, str, str]:
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
async def degraded_bot(nats_server: NatsServer) -> AsyncIterator[Bot]:
    """A bot on NATS whose channel ``crash`` has failed."""
    async with Bot(bot_config(nats_server, ["lounge", "movies", "crash"]), actor=Crashing) as bot:
        publisher = bot.transport
        for i in range(3):
            await publisher.publish(*chat("seed", str(i), channel="crash"))
        await wait_until(lambda: bot.health_summary().states.get("failed") == 1, what="crash fails")
        yield bot


async def test_a_degraded_bot_exits_2_naming_the_channel_and_why(
    nats_server: NatsServer, degraded_bot: Bot
) -> None:
    code, summary, err = await cli("health", "--nats", nats_server.url, "--name", NAME)
    assert code == 2
    assert summary["healthy"] is False
    assert summary["degraded_count"] == 1
    assert "cytu.be/crash: actor failed after 1 restart: RuntimeError: kaboom" in err

    await degraded_bot.join_channel("cytu.be", "crash", actor=Crashing)
    degraded_bot.health_reporter.invalidate()
    code, summary, err = await cli("health", "--nats", nats_server.url, "--name", NAME)
    assert (code, err) == (0, "")
    assert summary["states"] == {"running": 3}


async def test_one_channel_is_judged_on_its_own(nats_server: NatsServer, degraded_bot: Bot) -> None:
    base = ("health", "--nats", nats_server.url, "--name", NAME)
    code, reply, err = await cli(*base, "--channel", "lounge")
    assert (code, err) == (0, "")
    (row,) = reply["items"]
    assert (row["key"], row["state"], row["bridge_state"]) == (
        "cytu.be/lounge",
        "running",
        "unknown",
    )
    code, reply, err = await cli(*base, "--channel", "cytu.be/crash")
    assert code == 2
    assert reply["items"][0]["last_error"] == "RuntimeError: kaboom"
    assert "cytu.be/crash: actor failed" in err
    code, _, err = await cli(*base, "--channel", "nowhere")
    assert code == 1
    assert "serves no 'nowhere'" in err


async def test_degraded_and_dead_letter_views(nats_server: NatsServer, degraded_bot: Bot) -> None:
    base = ("health", "--nats", nats_server.url, "--name", NAME)
    code, reply, _ = await cli(*base, "--degraded", "--all")
    assert code == 2
    assert [item["key"] for item in reply["items"]] == ["cytu.be/crash"]
    code, reply, _ = await cli(*base, "--dead-letters")
    assert code == 2  # the bot as a whole is still degraded
    reasons = {item["reason"] for item in reply["items"]}
    assert "handler_failed" in reasons
    assert all(item["channel"] == "cytu.be/crash" for item in reply["items"])


async def test_one_member_can_be_asked(nats_server: NatsServer, degraded_bot: Bot) -> None:
    service = degraded_bot.health_service
    assert service is not None
    base = ("health", "--nats", nats_server.url, "--name", NAME, "--timeout", "1")
    code, reply, _ = await cli(*base, "--member", service.id)
    assert code == 2
    assert reply["instance"] == service.id
    code, _, err = await cli(*base, "--member", "NOSUCHMEMBER")
    assert code == 1
    assert f"{health_subject(NAME)}.NOSUCHMEMBER" in err


async def test_every_reply_fits_a_small_max_payload(
    nats_server_factory: NatsServerFactory,
) -> None:
    max_payload = 16 * 1024
    server = await nats_server_factory(max_payload=max_payload)
    names = [f"channel-{i:04d}" for i in range(400)]
    async with Bot(bot_config(server, names), actor=Crashing) as bot:
        code, reply, err = await cli(
            "health",
            "--nats",
            server.url,
            "--name",
            NAME,
            "--channels",
            "--all",
            "--limit",
            "10000",
        )
        assert (code, err) == (0, "")
        assert [item["channel"] for item in reply["items"]] == names
        assert reply["total"] == reply["returned"] == 400

        observer = NatsTransport(NatsConfig(servers=[server.url]), retry=RetryPolicy(attempts=1))
        async with observer:
            service = bot.health_service
            assert service is not None
            for subject, body in [
                (health_subject(NAME), b'{"view": "channels", "limit": 10000}'),
                (health_subject(NAME), b""),
                (f"$SRV.STATS.{NAME}.{service.id}", b""),
                ("$SRV.INFO", b""),
            ]:
                answer = await observer.request(subject, body, timeout=3)
                assert len(answer.data) <= max_payload, subject
                assert "Nats-Service-Error" not in (answer.headers or {})
                assert json.loads(answer.data)


def test_a_bad_url_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", "--nats", "http://nats:4222"]) == 1
    err = capsys.readouterr().err
    assert "--nats: must start with nats:// or tls://" in err
    assert "servers" not in err
