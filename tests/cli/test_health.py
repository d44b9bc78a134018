"""Health over NATS: the micro service (``$SRV.*`` and ``health``) and ``kryten-actors health``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kryten_actors.bot.app import Bot
from kryten_actors.bot.health import package_version
from kryten_actors.cli.main import main
from kryten_actors.config.connection import NatsConfig
from kryten_actors.demo.bot import DemoActor
from kryten_actors.transport.base import RetryPolicy
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_service import (
    HealthService,
    health_subject,
    service_version,
    start_health_service,
)
from kryten_actors.transport.server import NatsServer

NAME = "health-test-bot"
CHANNELS = [("cytu.be", "lounge"), ("cytu.be", "movies")]


@pytest.fixture
async def running_bot(nats_server: NatsServer) -> AsyncIterator[tuple[Bot, HealthService]]:
    """A Bot on the real server with its micro service; both stopped at teardown."""
    config = {
        "service_name": NAME,
        "nats": {"servers": [nats_server.url]},
        "channels": [{"domain": d, "channel": c} for d, c in CHANNELS],
    }
    async with Bot(config, actor=DemoActor) as bot:
        service = bot.health_service
        assert service is not None, "a Bot on NATS registers its micro service when it starts"
        yield bot, service
    assert bot.health_service is None


async def request_json(server: NatsServer, subject: str) -> Any:
    config = NatsConfig(servers=[server.url])
    async with NatsTransport(config, retry=RetryPolicy(attempts=1)) as client:
        reply = await client.request(subject, b"", timeout=3)
    return json.loads(reply.data)


async def test_srv_ping_info_and_stats_answer(
    nats_server: NatsServer, running_bot: tuple[Bot, HealthService]
) -> None:
    _, service = running_bot
    ping = await request_json(nats_server, "$SRV.PING")
    assert ping["type"] == "io.nats.micro.v1.ping_response"
    assert ping["name"] == NAME
    assert ping["id"] == service.id
    assert ping["version"] == service_version(package_version())

    assert ping["metadata"]["framework"] == "kryten-actors"
    assert ping["metadata"]["control"] == "off"

    info = await request_json(nats_server, f"$SRV.INFO.{NAME}")
    assert [(e["name"], e["subject"]) for e in info["endpoints"]] == [
        ("health", health_subject(NAME)),
        ("member-health", f"{health_subject(NAME)}.{service.id}"),
    ]

    stats = await request_json(nats_server, f"$SRV.STATS.{NAME}.{service.id}")
    health, member = stats["endpoints"]
    assert member["data"] is None
    summary = health["data"]
    assert summary["states"] == {"running": 2}
    assert summary["channel_count"] == 2
    assert summary["state"] == "connected"
    assert summary["lifecycle"] == "running"
    assert summary["healthy"] is True
    assert summary["instance"] == service.id


async def test_health_endpoint_returns_the_bots_report(
    nats_server: NatsServer, running_bot: tuple[Bot, HealthService]
) -> None:
    _, service = running_bot
    report = await request_json(nats_server, health_subject(NAME))
    assert report["view"] == "summary"
    assert report["state"] == "connected"
    assert report["connected"] is True
    assert report["channel_count"] == len(CHANNELS)
    assert report["degraded"] == report["worst"] == []
    member = await request_json(nats_server, service.member_subject)
    assert member["instance"] == service.id


async def test_health_command_prints_the_report(
    nats_server: NatsServer,
    running_bot: tuple[Bot, HealthService],
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["health", "--nats", nats_server.url, "--name", NAME, "--timeout", "3"]
    # main() runs its own event loop, so it gets a thread of its own
    assert await asyncio.to_thread(main, argv) == 0
    out, _ = capsys.readouterr()
    report = json.loads(out)
    assert report["state"] == "connected"
    assert report["states"] == {"running": 2}
    assert report["handlers_registered"] == DemoActor.handler_count()


async def test_health_command_says_when_nobody_answers(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["health", "--nats", nats_server.url, "--name", "nobody-here", "--timeout", "0.5"]
    assert await asyncio.to_thread(main, argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "no bot named 'nobody-here' answered" in err
    assert "--name" in err


def test_health_command_says_when_nats_is_unreachable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kryten_actors.transport.server import free_port  # noqa: PLC0415

    url = f"nats://127.0.0.1:{free_port()}"
    assert main(["health", "--nats", url, "--timeout", "0.5"]) == 1
    assert "127.0.0.1" in capsys.readouterr().err


async def test_service_stops_answering_after_stop(
    nats_server: NatsServer,
) -> None:
    config = NatsConfig(servers=[nats_server.url])
    async with NatsTransport(config) as transport:
        service = await start_health_service(
            transport,
            name="short-lived",
            version="1.2.3",
            health=lambda body, budget: b'{"ok": true}',
            stats=lambda budget: {"actors": {}},
        )
        assert await request_json(nats_server, health_subject("short-lived")) == {"ok": True}
        await service.stop()
        await service.stop()  # idempotent
        assert service.stopped
    argv = ["health", "--nats", nats_server.url, "--name", "short-lived", "--timeout", "0.5"]
    assert await asyncio.to_thread(main, argv) == 1


async def test_a_failing_health_callable_is_a_service_error(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(body: bytes, budget: int) -> bytes:
        raise RuntimeError("report\nunavailable")

    async with NatsTransport(NatsConfig(servers=[nats_server.url])) as transport:
        service = await start_health_service(
            transport, name="broken", version="0.1.0", health=broken, stats=lambda b: {}
        )
        async with service:
            argv = ["health", "--nats", nats_server.url, "--name", "broken"]
            assert await asyncio.to_thread(main, argv) == 1
    assert "report unavailable" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0.1.0", "0.1.0"),
        ("0.1.0.dev3", "0.1.0+dev3"),
        ("1.2.3rc1", "1.2.3+rc1"),
        ("1.2", "1.2.0"),
        ("2.0.0+local.build", "2.0.0+local.build"),
    ],
)
def test_service_version_is_semver(given: str, expected: str) -> None:
    assert service_version(given) == expected
