"""``LeanClient.connect_within`` ends a first connect that swallows its cancellation.

nats-py turns a cancelled wait into its own timeout error and tries the servers again
(forever during a first connect): with a wrong password on a loaded machine, a bot's
start hung until the test timeout (3 of 4 runs of 30 starts under two CPU hogs before
this fix, 0 of 8 after). The stand-in below behaves as that loop does.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nats import errors as nats_errors

from kryten_actors.transport.nats_client import LeanClient


class SwallowingClient(LeanClient):
    """A connect loop that swallows every cancel until its attempts are capped."""

    swallowed = 0

    async def connect(self, **options: Any) -> None:  # type: ignore[override]
        while self.options.get("max_reconnect_attempts") != 1:
            try:
                await asyncio.sleep(0.05)  # a server attempt
            except asyncio.CancelledError:
                self.swallowed += 1  # as nats-py: "timeout", try the next server
        raise nats_errors.NoServersError


async def test_a_connect_that_swallows_its_cancel_still_ends_in_time() -> None:
    client = SwallowingClient()
    client.options["max_reconnect_attempts"] = -1
    async with asyncio.timeout(10):  # the old asyncio.timeout wrapper never returned
        with pytest.raises(TimeoutError, match=r"no connection within 0\.2 s"):
            await client.connect_within(0.2)
    assert client.swallowed >= 1
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


async def test_a_connect_error_within_the_time_is_raised_as_is() -> None:
    class Refused(LeanClient):
        async def connect(self, **options: Any) -> None:  # type: ignore[override]
            raise nats_errors.NoServersError

    with pytest.raises(nats_errors.NoServersError):
        await Refused().connect_within(5.0)
