"""The dashboard's server on a real nats-server, without a browser: discovery, API, guards."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import aiohttp

from kryten_actors import Bot
from kryten_actors.config.connection import NatsConfig
from kryten_actors.dashboard.series import Sample, Series
from kryten_actors.demo.bot import DemoActor
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_service import start_health_service
from kryten_actors.transport.server import NatsServer
from tests.dashboard.conftest import BOT, CRASHY, DashboardFactory, bot_config
from tests.polling import wait_until

STATIC = Path(__file__).parents[2] / "kryten_actors" / "dashboard" / "static"


async def get_json(url: str, **kwargs: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as response:
        text = await response.text()
        return response.status, json.loads(text) if text.startswith(("{", "[")) else text


async def first_events(url: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` messages of the event stream at ``url``."""
    messages: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        async for line in response.content:
            if line.startswith(b"data: "):
                messages.append(json.loads(line[6:]))
                if len(messages) == count:
                    break
    return messages


def test_series_rates_ignore_counter_resets() -> None:
    series = Series(span=10)
    series.add(Sample(0.0, 0, 0, 0))
    series.add(Sample(0.5, 100, 0, 0))  # under a second later: not kept
    series.add(Sample(1.0, 10, 2, 1))
    series.add(Sample(3.0, 50, 2, 1))
    series.add(Sample(4.0, 5, 0, 0))  # a member restarted: counters went down
    rates = series.rates()
    assert rates["events"] == [10.0, 20.0, 0.0]
    assert rates["commands"] == [2.0, 0.0, 0.0]
    assert rates["restarts"] == [1, 0, 0]
    assert rates["t"] == [-3.0, -1.0, 0.0]
    assert series.latest_rates() == (0.0, 0.0)


async def test_the_fleet_finds_kryten_bots_and_ignores_other_services(
    nats_server: NatsServer, demo_bot: Bot, dashboard_factory: DashboardFactory
) -> None:
    async with NatsTransport(NatsConfig(servers=[nats_server.url])) as other:
        service = await start_health_service(
            other, name="not-a-bot", version="1.0.0", health=lambda b, n: b"{}", stats=dict
        )
        async with service:
            dashboard = await dashboard_factory()
            fleet = dashboard.fleet
            await wait_until(lambda: bool(fleet.snapshot()["bots"]), what="a bot found")
            await fleet.discover()
            (bot,) = fleet.snapshot()["bots"]
    assert bot["name"] == BOT
    (member,) = bot["members"]
    assert demo_bot.health_service is not None
    assert member["id"] == demo_bot.health_service.id
    assert member["channel_count"] == 4
    assert member["control"] is True
    assert member["trace_ui"] == "http://jaeger.invalid:16686"
    await wait_until(
        lambda: fleet.snapshot()["bots"][0]["members"][0]["restarts"] >= 1, what="a restart"
    )
    await wait_until(lambda: bool(fleet.snapshot()["letters"]), what="a dead letter")
    letter = fleet.snapshot()["letters"][0]
    assert (letter["bot"], letter["channel"], letter["reason"]) == (
        BOT,
        f"cytu.be/{CRASHY}",
        "handler_failed",
    )
    assert "!crash" in letter["preview"]
    assert letter["source"] == "health"


async def test_channel_pages_and_the_event_stream(
    demo_bot: Bot, dashboard_factory: DashboardFactory
) -> None:
    dashboard = await dashboard_factory(interval=0.2)
    await wait_until(lambda: bool(dashboard.fleet.members), what="a bot found")
    status, page = await get_json(dashboard.url + "api/channels?limit=2&sort=name")
    assert status == 200
    assert page["bot"] == BOT
    assert [row["channel"] for row in page["items"]] == [CRASHY, "lounge"]
    assert (page["total"], page["next_offset"]) == (4, 2)
    _, filtered = await get_json(dashboard.url + "api/channels?match=MOV&limit=100000")
    assert filtered["query"]["limit"] == 500
    assert [row["channel"] for row in filtered["items"]] == ["movies"]
    _, bad_member = await get_json(dashboard.url + "api/channels?bot=nobody")
    assert bad_member is None or bad_member == "null"

    first, second = await first_events(dashboard.url + "api/stream?state=running", 2)
    assert first["view"]["query"]["state"] == "running"
    assert {row["state"] for row in first["view"]["items"]} == {"running"}
    assert second["fleet"]["time"] >= first["fleet"]["time"]


