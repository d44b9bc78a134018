"""The dashboard in headless Chromium: a crashing demo channel, actions, and 10,000 channels.

Screenshots are kept in ``.artifacts/`` (or ``$KRYTEN_ARTIFACTS``) for people to look at.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on
from kryten_actors.config.connection import NatsConfig
from kryten_actors.dashboard import Dashboard
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.bot.support import chat
from tests.conftest import NatsServerFactory
from tests.dashboard.conftest import BOT, CRASHY, DashboardFactory, artifact, bot_config
from tests.polling import wait_until

DASH = "\N{EN DASH}"
WAIT_MS = 15_000  # generous for what has no deadline of its own: the machine is shared


def row(key: str) -> str:
    return f'#channels tr[data-key="{key}"]'


def cell(key: str, field: str) -> str:
    return f'{row(key)} td[data-field="{field}"]'


async def number(page: Any, selector: str) -> int:
    return int((await page.inner_text(selector)).replace(",", ""))


async def test_a_crashing_channel_dead_letters_and_a_leave(
    browser: Any, demo_bot: Bot, dashboard_factory: DashboardFactory
) -> None:
    dashboard = await dashboard_factory()
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(dashboard.url)

    crashy = f"cytu.be/{CRASHY}"
    await page.wait_for_selector(f"{cell(crashy, 'state')} >> text=restarting", timeout=WAIT_MS)
    first = await number(page, cell(crashy, "restarts"))
    await page.wait_for_function(
        """([selector, before]) => {
            const node = document.querySelector(selector);
            return node && Number(node.textContent.replace(/,/g, "")) > before;
        }""",
        arg=[cell(crashy, "restarts"), first],
        timeout=WAIT_MS,
    )
    assert "DemoCrash" in await page.inner_text(cell(crashy, "last_error"))

    letter = '#letters tr[data-reason="handler_failed"]'
    await page.wait_for_selector(letter, timeout=WAIT_MS)
    assert CRASHY in await page.inner_text(f'{letter} td[data-field="channel"]')
    assert "!crash" in await page.inner_text(f'{letter} td[data-field="preview"]')

    bot_row = f'#bots tr[data-bot="{BOT}"]'
    assert await page.inner_text(f'{bot_row} td[data-field="channels"]') == "4"
    assert await page.inner_text(f'{bot_row} td[data-field="health"]') == "degraded"
    assert await page.query_selector(f'{bot_row} td[data-field="spark"] svg') is not None
    href = await page.get_attribute(f"{cell('cytu.be/lounge', 'traces')} a", "href")
    assert href is not None
    assert href.startswith("http://jaeger.invalid:16686/search?service=demo-bot&tags=")
    assert "cytube.channel" in href
    assert "lounge" in href
    assert await page.query_selector(f"{row('cytu.be/lounge')} button") is None  # read-only
    await page.screenshot(path=artifact("dashboard-crashing-channel.png"), full_page=True)

    left_at = time.monotonic()
    await demo_bot.leave_channel("cytu.be", "movies")
    await page.wait_for_selector(row("cytu.be/movies"), state="detached", timeout=2_000)
    await page.wait_for_selector('[data-group="all"] >> text=all 3', timeout=2_000)
    assert time.monotonic() - left_at < 2.0
    assert await page.inner_text(f'{bot_row} td[data-field="channels"]') == "3"
    assert errors == []


async def test_actions_from_the_page(
    browser: Any, demo_bot: Bot, dashboard_factory: DashboardFactory
) -> None:
    dashboard = await dashboard_factory(allow_actions=True)
    page = await browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(dashboard.url)
    lounge = "cytu.be/lounge"
    await page.wait_for_selector(f'{row(lounge)} button[data-action="stop"]', timeout=WAIT_MS)

    await page.click(f'{row(lounge)} button[data-action="stop"]')
    await page.wait_for_selector(f"{cell(lounge, 'state')} >> text=stopped", timeout=WAIT_MS)
    await page.wait_for_selector("#toast >> text=stop cytu.be/lounge: stopped", timeout=WAIT_MS)
    await page.click(f'{row(lounge)} button[data-action="restart"]')
    await page.wait_for_selector(f"{cell(lounge, 'state')} >> text=running", timeout=WAIT_MS)

    await page.fill("#join-domain", "cytu.be")
    await page.fill("#join-channel", "jukebox")
    await page.click("#join button")
    await page.wait_for_selector(row("cytu.be/jukebox"), timeout=WAIT_MS)
    assert demo_bot.channels.binding("cytu.be", "jukebox") is not None

    await page.click(f'{row("cytu.be/jukebox")} button[data-action="leave"]')
    await page.wait_for_selector(row("cytu.be/jukebox"), state="detached", timeout=WAIT_MS)
    assert demo_bot.channels.binding("cytu.be", "jukebox") is None


class Idle(ChannelActor):
    """Ten thousand of these; one counts what it gets so the page has something to move."""

    seen: ClassVar[int] = 0

    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        Idle.seen += 1


async def test_ten_thousand_channels_load_fast_and_update_without_freezing(
    browser: Any, nats_server: NatsServer, dashboard_factory: DashboardFactory
) -> None:
    names = [f"room{i:05d}" for i in range(10_000)]
    async with Bot(bot_config(nats_server, names, max_channels=10_000), actor=Idle):
        dashboard = await dashboard_factory()
        await wait_until(lambda: bool(dashboard.fleet.snapshot()["bots"]), what="the bot found")
        page = await browser.new_page()
        await page.add_init_script(
            """window.__longTasks = [];
            new PerformanceObserver((list) => {
                for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
            }).observe({type: "longtask", buffered: true});"""
        )
        await page.goto(dashboard.url)
        await page.wait_for_function(
            "() => window.__kryten && window.__kryten.firstRender !== null", timeout=WAIT_MS
        )
        load = await page.evaluate(
            """() => ({
                firstRender: performance.getEntriesByName("kryten:first-render")[0].startTime,
                loaded: performance.getEntriesByType("navigation")[0].loadEventEnd,
            })"""
        )
        assert load["firstRender"] < 2_000, load
        assert load["loaded"] < 2_000, load
        assert await page.inner_text("#range") == f"1{DASH}100 of 10,000"

        renders = await page.evaluate("window.__kryten.renders")
        await page.wait_for_function(
            "(n) => window.__kryten.renders >= n", arg=renders + 4, timeout=WAIT_MS
        )
        long_tasks = await page.evaluate("window.__longTasks")
        assert max(long_tasks, default=0) < 200, long_tasks

        await page.fill("#filter", "room09999")
        await page.wait_for_selector(row("cytu.be/room09999"), timeout=WAIT_MS)
        await page.wait_for_selector(f"#range >> text=1{DASH}1 of 1", timeout=WAIT_MS)
        await page.fill("#filter", "")
        await page.wait_for_selector(f"#range >> text=1{DASH}100 of 10,000", timeout=WAIT_MS)
        await page.click("#next")
        await page.wait_for_selector(row("cytu.be/room00100"), timeout=WAIT_MS)
        await page.click('#channels th[data-sort="name"]')  # now descending
        await page.wait_for_selector(row("cytu.be/room09999"), timeout=WAIT_MS)
        await page.screenshot(path=artifact("dashboard-10000-channels.png"))
        print(
            f"\n10,000 channels: first render {load['firstRender']:.0f} ms; long tasks {long_tasks}"
        )


class Counting(ChannelActor):
    @on("chatMsg")
    async def chat(self, event: ChatMessageEvent) -> None:
        return None


async def test_jetstream_delivery_and_shard_members_are_shown(
    browser: Any, nats_server_factory: NatsServerFactory
) -> None:
    server = await nats_server_factory(jetstream=True)
    config = bot_config(
        server,
        ["lounge", "movies"],
        delivery="jetstream",
        jetstream={"journal": "off", "sharding": {"enabled": True, "member": "m1"}},
    )
    async with Bot(config, actor=Counting) as bot:
        assert bot.jetstream is not None
        async with NatsTransport(NatsConfig(servers=[server.url])) as bridge:
            for n in range(20):
                await bridge.publish(*chat("seed", f"line {n}", channel="lounge"))
            await bridge.flush()
        await wait_until(lambda: bot.jetstream is not None and bot.jetstream.stats.acked == 20)
        async with Dashboard(NatsConfig(servers=[server.url]), port=0) as dashboard:
            page = await browser.new_page()
            await page.goto(dashboard.url)
            await page.click(f'#bots tr[data-bot="{BOT}"]', timeout=WAIT_MS)
            await page.wait_for_selector("#delivery-text >> text=acked 20", timeout=WAIT_MS)
            text = await page.inner_text("#delivery-text")
            assert "jetstream · stream KRYTEN_EVENTS" in text
            assert "redelivered 0" in text
            # the member record in the shard bucket names its channels from its next renewal
            member = '#shards [data-member="m1"]'
            await page.wait_for_selector(f"{member} >> text=2 channels, lag 0", timeout=WAIT_MS)
            assert "(this one)" in await page.inner_text(member)
            await page.screenshot(path=artifact("dashboard-jetstream.png"), full_page=True)
