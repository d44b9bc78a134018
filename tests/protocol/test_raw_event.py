"""RawEvent: the bridge envelope, byte-compatible both ways."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.raw_event import RawEvent
from tests.fixture_data import load_jsonl


def fixture_bodies() -> list[dict[str, Any]]:
    return [record["body"] for record in load_jsonl("events.jsonl")]


def test_defaults_are_aware_utc_and_uuid4() -> None:
    event = RawEvent(event_name="chatMsg", channel="lounge", domain="cytu.be")
    assert event.payload is None
    assert event.timestamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - event.timestamp) < timedelta(seconds=5)
    assert uuid.UUID(event.correlation_id).version == 4
    other = RawEvent(event_name="chatMsg", channel="lounge", domain="cytu.be")
    assert other.correlation_id != event.correlation_id


def test_frozen() -> None:
    event = RawEvent(event_name="x", channel="c", domain="d")
    with pytest.raises(ValueError, match="frozen"):
        event.channel = "other"  # type: ignore[misc]


def test_timestamps_are_normalized_to_utc() -> None:
    naive = RawEvent(event_name="x", channel="c", domain="d", timestamp=datetime(2026, 1, 1, 12))
    assert naive.timestamp == datetime(2026, 1, 1, 12, tzinfo=UTC)
    plus2 = timezone(timedelta(hours=2))
    shifted = RawEvent(
        event_name="x", channel="c", domain="d", timestamp=datetime(2026, 1, 1, 12, tzinfo=plus2)
    )
    assert shifted.timestamp.utcoffset() == timedelta(0)
    assert shifted.timestamp == datetime(2026, 1, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("body", fixture_bodies(), ids=lambda b: b["event_name"])
def test_fixture_envelopes_round_trip_byte_for_byte(body: dict[str, Any]) -> None:
    data = json.dumps(body).encode("utf-8")
    event = RawEvent.from_bytes(data)
    assert event.event_name == body["event_name"]
    assert event.payload == body["payload"]
    assert event.to_bytes() == data


def test_unknown_envelope_keys_are_ignored() -> None:
    body = {"event_name": "x", "channel": "c", "domain": "d", "extra": 1, "payload": [1, 2]}
    event = RawEvent.from_bytes(json.dumps(body).encode())
    assert event.payload == [1, 2]
    assert "extra" not in event.to_dict()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"not json", "(value)"),
        (b"[1, 2]", "(value)"),
        (b'{"channel": "c", "domain": "d"}', "event_name"),
        (b'{"event_name": "x", "domain": "d"}', "channel"),
        (b'{"event_name": "x", "channel": "c", "domain": "d", "timestamp": "soon"}', "timestamp"),
    ],
)
def test_from_bytes_rejects_non_envelopes(data: bytes, field: str) -> None:
    with pytest.raises(KrytenValidationError) as info:
        RawEvent.from_bytes(data)
    assert field in [path for path, _ in info.value.errors]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200)
@given(
    event_name=st.text(min_size=1, max_size=20),
    payload=json_values,
    channel=st.text(max_size=30),
    domain=st.text(max_size=30),
    timestamp=st.datetimes(timezones=st.just(UTC)),
    correlation_id=st.uuids(version=4).map(str),
)
def test_envelope_round_trip_property(
    event_name: str,
    payload: Any,
    channel: str,
    domain: str,
    timestamp: datetime,
    correlation_id: str,
) -> None:
    event = RawEvent(
        event_name=event_name,
        payload=payload,
        channel=channel,
        domain=domain,
        timestamp=timestamp,
        correlation_id=correlation_id,
    )
    data = event.to_bytes()
    again = RawEvent.from_bytes(data)
    assert again == event
    assert again.to_bytes() == data
    assert list(json.loads(data)) == [
        "event_name",
        "payload",
        "channel",
        "domain",
        "timestamp",
        "correlation_id",
    ]
