"""Tracked channel state and the checks made against it before sending."""

from __future__ import annotations

from typing import Any

import pytest

from kryten_actors.bot.prechecks import precheck, required_rank
from kryten_actors.bot.tracked import STATE_EVENTS, ChannelState
from kryten_actors.protocol.commands import (
    AddMedia,
    DeleteMedia,
    JumpTo,
    Kick,
    MoveMedia,
    Mute,
    SendChat,
    SetMotd,
    SetTemp,
)
from kryten_actors.protocol.event_payloads import PlaylistItem, User
from tests.bot.units.kit import BOT, decoded, item, user


def _state(*events: tuple[str, Any]) -> ChannelState:
    state = ChannelState()
    for name, payload in events:
        assert name.lower() in STATE_EVENTS
        state.apply(name.lower(), decoded(name, payload))
    return state


def test_username_and_rank_come_from_login_and_rank() -> None:
    state = _state(("rank", -1), ("login", {"success": True, "name": BOT}), ("rank", 5))
    assert (state.username, state.rank) == (BOT, 5)
    assert _state(("login", {"success": False, "error": "bad"})).username is None


def test_the_userlist_follows_joins_leaves_ranks_and_flags_ignoring_case() -> None:
    state = _state(
        ("userlist", [user("Alice", 1), user(BOT, 5)]),
        ("addUser", user("bob", 0, afk=True)),
        ("setUserRank", {"name": "ALICE", "rank": 2}),
        ("setAFK", {"name": "bob", "afk": False}),
        ("setUserMeta", {"name": "Bob", "meta": {"muted": True, "smuted": False}}),
        ("userLeave", {"name": "kRYTENbOT"}),
        ("setUserRank", {"name": "ghost", "rank": 3}),  # unknown: ignored
    )
    assert sorted(state.userlist) == ["Alice", "bob"]
    assert state.userlist["alice"].rank == 2
    bob = state.userlist["BOB"]
    assert (bob.afk, bob.muted, bob.smuted) == (False, True, False)
    assert "ghost" not in state.userlist
    assert state.userlist_known


def test_personal_data_is_not_kept() -> None:
    state = _state(("userlist", [user("alice", 1, ip="1.2.3.4", aliases=["x"])]))
    assert "1.2.3.4" not in repr(state.userlist["alice"])
    assert "aliases" not in repr(state.userlist["alice"])


def test_the_playlist_follows_queue_delete_move_and_temp_in_order() -> None:
    state = _state(
        ("playlist", [item(1), item(2)]),
        ("queue", {"item": item(3), "after": 1}),
        ("queue", {"item": item(4), "after": "prepend"}),
        ("queue", {"item": item(5), "after": 99}),  # unknown after: appended
        ("moveVideo", {"from": 5, "after": 4}),
        ("delete", {"uid": 2}),
        ("setTemp", {"uid": 3, "temp": False}),
        ("setCurrent", 3),
    )
    assert state.playlist.uids == [4, 5, 1, 3]
    assert state.playlist.has(3)
    assert not state.playlist.has(2)
    third = state.playlist.by_uid(3)
    assert third is not None
    assert third.temp is False
    assert state.current_uid == 3
    assert state.playlist_known


def test_options_permissions_and_lock_are_kept() -> None:
    state = _state(
        (
            "channelOpts",
            {"chat_antiflood": True, "chat_antiflood_params": {"burst": 2, "sustained": 0.5}},
        ),
        ("setPermissions", {"playlistdelete": 3}),
        ("setPlaylistLocked", False),
        ("rank", 1),
    )
    assert state.chat_antiflood() == (2, 0.5)
    assert state.permissions == {"playlistdelete": 3}
    assert state.playlist_locked is False
    state.apply("rank", decoded("rank", 2))
    assert state.chat_antiflood() is None  # rank 2 and up is not held to the antiflood


@pytest.mark.parametrize(
    "options",
    [
        {"chat_antiflood": False, "chat_antiflood_params": {"burst": 2, "sustained": 1}},
        {"chat_antiflood": True, "chat_antiflood_params": "junk"},
        {"chat_antiflood": True, "chat_antiflood_params": {"burst": "x"}},
        {"chat_antiflood": True, "chat_antiflood_params": {"burst": 0, "sustained": 1}},
    ],
)
def test_antiflood_applies_only_when_on_and_well_formed(options: dict[str, Any]) -> None:
    assert _state(("channelOpts", options)).chat_antiflood() is None


def test_seeding_never_overrides_what_events_said() -> None:
    state = _state(("userlist", [user("alice")]), ("playlist", [item(1)]))
    state.seed_userlist([User(name="stale")])
    state.seed_playlist([PlaylistItem.model_validate(item(9))])
    assert list(state.userlist) == ["alice"]
    assert state.playlist.uids == [1]
    fresh = ChannelState()
    fresh.seed_userlist([User(name="alice", rank=2)])
    fresh.seed_playlist([PlaylistItem.model_validate(item(9))])
    assert (fresh.userlist_known, fresh.playlist_known) == (True, True)
    assert fresh.playlist.uids == [9]


# --- prechecks -----------------------------------------------------------------------------
def test_nothing_is_prechecked_before_the_state_is_known() -> None:
    state = ChannelState()
    assert precheck(DeleteMedia(uid=7), state) is None
    assert precheck(Kick(username="ghost"), state) is None


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (DeleteMedia(uid=7), "uid 7 is not in the playlist"),
        (JumpTo(uid=7), "uid 7 is not in the playlist"),
        (SetTemp(uid=7, temp=True), "uid 7 is not in the playlist"),
        (MoveMedia(uid=7, after=1), "uid 7 is not in the playlist"),
        (MoveMedia(uid=1, after=8), "uid 8 (after) is not in the playlist"),
        (Kick(username="ghost"), "user 'ghost' is not in the channel"),
        (DeleteMedia(uid=1), None),
        (MoveMedia(uid=1, after="prepend"), None),
        (Kick(username="ALICE"), None),
        (Mute(username="ghost"), None),  # CyTube answers this one itself
    ],
)
def test_unknown_uids_and_absent_users_are_refused_before_sending(
    command: Any, problem: str | None
) -> None:
    state = _state(("userlist", [user("alice")]), ("playlist", [item(1)]))
    assert precheck(command, state) == problem


def test_required_rank_reads_the_channel_permissions() -> None:
    state = ChannelState()
    assert required_rank(DeleteMedia(uid=1), state) == DeleteMedia.min_rank
    assert required_rank(SetMotd(motd="x"), state) == SetMotd.min_rank
    state.apply("setpermissions", decoded("setPermissions", {"playlistdelete": 4, "chat": 1}))
    assert required_rank(DeleteMedia(uid=1), state) == 4
    assert required_rank(SendChat(message="hi"), state) == 1


def test_required_rank_of_an_add_depends_on_the_playlist_lock_and_position() -> None:
    state = _state(("setPermissions", {"playlistadd": 1.5, "oplaylistadd": -1, "playlistnext": 2}))
    end = AddMedia(media_type="yt", media_id="abc")
    nxt = AddMedia(media_type="yt", media_id="abc", position="next")
    assert required_rank(end, state) == 1.5
    assert required_rank(nxt, state) == 2
    state.apply("setplaylistlocked", decoded("setPlaylistLocked", False))
    assert required_rank(end, state) == -1
