"""The handled-event journal: crash duplicates skipped by the next process on the host."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import nats
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on
from kryten_actors.bot.handled_journal import (
    DuplicateWindow,
    HandledJournal,
    journal_path,
    open_journal,
)
from kryten_actors.config import KrytenConfig
from tests.bot.support import chat
from tests.bot.test_jetstream import STREAM, js_config, publish
from tests.conftest import NatsServerFactory
from tests.polling import wait_until


def test_ids_survive_a_reopen_in_order(tmp_path: Path) -> None:
    path = tmp_path / "j" / "bot.handled"
    journal, ids = open_journal(path, stream_id="S 1", capacity=10)
    assert journal is not None
    assert ids == []
    for n in range(5):
        journal.append(f"id-{n}")
    journal.close()
    again, ids = open_journal(path, stream_id="S 1", capacity=10)
    assert again is not None
    assert ids == [f"id-{n}" for n in range(5)]
    again.close()


def test_a_journal_of_another_stream_instance_is_discarded(tmp_path: Path) -> None:
    path = tmp_path / "bot.handled"
    journal, _ = open_journal(path, stream_id="S 2026-01-01", capacity=10)
    assert journal is not None
    journal.append("a")
    journal.close()
    other, ids = open_journal(path, stream_id="S 2026-02-02", capacity=10)
    assert other is not None
    assert ids == []
    other.close()
    # and it was rewritten for the new stream
    assert path.read_text() == "kryten-actors handled v1 S 2026-02-02\n"


def test_a_line_cut_by_a_crash_and_garbage_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bot.handled"
    path.write_text("kryten-actors handled v1 S\nok-1\nnot an id\n\nok-2\nhalf-writ")
    journal, ids = open_journal(path, stream_id="S", capacity=10)
    assert ids == ["ok-1", "ok-2"]
    assert journal is not None
    journal.close()


def test_a_journal_held_by_a_live_process_is_not_shared(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bot.handled"
    holder, _ = open_journal(path, stream_id="S", capacity=10)
    assert holder is not None
    with caplog.at_level(logging.WARNING):
        second, ids = open_journal(path, stream_id="S", capacity=10)
    assert second is None
    assert ids == []
    assert "held by another live process" in caplog.text
    holder.close()
    third, _ = open_journal(path, stream_id="S", capacity=10)  # released with the holder
    assert third is not None
    third.close()


def test_an_unwritable_journal_is_a_warning_not_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING):
        journal, ids = open_journal(blocker / "bot.handled", stream_id="S", capacity=10)
    assert journal is None
    assert ids == []
    assert "cannot be used" in caplog.text


@given(st.lists(st.sampled_from([f"id{n}" for n in range(30)]), max_size=200))
def test_the_file_stays_bounded_and_restores_the_window(ids: list[str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bot.handled"
        window = DuplicateWindow(8)
        journal, restored = open_journal(path, stream_id="S", capacity=8)
        window.attach(journal, restored)
        for correlation_id in ids:
            window.add(correlation_id)
            assert window.journal is not None
            assert window.journal.written < 16  # rewritten at twice the window
        remembered = [i for i in dict.fromkeys(reversed(ids)) if i in window]
        window.detach()
        after = DuplicateWindow(8)
        journal, restored = open_journal(path, stream_id="S", capacity=8)
        after.attach(journal, restored)
        assert sorted(remembered) == sorted(i for i in set(ids) if i in after)
        assert len(after) == len(window)
        after.detach()


def test_a_journal_that_fails_to_write_is_dropped_not_the_event(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    window = DuplicateWindow(8)
    journal, restored = open_journal(tmp_path / "bot.handled", stream_id="S", capacity=8)
    window.attach(journal, restored)
    assert journal is not None
    os.close(journal._fd)  # as if the disk had gone away under it
    with caplog.at_level(logging.WARNING):
        window.add("a")
    assert "a" in window  # still remembered in memory
    assert window.journal is None
    assert "continuing without it" in caplog.text
    window.add("b")  # and nothing more is tried
    assert "b" in window


def test_where_the_journal_lives(tmp_path: Path) -> None:
    def config(**jetstream: Any) -> KrytenConfig:
        return KrytenConfig.model_validate(
            {"service_name": "my_bot", "delivery": "jetstream", "jetstream": jetstream}
        )

    auto = journal_path(config())
    assert auto is not None
    assert auto.name == "my_bot.handled"
    assert auto.parent.name == "kryten-actors"
    assert journal_path(config(journal="off")) is None
    assert journal_path(config(redelivery="mark")) is None
    assert journal_path(config(journal=str(tmp_path / "x"))) == tmp_path / "x"
    assert journal_path(config(sharding={"enabled": True})) is None  # member names change
    pinned = journal_path(config(sharding={"enabled": True, "member": "m1"}))
    assert pinned is not None
    assert pinned.name == "my_bot-m1.handled"
    assert "journal" in repr(HandledJournal(tmp_path / "j", stream_id="S", capacity=1)).lower()


class Seen(ChannelActor):
    seen: ClassVar[list[tuple[str, bool]]] = []

    @on("chatMsg")
    async def record(self, event: ChatMessageEvent) -> None:
        type(self).seen.append((event.message, event.redelivered))


@pytest.mark.parametrize("journal", ["file", "off"])
async def test_events_whose_acks_were_lost_are_skipped_by_the_next_process(
    nats_server_factory: NatsServerFactory, tmp_path: Path, journal: str
) -> None:
    """The acks of ``a*`` never leave the first bot (as when it is killed); the next bot
    gets them again: with the journal it skips them, without it handles them flagged."""
    server = await nats_server_factory(jetstream=True)
    actor: type[Seen] = type("S1", (Seen,), {"seen": []})  # type: ignore[assignment]
    setting = str(tmp_path / "bot.handled") if journal == "file" else "off"
    config = js_config(server.url, [("cytu.be", "lounge")], journal=setting)
    async with Bot(config, actor=actor) as bot:
        assert bot.jetstream is not None
        bot.jetstream.link.ack = lambda reply: None  # type: ignore[method-assign]
        await publish(server.url, [chat("seed", f"a{n}") for n in range(10)])
        await wait_until(lambda: len(actor.seen) == 10, what="first bot handled a*")
    await publish(server.url, [chat("seed", f"b{n}") for n in range(5)])
    async with Bot(config, actor=actor) as bot:
        assert bot.jetstream is not None
        await wait_until(lambda: len(actor.seen) >= 15, what="second bot handled b*")
        stats = bot.jetstream.stats
        await wait_until(lambda: stats.acked + stats.duplicates_skipped == 15)
        second = actor.seen[10:]
        section = bot.health().delivery
        assert section is not None
        assert section.journal_restored == stats.journal_restored
        assert section.journal == (setting if journal == "file" else None)
        if journal == "file":
            assert stats.journal_restored == 10
            assert stats.duplicates_skipped == 10
            assert second == [(f"b{n}", False) for n in range(5)]
        else:
            assert stats.duplicates_skipped == 0
            assert second == [(f"a{n}", True) for n in range(10)] + [
                (f"b{n}", False) for n in range(5)
            ]


async def test_a_recreated_stream_does_not_inherit_the_journal(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    server = await nats_server_factory(jetstream=True)
    actor: type[Seen] = type("S2", (Seen,), {"seen": []})  # type: ignore[assignment]
    config = js_config(server.url, [("cytu.be", "lounge")], journal=str(tmp_path / "j"))
    async with Bot(config, actor=actor):
        await publish(server.url, [chat("seed", "one")])
        await wait_until(lambda: len(actor.seen) == 1)
    async with Bot(config, actor=actor) as bot:  # same stream: the journal is read
        assert bot.jetstream is not None
        assert bot.jetstream.stats.journal_restored == 1
    nc = await nats.connect(server.url)
    try:
        await nc.jetstream().delete_stream(STREAM)
    finally:
        await nc.close()
    async with Bot(config, actor=actor) as bot:  # a new stream of the same name: not
        assert bot.jetstream is not None
        assert bot.jetstream.stats.journal_restored == 0