async def test_guards_headers_and_no_external_assets(
    demo_bot: Bot, dashboard_factory: DashboardFactory
) -> None:
    dashboard = await dashboard_factory()
    status, page = await get_json(dashboard.url)
    assert status == 200
    assert 'name="kryten-actions" content="off"' in page
    async with aiohttp.ClientSession() as session:
        async with session.get(dashboard.url) as response:
            csp = response.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp
            assert "script-src 'self'" in csp
        rebinding = {"Host": f"evil.example:{dashboard.port}"}
        async with session.get(dashboard.url, headers=rebinding) as response:
            assert response.status == 421
        for name in ("app.js", "app.css"):
            async with session.get(f"{dashboard.url}static/{name}") as response:
                assert response.status == 200
        async with session.get(f"{dashboard.url}static/../web.py") as response:
            assert response.status == 404
        async with session.post(dashboard.url + "api/action", json={"action": "stop"}) as response:
            assert response.status == 403
            assert "--allow-actions" in await response.text()
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8")
        # the only absolute URL is the SVG namespace, which is a name, not a fetch
        urls = set(re.findall(r"https?://[^\s\"'`)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert urls == set(), (path.name, urls)


async def test_actions_need_the_token_and_reach_the_bot(
    demo_bot: Bot, dashboard_factory: DashboardFactory
) -> None:
    dashboard = await dashboard_factory(allow_actions=True)
    await wait_until(lambda: bool(dashboard.fleet.members), what="a bot found")
    _, page = await get_json(dashboard.url)
    token = re.search(r'name="kryten-token" content="([^"]+)"', page)
    assert token is not None
    body = {"bot": BOT, "action": "stop", "channel": "lounge"}
    async with aiohttp.ClientSession() as session:
        async with session.post(dashboard.url + "api/action", json=body) as response:
            assert response.status == 403
        headers = {"X-Kryten-Token": token.group(1)}
        async with session.post(dashboard.url + "api/action", json=body, headers=headers) as r:
            assert r.status == 200
            assert await r.json() == {
                "ok": True,
                "action": "stop",
                "channel": "cytu.be/lounge",
                "state": "stopped",
            }
        nowhere = {**body, "channel": "nowhere"}
        async with session.post(dashboard.url + "api/action", json=nowhere, headers=headers) as r:
            assert r.status == 404
            assert "does not serve" in (await r.json())["error"]
        explode = {**body, "action": "explode"}
        async with session.post(dashboard.url + "api/action", json=explode, headers=headers) as r:
            assert r.status == 400
    demo_bot.health_reporter.invalidate()
    assert demo_bot.health_summary().states.get("stopped") == 1


async def test_a_bot_without_control_says_so(
    nats_server: NatsServer, dashboard_factory: DashboardFactory
) -> None:
    async with Bot(bot_config(nats_server, ["lounge"]), actor=DemoActor):
        dashboard = await dashboard_factory(allow_actions=True)
        await wait_until(lambda: bool(dashboard.fleet.members), what="a bot found")
        token = dashboard_token(await get_json(dashboard.url))
        async with aiohttp.ClientSession() as session:
            body = {"action": "restart", "channel": "lounge"}
            headers = {"X-Kryten-Token": token}
            async with session.post(dashboard.url + "api/action", json=body, headers=headers) as r:
                assert r.status == 409
                assert "control.enabled" in (await r.json())["error"]


def dashboard_token(reply: tuple[int, Any]) -> str:
    found = re.search(r'name="kryten-token" content="([^"]+)"', reply[1])
    assert found is not None
    return found.group(1)


async def test_streamed_dead_letters_and_departed_bots(
    nats_server: NatsServer, bridge: NatsTransport, dashboard_factory: DashboardFactory
) -> None:
    dashboard = await dashboard_factory(interval=0.2)
    dashboard.fleet._forget_after = 1.0
    async with Bot(bot_config(nats_server, ["lounge"]), actor=DemoActor):
        await wait_until(lambda: bool(dashboard.fleet.snapshot()["bots"]), what="a bot found")
        # as issue 14's feed publishes them: ISO time, channel and domain apart
        letter = {
            "bot": BOT,
            "reason": "oversized",
            "preview": "{...",
            "channel": "lounge",
            "domain": "cytu.be",
            "time": "2026-12-01T10:00:00.500+00:00",
        }
        await bridge.publish(f"kryten.deadletters.{BOT}.lounge", json.dumps(letter).encode())
        await wait_until(
            lambda: any(x["source"] == "stream" for x in dashboard.fleet.snapshot()["letters"]),
            what="a streamed dead letter",
        )
        (shown,) = dashboard.fleet.snapshot()["letters"]
        assert (shown["bot"], shown["channel"], shown["reason"]) == (
            BOT,
            "cytu.be/lounge",
            "oversized",
        )
        assert shown["time"] == 1_796_119_200.5
    await wait_until(lambda: not dashboard.fleet.snapshot()["bots"], what="the bot forgotten")


async def test_stopping_ends_open_streams(
    demo_bot: Bot, dashboard_factory: DashboardFactory
) -> None:
    dashboard = await dashboard_factory()
    async with aiohttp.ClientSession() as session, session.get(dashboard.url + "api/stream") as r:
        assert (await r.content.readline()).startswith(b"data: ")
        async with asyncio.timeout(5):
            await dashboard.stop()
    assert not dashboard.transport.is_connected


async def test_instances_of_one_service_are_members_of_one_bot(
    nats_server: NatsServer, dashboard_factory: DashboardFactory
) -> None:
    first = Bot(bot_config(nats_server, ["lounge", "movies"]), actor=DemoActor)
    second = Bot(bot_config(nats_server, ["music"]), actor=DemoActor)
    async with first, second:
        dashboard = await dashboard_factory(interval=0.2)
        fleet = dashboard.fleet
        await wait_until(lambda: len(fleet.members) == 2, what="both members found")
        await wait_until(
            lambda: fleet.snapshot()["bots"][0]["channel_count"] == 3, what="both summaries"
        )
        (bot,) = fleet.snapshot()["bots"]
        assert bot["name"] == BOT
        assert sorted(m["channel_count"] for m in bot["members"]) == [1, 2]
        assert second.health_service is not None
        member = second.health_service.id
        _, page = await get_json(f"{dashboard.url}api/channels?bot={BOT}&member={member}")
        assert page["member"] == member
        assert [row["channel"] for row in page["items"]] == ["music"]
