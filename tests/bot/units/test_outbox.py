"""The outbox's own steps on the memory bus: splitting, and what a cancelled command leaves."""

from __future__ import annotations

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kryten_actors.protocol.chat_text import utf16_length
from kryten_actors.protocol.commands import DeleteMedia, SendChat
from kryten_actors.runtime import VirtualClock
from kryten_actors.testing import FakeBridge
from kryten_actors.transport.base import InboundMessage
from kryten_actors.transport.memory import MemoryTransport
from tests.bot.units.kit import BOT, binding
from tests.polling import wait_until

_TEXT = st.text(st.sampled_from(list("ab/ 😀\n")), min_size=1, max_size=400).filter(str.strip)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT, st.sampled_from([None, "me"]), st.integers(10, 60))
def test_every_split_part_fits_and_none_starts_a_chat_command(
    text: str, action: str | None, limit: int
) -> None:
    b = binding(chat_max_length=limit)
    command = SendChat.build({"message": text, "action": action}, max_chat_length=10_000)
    parts = b.outbox._split(command)
    assert all(utf16_length(part.text) <= limit for part in parts)
    if action is None:  # a leading "/" never runs a command
        assert all(not part.text.startswith("/") for part in parts)
    else:  # an action line stays one: CyTube shows what follows "/me " as written
        assert all(part.text.startswith("/me ") for part in parts)
    assert "".join("".join(p.message.split()) for p in parts) == "".join(text.split())


async def test_a_command_cancelled_while_it_waits_for_cytube_leaves_no_expectation() -> None:
    transport = MemoryTransport()
    await transport.connect()
    bridge = FakeBridge()
    await bridge.attach(transport)
    try:
        b = binding(transport=transport, outcome_window=30.0)
        b.join.seed(username=BOT, rank=5)
        outcomes = b.outbox.outcomes
        task = asyncio.create_task(b.outbox.send(DeleteMedia(uid=1)))
        await wait_until(lambda: len(bridge.requests) == 1 and len(outcomes) == 1)
        task.cancel()
        await asyncio.wait([task])
        # nothing left to swallow CyTube's answer to a later command
        assert len(outcomes) == 0
    finally:
        await bridge.detach()
        await transport.close()


async def test_a_slow_bridge_reply_is_not_pruned_while_it_is_in_flight() -> None:
    """The bridge may take longer than ``outcome_window`` to answer (``addvideo`` waits up
    to 8 s); another command sent meanwhile must not prune the waiting one's expectation."""
    transport = MemoryTransport()
    await transport.connect()
    release = asyncio.Event()

    replies: set[asyncio.Task[None]] = set()

    async def answer(message: InboundMessage, wait: bool) -> None:
        if wait:
            await release.wait()
        body = json.loads(message.data)
        reply = {"service": "robot", "command": body["command"], "success": True, "data": {}}
        await transport.publish(message.reply, json.dumps(reply).encode())

    async def slow_bridge(message: InboundMessage) -> None:
        wait = json.loads(message.data)["args"].get("uid") == 1
        task = asyncio.create_task(answer(message, wait))  # answer others meanwhile
        replies.add(task)
        task.add_done_callback(replies.discard)

    await transport.subscribe("kryten.robot.command", slow_bridge)
    clock = VirtualClock()
    b = binding(transport=transport, clock=clock, outcome_window=0.05)
    b.join.seed(username=BOT, rank=5)
    slow = asyncio.create_task(b.outbox.send(DeleteMedia(uid=1)))
    await wait_until(lambda: len(b.outbox.outcomes) == 1, what="the slow request")
    clock.advance(2.0)  # the window of the slow one has long passed on the bot's clock
    quick = await b.outbox.send(DeleteMedia(uid=2))
    assert quick.confirmed is False  # nobody relays CyTube's events here
    release.set()
    result = await asyncio.wait_for(slow, 5)
    assert result.confirmed is False
    assert len(b.outbox.outcomes) == 0
    await transport.close()
