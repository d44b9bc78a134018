"""The outbox's own steps on the memory bus: splitting, and what a cancelled command leaves."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kryten_actors.protocol.chat_text import utf16_length
from kryten_actors.protocol.commands import DeleteMedia, SendChat
from kryten_actors.testing import FakeBridge
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
