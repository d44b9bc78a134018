"""The hot path (`decode_hinted`) and the UTC timestamp type agree with the general decoder."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.events import (
    EVENT_MODELS,
    ChatMessageEvent,
    RawEvent,
    decode_event,
    decode_hinted,
)
from kryten_actors.protocol.subjects import ROBOT_SCHEME
from tests.fixture_data import load_jsonl


def chat(timestamp: Any = "2026-03-01T20:15:02.481920+00:00", **body: Any) -> bytes:
    envelope = {
        "event_name": "chatMsg",
        "payload": {"username": "ann", "msg": "hi", "meta": {}, "time": 1},
        "channel": "lounge",
        "domain": "cytu.be",
        "timestamp": timestamp,
        "correlation_id": "0d1e9b7a-3c41-4f7e-9a55-2b8f6c0e1d23",
        **body,
    }
    return json.dumps(envelope).encode()


@pytest.mark.parametrize(
    "record", load_jsonl("events.jsonl"), ids=lambda r: f"{r['body']['event_name']}@{r['t']}"
)
def test_every_captured_envelope_takes_the_fast_path(record: dict[str, Any]) -> None:
    data = json.dumps(record["body"]).encode()
    parsed = ROBOT_SCHEME.parse_event(record["subject"])
    assert parsed is not None
    fast = decode_hinted(data, parsed.event)
    if parsed.event not in EVENT_MODELS:
        assert fast is None
        return
    assert fast is not None
    assert (fast, None) == decode_event(data, event_hint=parsed.event)
    assert type(fast) is EVENT_MODELS[parsed.event]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
hints = st.sampled_from(sorted(EVENT_MODELS)) | st.text(max_size=10)


@settings(max_examples=300)
@given(
    hint=hints,
    name=st.sampled_from(["chatMsg", "chatmsg", "CHATMSG", "pm", "usercount", "x"]),
    payload=json_values,
    timestamp=json_values | st.just("2026-03-01T20:15:02+02:00"),
)
def test_the_fast_path_agrees_with_the_general_decoder(
    hint: str, name: str, payload: Any, timestamp: Any
) -> None:
    data = chat(timestamp, event_name=name, payload=payload)
    fast = decode_hinted(data, hint)  # never raises
    if fast is None:
        return
    assert decode_event(data, event_hint=hint) == (fast, None)
    assert fast.event_name.lower() == hint


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(
    moment=st.datetimes(
        min_value=datetime(2, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.none() | st.just(UTC) | offsets,  # type: ignore[arg-type]
    )
)
def test_timestamps_hold_aware_utc_whatever_the_input(moment: datetime) -> None:
    instant = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    built = RawEvent(event_name="x", channel="c", domain="d", timestamp=moment)
    decoded = decode_hinted(chat(moment.isoformat()), "chatmsg")
    assert isinstance(decoded, ChatMessageEvent)
    for stamp in (built.timestamp, decoded.timestamp):
        assert stamp.utcoffset() == timedelta(0)
        assert stamp == instant


def test_epoch_timestamps_are_aware_utc() -> None:
    when = datetime(2026, 3, 1, 20, 15, 2, tzinfo=UTC)
    for epoch in (int(when.timestamp()), int(when.timestamp() * 1000)):
        event = decode_hinted(chat(epoch), "chatmsg")
        assert event is not None
        assert event.timestamp == when
        assert event.timestamp.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "bad",
    [
        "soon",
        "2026-13-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",  # no UTC datetime: once an OverflowError, not a rejection
        "9999-12-31T23:59:59-14:00",
        None,
        [1],
        {"t": 1},
        True,
    ],
)
def test_a_bad_timestamp_is_one_clear_error_at_the_field(bad: Any) -> None:
    data = chat(bad)
    assert decode_hinted(data, "chatmsg") is None
    with pytest.raises(KrytenValidationError) as info:
        decode_event(data, event_hint="chatmsg")
    assert [path for path, _ in info.value.errors] == ["timestamp"]
    assert "valid datetime" in str(info.value)
