"""``delivery: jetstream`` survives kill -9: every event handled at least once, in order.

5,000 events over 100 channels are published in chunks while a bot handles them; once
it handled a fifth of them, and while it has events in flight, it is frozen (SIGSTOP)
and killed (SIGKILL: no ack leaves after that), the rest
are published while no bot runs, and a fresh process takes over the durable consumers.
The handlers' record (written before each ack) must then hold every event; within each
process every channel's events come in order. From the 500th handled event on the first
process's acks never leave (as if all were still queued at the kill), so the second
process gets those events again: its handled-event journal (the IDs the first process
wrote right after each handler returned) makes it skip them. At most one can be handled
twice — the event the kill caught between its handler's last write and the journal's —
and then it comes flagged ``event.redelivered``.
"""

from __future__ import annotations

import json
import signal
from collections import defaultdict
from pathlib import Path

import pytest

from kryten_actors.config import NatsConfig
from kryten_actors.transport.nats import NatsTransport
from tests.bot.support import chat
from tests.conftest import NatsServerFactory
from tests.polling import wait_progressing, wait_until
from tests.reliability.support import ChildProcess

CHANNELS = 100
PER_CHANNEL = 50  # 5,000 events
CHUNK = 500
KILL_AFTER = 1_000  # handled events
IN_FLIGHT = 100  # events published but not handled when the bot is killed, at least
WORK = 0.002  # seconds per event: the bot falls behind, so events are in flight at the kill
ACKS_LOST_AFTER = 500  # handled events; the acks of later ones die with the process


def handled(record: Path) -> list[tuple[str, int, bool, int]]:
    """The record's lines: (channel, sequence, redelivered, pid)."""
    lines = record.read_text().splitlines() if record.exists() else []
    rows = []
    for line in lines:
        if line.startswith("@"):
            continue
        channel, text, redelivered, pid, _ = line.split()
        rows.append((channel, int(text), redelivered == "1", int(pid)))
    return rows


@pytest.mark.slow
async def test_kill_9_mid_stream_then_restart_loses_nothing_and_keeps_order(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    server = await nats_server_factory(jetstream=True)
    record = tmp_path / "handled.txt"
    setup = {
        "url": server.url,
        "channels": CHANNELS,
        "record": str(record),
        "work": WORK,
        "jetstream": {"journal": str(tmp_path / "bot.handled")},
    }
    plan = json.dumps({**setup, "drop_acks_after": ACKS_LOST_AFTER})
    events = [
        chat("seed", str(n), channel=f"ch{c}") for n in range(PER_CHANNEL) for c in range(CHANNELS)
    ]
    async with NatsTransport(NatsConfig(servers=[server.url])) as publisher:
        async with ChildProcess("tests.reliability.jetstream_bot", plan) as first:
            await first.expect("ready", within=60)
            assert first.process is not None
            sent = 0
            while True:
                assert sent < len(events), "the bot was never caught with events in flight"
                for subject, body in events[sent : sent + CHUNK]:
                    await publisher.publish(subject, body)
                sent += CHUNK
                await publisher.flush()
                goal = min(KILL_AFTER, sent - CHUNK // 2)
                await wait_until(lambda goal=goal: len(handled(record)) >= goal, within=60)
                # frozen (SIGSTOP) while it still has events to handle, then killed
                first.process.send_signal(signal.SIGSTOP)
                now = len(handled(record))
                if now >= KILL_AFTER and now < sent - IN_FLIGHT:
                    break
                first.process.send_signal(signal.SIGCONT)
            first.process.kill()
            assert await first.wait(within=10) != 0
        killed_at = len(handled(record))
        # published while no bot runs: the stream keeps them
        for subject, body in events[sent:]:
            await publisher.publish(subject, body)
        await publisher.flush()
        assert killed_at < len(events)

        async with ChildProcess("tests.reliability.jetstream_bot", json.dumps(setup)) as second:
            await second.expect("ready", within=60)
            expected = {(f"ch{c}", n) for c in range(CHANNELS) for n in range(PER_CHANNEL)}

            def distinct() -> int:
                return len({(channel, n) for channel, n, _, _ in handled(record)})

            await wait_progressing(
                lambda: distinct() == len(expected), distinct, what="every event handled"
            )
            second.terminate()
            assert await second.wait(within=30) == 0, second.stderr()
            report = await second.read_json(within=5)

    rows = handled(record)
    assert {(channel, n) for channel, n, _, _ in rows} == expected  # 0 lost
    by_process: dict[tuple[int, str], list[int]] = defaultdict(list)
    for channel, n, _, pid in rows:
        by_process[pid, channel].append(n)
    for (pid, channel), sequence in by_process.items():
        assert sequence == sorted(set(sequence)), f"{channel} out of order in process {pid}"
    first_pid = rows[0][3]
    seen_first = {(channel, n) for channel, n, _, pid in rows if pid == first_pid}
    duplicates = [row for row in rows if row[3] != first_pid and (row[0], row[1]) in seen_first]
    # only the event the kill caught between its handler's write and the journal's
    assert len(duplicates) <= 1, duplicates
    assert all(redelivered for _, _, redelivered, _ in duplicates)
    stats = report["jetstream"]
    # every event handled after the acks stopped was redelivered and (but that one) skipped
    lost_acks = killed_at - ACKS_LOST_AFTER
    assert stats["journal_restored"] >= killed_at - 1
    assert stats["duplicates_skipped"] + len(duplicates) >= lost_acks
    flagged = sum(1 for row in rows if row[3] != first_pid and row[2])
    assert flagged + stats["duplicates_skipped"] == stats["redelivered"]
    assert report["dead_letters"] == {}
    print(
        f"killed after {killed_at} handled ({lost_acks} with lost acks); "
        f"{stats['redelivered']} redelivered, {stats['duplicates_skipped']} skipped, "
        f"{len(duplicates)} handled twice; report {report}"
    )
