"""The bridge's lifecycle as the bot reads it, and the state it seeds at start."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kryten_actors.bot.bridge import parse_lifecycle
from kryten_actors.bot.lifecycle import BridgeMonitor
from kryten_actors.bot.stored_state import read_stored
from kryten_actors.bot.tap import observe
from kryten_actors.demo import SimulatedBridge
from kryten_actors.errors import BridgeUnavailable, KrytenValidationError
from kryten_actors.protocol.commands import (
    SendChat,
    StateMotd,
    StatePlaylist,
    StateUser,
    StateUserlist,
)
from kryten_actors.protocol.lifecycle import robot_lifecycle
from kryten_actors.protocol.results import PlaylistResult, UserlistResult, UserResult
from kryten_actors.runtime import VirtualClock
from kryten_actors.transport.memory import MemoryTransport
from tests.bot.units.kit import BOT, CHANNEL, DOMAIN, binding, config, envelope, item, user
from tests.fixture_data import load_jsonl
from tests.polling import wait_until


@dataclass(frozen=True)
class Message:
    subject: str
    data: bytes
    reply: str = ""
    headers: dict[str, str] | None = None


def test_the_captured_restart_is_two_processes() -> None:
    notices = [
        parse_lifecycle(row["subject"], json.dumps(row["body"]).encode())
        for row in load_jsonl("lifecycle.jsonl")
        if row["subject"].startswith("kryten.lifecycle.robot.")
    ]
    assert all(n is not None and n.identity is not None for n in notices)
    old, new = notices[:2], notices[2:]
    assert [n.kind for n in old if n] == ["disconnected", "shutdown"]
    first = old[0]
    assert first is not None
    assert first.identity is not None
    for notice in [*old, *new]:
        assert notice is not None
        assert notice.identity is not None
        same = notice.identity.same_process(first.identity)
        assert same == (notice in old), notice
    named = [n for n in new if n is not None and n.channel is not None]
    assert {(n.kind, n.domain, n.channel) for n in named} == {
        ("connected", "localhost", "e2etest"),
        ("startup", "localhost", "e2etest"),
    }


async def test_a_bridge_back_without_having_said_shutdown_still_makes_commands_wait() -> None:
    """A crashed bridge (SIGKILL, OOM) says no ``shutdown``: a request found no responder.
    When its successor announces itself, the join has not happened yet; a command sent
    then would reach CyTube before the bridge logged in, and CyTube drops it silently."""
    transport = MemoryTransport()
    await transport.connect()
    b = binding(transport=transport)
    monitor = BridgeMonitor(
        transport=transport,
        config=config(bridge={"probe_on_start": False, "announce": False}),
        bindings=lambda: [b],
        clock=VirtualClock(),
        version="0",
    )
    b.join.seed(username=BOT, rank=5)
    b.link.mark_down("no bridge answered a request")
    subject, body = robot_lifecycle(
        "connected",
        started=datetime.now(UTC),
        hostname="vm",
        target="CyTube",
        domain=DOMAIN,
        channel=CHANNEL,
    )
    await monitor._on_message(Message(subject, body))
    assert b.link.state == "up"
    assert not b.join.settled  # until the rejoin's rank
    for name, payload in [("rank", -1), ("login", {"success": True, "name": BOT}), ("rank", 5)]:
        observe(b, name, envelope(name, payload))
    assert b.join.settled
    # a notice handled after the join's events (another subscription) unsettles nothing
    await monitor._on_message(Message(subject, body))
    assert b.join.settled
    await transport.close()


@pytest.mark.parametrize("data", [b"", b"[]", b"{", b'{"timestamp": "nope"}'])
def test_a_bad_lifecycle_body_names_no_process(data: bytes) -> None:
    notice = parse_lifecycle("kryten.lifecycle.robot.shutdown", data)
    assert notice is None or notice.identity is None


async def test_the_monitor_follows_startup_shutdown_and_a_new_process() -> None:
    transport = MemoryTransport()
    await transport.connect()
    b = binding(transport=transport)
    monitor = BridgeMonitor(
        transport=transport,
        config=config(bridge={"probe_on_start": False}),
        bindings=lambda: [b],
        clock=VirtualClock(),
        version="0",
    )
    first = b.state  # the monitor only touches the link and the join tracker
    old = datetime.now(UTC) - timedelta(minutes=5)
    here = {"domain": DOMAIN, "channel": CHANNEL}

    async def say(kind: str, started: datetime, **extra: Any) -> None:
        subject, body = robot_lifecycle(kind, started=started, hostname="vm", **extra)
        await monitor._on_message(Message(subject, body))

    await say("connected", old, target="NATS")  # names no channel: nothing learned
    assert b.link.state == "unknown"
    await say("startup", old, **here)
    assert b.link.state == "up"
    assert b.link.identity is not None
    await say("startup", old, domain=DOMAIN, channel="elsewhere")
    await say("shutdown", datetime.now(UTC))  # another process stopped: not ours
    assert b.link.state == "up"
    await say("shutdown", old, reason="Normal shutdown")
    assert b.link.is_down
    assert not b.join.settled  # commands wait for the rejoin's rank
    await say("startup", datetime.now(UTC))  # a bridge started: the bot announces itself
    assert transport.published[-1].subject == "kryten.lifecycle.kryten-actors.startup"
    await say("connected", datetime.now(UTC), target="CyTube", **here)
    assert b.link.state == "up"
    assert b.state is first
    await transport.close()


async def test_the_start_probe_seeds_account_rank_users_and_playlist() -> None:
    transport = MemoryTransport()
    await transport.connect()
    transport.kv = {
        f"kryten_{CHANNEL}_userlist": {"users": json.dumps([user(BOT, 3), user("alice")]).encode()},
        f"kryten_{CHANNEL}_playlist": {"items": json.dumps([item(4), item(9)]).encode()},
    }
    cfg = config(bridge={"probe_on_start": True, "announce": False, "probe_timeout": 2.0})
    b = binding(transport=transport, bridge={"probe_on_start": True, "announce": False})
    bridge = SimulatedBridge(transport, profile="kryten-robot", channels=[(DOMAIN, CHANNEL)])
    async with bridge:
        monitor = BridgeMonitor(
            transport=transport, config=cfg, bindings=lambda: [b], clock=VirtualClock(), version="0"
        )
        await monitor.start()
        try:
            await wait_until(lambda: b.state.playlist_known, what="the probe")
        finally:
            await monitor.stop()
    assert (b.state.username, b.state.rank) == (BOT, 3)
    assert b.link.identity is not None
    assert sorted(b.state.userlist) == [BOT, "alice"]
    assert b.state.playlist.uids == [4, 9]
    await transport.close()


# --- the bridge's stored state, read per channel -----------------------------------------
async def _stored(
    kv: dict[str, dict[str, bytes]] | None, command: Any, channel: str = "Lounge"
) -> Any:
    transport = MemoryTransport()
    await transport.connect()
    transport.kv = kv
    try:
        return await read_stored(transport, command, domain=DOMAIN, channel=channel)
    finally:
        await transport.close()


USERS = {"users": json.dumps([user("Alice", 2), user(BOT, 5)]).encode()}


async def test_stored_state_is_read_from_this_channels_buckets_only() -> None:
    kv = {"kryten_lounge_userlist": USERS, "kryten_lounge_playlist": {"items": b"[]"}}
    users = await _stored(kv, StateUserlist())  # "Lounge" found lowercased
    assert isinstance(users, UserlistResult)
    assert [u.name for u in users.users] == ["Alice", BOT]
    alice = await _stored(kv, StateUser(username="ALICE"))
    assert isinstance(alice, UserResult)
    assert alice.user is not None
    assert alice.user.name == "Alice"
    assert isinstance(await _stored(kv, StatePlaylist()), PlaylistResult)
    motd = await _stored(kv, StateMotd())  # bucket exists, no MOTD yet: empty, not an error
    assert motd is not None
    with pytest.raises(BridgeUnavailable, match=r"no bridge keeps state for cytu\.be/other"):
        await _stored(kv, StateUserlist(), channel="other")


async def test_stored_state_without_a_key_value_store_asks_the_bridge() -> None:
    assert await _stored(None, StateUserlist()) is None
    assert await _stored({}, SendChat(message="x")) is None  # not a state query


async def test_stored_state_that_is_not_json_is_a_clear_error() -> None:
    with pytest.raises(KrytenValidationError, match="not JSON"):
        await _stored({"kryten_lounge_userlist": {"users": b"{"}}, StateUserlist())
