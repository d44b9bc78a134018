"""Fuzzing the whole inbound path: bytes on a subject → router → mailbox → decode → handler.

The invariant (issue 11): every message the bot receives is either handed to a handler
exactly once or counted exactly once with a reason (a dead letter, or the router's own
count for events it deliberately passes by) — nothing is lost silently, nothing is
delivered twice, and nothing escapes into another channel.

Each example is a batch of messages on subjects under the bot's subscription (valid ones
for its channels, unknown channels, hostile tokens, wrong event tokens) with bodies
ranging from clean fixture envelopes to mutants, wrong-channel envelopes, deep nesting,
oversized and random bytes. The bot is real (``BotHarness``: the real router, supervision
tree and decoder on an in-memory bus).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kryten_actors.bot import ChannelActor, on
from kryten_actors.errors import PublishError
from kryten_actors.protocol.events import RawEvent
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.testing import BotHarness

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "events.jsonl"
ENVELOPES: list[dict[str, Any]] = [
    json.loads(line)["body"]
    for line in FIXTURE.read_text(encoding="utf-8").splitlines()
    if line.strip()
]
DOMAIN = "cytu.be"
CHANNELS = ["lounge", "den"]
MAX_EVENT_BYTES = 4096
HOSTILE = ["lounge.den", "*", ">", "a b", "ünï", "", "lounge\x00", "x" * 300]
EVENTS = ["chatMsg", "addUser", "userLeave", "pm", "changeMedia", "noSuchEvent", "rank"]


class Recorder(ChannelActor):
    """Records every event any handler sees, with the channel it was delivered to."""

    seen: ClassVar[list[tuple[str, str, str | None]]] = []

    @on("*")
    async def anything(self, event: RawEvent) -> None:
        Recorder.seen.append((self.channel, event.channel, event.correlation_id))


def envelope(channel: str, event: str, body: dict[str, Any], cid: str) -> bytes:
    data = dict(body)
    data.update(channel=channel, domain=DOMAIN, event_name=event, correlation_id=cid)
    return json.dumps(data).encode()


@st.composite
def messages(draw: st.DrawFn, profile: str) -> list[tuple[str, bytes]]:
    scheme = scheme_for(profile)
    batch: list[tuple[str, bytes]] = []
    for index in range(draw(st.integers(1, 12))):
        cid = f"00000000-0000-4000-8000-{index:012d}"
        channel = draw(st.sampled_from([*CHANNELS, "elsewhere", *HOSTILE]))
        event = draw(st.sampled_from(EVENTS))
        try:
            subject = scheme.event_subject(DOMAIN, channel, event)
        except ValueError:  # a hostile name no subject can carry: put it there raw
            prefix = scheme.event_subject(DOMAIN, "lounge", event).rsplit(".", 2)[0]
            subject = f"{prefix}.{channel}.{event}"
        kind = draw(st.sampled_from(["clean", "other", "bytes", "deep", "big", "mutant"]))
        base = draw(st.sampled_from(ENVELOPES))
        if kind == "clean":
            body = envelope(channel, event, base, cid)
        elif kind == "other":  # an envelope naming another channel than its subject
            body = envelope(draw(st.sampled_from(CHANNELS)), event, base, cid)
        elif kind == "bytes":
            body = draw(st.binary(max_size=64))
        elif kind == "deep":
            depth = draw(st.integers(10, 5000))
            body = b'{"payload": ' + b"[" * depth + b"]" * depth + b"}"
        elif kind == "big":
            body = envelope(channel, event, {"payload": {"msg": "x" * MAX_EVENT_BYTES}}, cid)
        else:
            raw = bytearray(envelope(channel, event, base, cid))
            at = draw(st.integers(0, len(raw) - 1))
            raw[at] = draw(st.integers(0, 255))
            body = bytes(raw)
        batch.append((subject, body))
    return batch


async def run_batch(profile: str, batch: list[tuple[str, bytes]]) -> None:
    Recorder.seen.clear()
    settings_ = {"max_event_bytes": MAX_EVENT_BYTES, "spawn_unknown_channels": False}
    async with BotHarness(Recorder, channels=CHANNELS, profile=profile, settings=settings_) as h:
        accepted = 0
        for subject, body in batch:
            try:
                await h.transport.publish(subject, body)
            except PublishError:  # no publisher can put it on the bus (wildcards, spaces)
                continue
            accepted += 1
        await h.idle()
        router = h.bot.router_stats
        letters = h.dead_letters
        received = router.received
        handled = len(Recorder.seen)
        counted = letters.total + router.foreign_channel + router.replayed_skipped
        assert received == accepted, "every message reached the router"
        assert handled + counted == received, (handled, dict(letters.counts), router)
        # nothing crossed into another channel: a handler saw only its own channel's events
        # (a name the bridge writes as the same subject token is the same channel)
        scheme = scheme_for(profile)
        for delivered_to, named, _ in Recorder.seen:
            assert scheme.channel_key(DOMAIN, named) == scheme.channel_key(DOMAIN, delivered_to)
        # and nothing twice
        cids = [cid for _, _, cid in Recorder.seen]
        assert len(cids) == len(set(cids))
        assert h.health().router["received"] == received


@pytest.mark.parametrize("profile", ["seed", "kryten-robot"])
@pytest.mark.parametrize(
    "examples", [pytest.param(40, id="few"), pytest.param(400, id="many", marks=pytest.mark.slow)]
)
def test_every_message_is_delivered_once_or_counted_once(profile: str, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(messages(profile))
    def prop(batch: list[tuple[str, bytes]]) -> None:
        asyncio.run(run_batch(profile, batch))

    prop()
