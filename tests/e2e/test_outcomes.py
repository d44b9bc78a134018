"""Real outcomes on the real stack: CyTube's refusals reach the caller with CyTube's text.

The bridge answers "ok" to all of these; CyTube then refuses (or, for the last ones,
would say nothing at all — the bot refuses those itself, from the state it tracks).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from kryten_actors import Bot, ChannelActor, CommandRejected, KrytenTimeoutError
from kryten_actors.bot.outbox import ChannelOutbox
from kryten_actors.errors import BridgeUnavailable
from tests.e2e.conftest import Person, Stack
from tests.polling import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


class Quiet(ChannelActor):
    """Handles nothing."""


@pytest_asyncio.fixture(loop_scope="session")
async def channel(stack: Stack) -> AsyncIterator[ChannelOutbox]:
    """The command helpers of a running bot whose state is known (users, playlist)."""
    async with Bot(stack.config(), actor=Quiet) as bot:
        binding = bot.channels.binding(stack.domain, stack.channel)
        assert binding is not None
        await wait_until(
            lambda: binding.state.userlist_known and binding.state.playlist_known,
            within=5,
            what="the tracked user list and playlist",
        )
        yield bot.channel(stack.domain, stack.channel)


async def rejected(call: object) -> CommandRejected:
    with pytest.raises(CommandRejected) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_an_http_custom_embed_is_refused_with_cytubes_text(channel: ChannelOutbox) -> None:
    error = await rejected(
        channel.add_media("cu", '<iframe src="http://example.com/embed"></iframe>')
    )
    assert "Embed source must be HTTPS" in error.reason


async def test_a_duplicate_media_is_refused_with_cytubes_text(channel: ChannelOutbox) -> None:
    media = f"rtmp://127.0.0.1/live/e2e-{uuid.uuid4().hex[:6]}"
    first = await channel.add_media("rt", media, temp=True)
    assert first.uid is not None
    try:
        error = await rejected(channel.add_media("rt", media, temp=True))
        assert error.reason == "This item is already on the playlist"
    finally:
        await channel.delete_media(first.uid)


async def test_a_pm_to_an_absent_user_is_refused_with_cytubes_text(
    channel: ChannelOutbox,
) -> None:
    error = await rejected(channel.send_pm("nobodyhere", "hello?"))
    assert error.source == "cytube"
    assert error.reason == "PM failed: nobodyhere isn't connected to this channel."


async def test_an_invalid_filter_regex_is_refused_with_cytubes_text(
    channel: ChannelOutbox,
) -> None:
    name = f"e2e{uuid.uuid4().hex[:6]}"
    error = await rejected(channel.add_filter(name, source="(unclosed", replace="x"))
    assert error.source == "cytube"
    assert error.reason.startswith("Invalid regex:")


async def test_promoting_a_guest_is_refused_with_cytubes_text(
    channel: ChannelOutbox, watcher: Person
) -> None:
    error = await rejected(channel.set_channel_rank(watcher.name, 2))
    assert error.source == "cytube"
    assert error.reason.startswith("The user you promoted is not a registered account")


async def test_unknown_uids_and_absent_users_are_refused_before_sending(
    channel: ChannelOutbox,
) -> None:
    for call in (channel.delete_media(999_999), channel.jump_to(999_999)):
        error = await rejected(call)
        assert error.source == "bot"
        assert "uid 999999 is not in the playlist" in str(error)
    error = await rejected(channel.kick("nobodyhere", "test"))
    assert error.source == "bot"
    assert "'nobodyhere' is not in the channel" in str(error)


async def test_a_state_query_for_a_channel_no_bridge_serves_returns_nothing(
    stack: Stack,
) -> None:
    config = stack.config(
        channels=[{"domain": stack.domain, "channel": "nobridgehere"}], command_timeout=2.0
    )
    async with Bot(config, actor=Quiet) as bot:
        with pytest.raises((KrytenTimeoutError, BridgeUnavailable)):
            await bot.channel(stack.domain, "nobridgehere").state.userlist()
