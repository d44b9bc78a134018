"""The simulated playlist: uids, CyTube's event order, temporary items, skips."""

from __future__ import annotations

import random

from kryten_actors.demo.effect import Effect
from kryten_actors.demo.playlist import Playlist, format_time


def _filled(count: int, *, temp: bool = False) -> Playlist:
    playlist = Playlist()
    for number in range(count):
        playlist.add(
            media_id=f"m{number}",
            title=f"M{number}",
            seconds=60,
            media_type="yt",
            queueby="a",
            temp=temp,
        )
    return playlist


def _names(effects: list[Effect]) -> list[str]:
    return [effect.event_name for effect in effects]


def test_first_item_starts_playing_with_a_lead_in() -> None:
    playlist = Playlist()
    entry, effects = playlist.add(
        media_id="x", title="X", seconds=213, media_type="yt", queueby="bot"
    )
    assert entry.uid == 0
    assert _names(effects) == [
        "queue",
        "setPlaylistMeta",
        "setCurrent",
        "changeMedia",
        "drinkCount",
        "voteskip",
    ]
    assert effects[0].payload["after"] == "prepend"
    assert effects[1].payload == {"count": 1, "rawTime": 213, "time": "03:33"}
    change = effects[3].payload
    assert (change["currentTime"], change["paused"], change["duration"]) == (-3, True, "03:33")


def test_livestreams_have_no_duration_and_no_lead_in() -> None:
    playlist = Playlist()
    _, effects = playlist.add(
        media_id="rtmp://x", title="Livestream", seconds=0, media_type="rt", queueby="b"
    )
    change = effects[3].payload
    assert (change["duration"], change["currentTime"], change["paused"]) == ("--:--", 0, False)


def test_next_goes_after_the_current_item() -> None:
    playlist = _filled(3)
    entry, effects = playlist.add(
        media_id="n", title="N", seconds=10, media_type="yt", queueby="b", pos="next"
    )
    assert effects[0].payload["after"] == 0
    assert [e.uid for e in playlist.entries] == [0, entry.uid, 1, 2]


def test_a_finished_temp_item_is_deleted_before_the_next_plays() -> None:
    playlist = _filled(2, temp=True)
    effects = playlist.tick(64.0)
    assert _names(effects)[:4] == ["delete", "setPlaylistMeta", "setCurrent", "changeMedia"]
    assert effects[0].payload == {"uid": 0}
    assert playlist.current_uid == 1


def test_media_updates_count_up_while_playing() -> None:
    playlist = _filled(1)
    first = playlist.tick(5.0)
    second = playlist.tick(5.0)
    assert [e.payload for e in first + second] == [
        {"currentTime": 2, "paused": False},
        {"currentTime": 7, "paused": False},
    ]


def test_half_the_active_users_skip() -> None:
    playlist = _filled(2)
    assert _names(playlist.vote_skip("a", 4)) == ["voteskip"]
    skipped = playlist.vote_skip("b", 4)
    assert skipped[0].payload == {"count": 2, "need": 2}
    assert "changeMedia" in _names(skipped)
    assert playlist.current_uid == 1


def test_removing_the_current_item_plays_its_successor() -> None:
    playlist = _filled(3)
    effects = playlist.remove(0)
    assert _names(effects)[:3] == ["delete", "setPlaylistMeta", "setCurrent"]
    assert playlist.current_uid == 1
    assert playlist.remove(99) == []


def test_move_clear_and_shuffle() -> None:
    playlist = _filled(3)
    assert playlist.move(2, "prepend")[0].payload == {"from": 2, "after": "prepend"}
    assert [e.uid for e in playlist.entries] == [2, 0, 1]
    assert playlist.move(2, 1)
    assert [e.uid for e in playlist.entries] == [0, 1, 2]
    shuffled = playlist.shuffle(random.Random(1))
    assert shuffled[0].event_name == "playlist"
    assert _names(playlist.clear()) == ["playlist", "setPlaylistMeta"]
    assert playlist.current is None


def test_format_time() -> None:
    assert [format_time(s) for s in (0, 6, 213, 3725)] == ["00:00", "00:06", "03:33", "1:02:05"]
