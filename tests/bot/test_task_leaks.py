"""Handlers that leave bare tasks behind are named in debug mode; spawn_job is the owned way
(issue 11, item 13: 5,000 forgotten ``asyncio.create_task`` outlived ``bot.stop()``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import ClassVar

import pytest

from kryten_actors.bot import ChannelActor, on
from kryten_actors.bot.task_leaks import DETECTOR
from kryten_actors.protocol.events import ChatMessageEvent
from kryten_actors.testing import BotHarness

CHAT = {"username": "ann", "msg": "hi", "time": 0}


class Leaky(ChannelActor):
    """Starts a bare task per event (the mistake) and one owned job (the right way)."""

    bare: ClassVar[list[asyncio.Task[None]]] = []
    jobs: ClassVar[list[asyncio.Future[None]]] = []

    @on("chatmsg")
    async def heard(self, event: ChatMessageEvent) -> None:
        del event
        forever = asyncio.get_running_loop().create_future()
        Leaky.jobs.append(forever)
        self.spawn_job(self._await(forever))
        Leaky.bare.append(asyncio.create_task(self._linger()))

    async def _await(self, future: asyncio.Future[None]) -> None:
        await future  # cancelling the job cancels the future

    async def _linger(self) -> None:
        await asyncio.Event().wait()


@pytest.fixture
async def debug_loop() -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = 60.0  # only the task factory matters here
    Leaky.bare.clear()
    Leaky.jobs.clear()
    yield
    for task in Leaky.bare:
        task.cancel()
    await asyncio.gather(*Leaky.bare, return_exceptions=True)
    Leaky.bare.clear()
    Leaky.jobs.clear()
    loop.set_debug(False)


@pytest.mark.usefixtures("debug_loop")
async def test_a_bare_task_is_named_once_and_a_job_is_owned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="kryten_actors.bot"):
        async with BotHarness(Leaky, channels=["lounge"]) as h:
            assert DETECTOR.active
            for _ in range(3):
                await h.emit("lounge", "chatMsg", CHAT)
            assert len(Leaky.bare) == 3
            assert DETECTOR.leaks >= 3
        # the bot stopped: the owned jobs were cancelled with their actor, bare tasks were not
        assert all(job.cancelled() for job in Leaky.jobs)
        assert not any(task.done() for task in Leaky.bare)
    assert not DETECTOR.active  # the bot that installed it removed it
    messages = [record.getMessage() for record in caplog.records]
    warnings = [text for text in messages if "left 1 task(s) running" in text]
    assert len(warnings) == 1  # once per handler, not per event
    assert "Leaky handling 'chatmsg'" in warnings[0]
    assert "Leaky._linger" in warnings[0]
    assert "self.spawn_job" in warnings[0]


async def test_nothing_is_installed_outside_debug_mode() -> None:
    assert not asyncio.get_running_loop().get_debug()
    Leaky.bare.clear()
    async with BotHarness(Leaky, channels=["lounge"]) as h:
        assert not DETECTOR.active
        await h.emit("lounge", "chatMsg", CHAT)
    for task in Leaky.bare:
        task.cancel()
    await asyncio.gather(*Leaky.bare, return_exceptions=True)
    Leaky.bare.clear()
