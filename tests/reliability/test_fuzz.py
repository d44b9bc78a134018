"""Fuzzing the two parsers that see raw bus input: envelope decoding and subject parsing.

Each property runs with a few examples by default and many under the ``slow`` marker
(``pytest -m slow tests/reliability/test_fuzz.py`` runs only the long ones).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.events import EVENT_MODELS, RawEvent, decode_event, model_for
from kryten_actors.protocol.subjects import (
    MAX_SUBJECT_LENGTH,
    MAX_TOKEN_LENGTH,
    ParsedEventSubject,
    scheme_for,
)

FEW, MANY = 150, 2000
EXAMPLES = [
    pytest.param(FEW, id="few"),
    pytest.param(MANY, id="many", marks=pytest.mark.slow),
]
PROFILES = ["seed", "kryten-robot"]
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "events.jsonl"
RECORDS: list[dict[str, Any]] = [
    json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line
]
ENVELOPES: list[dict[str, Any]] = [record["body"] for record in RECORDS]
HINTS: list[str] = sorted({record["subject"].rsplit(".", 1)[1] for record in RECORDS})
# what a subject token may never contain once parsed (wildcards, separators, specials)
FORBIDDEN = set(".*>!@#$%^&()+=[]{|}\\:;\"'<,?/")


def run(examples: int, strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> None:
    """Run ``check`` on ``examples`` values drawn from ``strategy``."""

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def prop(value: Any) -> None:
        check(value)

    prop()


# --- envelope decoding -------------------------------------------------------------------
def check_decode(case: tuple[bytes, str | None]) -> None:
    """``decode_event`` returns ``(event, error)`` or raises ``KrytenValidationError`` only."""
    data, hint = case
    try:
        event, error = decode_event(data, event_hint=hint)
    except KrytenValidationError:
        return
    assert isinstance(event, RawEvent)
    assert error is None or isinstance(error, ValidationError)
    if error is None:
        assert type(event) is model_for(event.event_name)
    assert event.timestamp.utcoffset() is not None
    assert event.timestamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
hints = (
    st.none()
    | st.sampled_from(sorted(EVENT_MODELS))
    | st.sampled_from(HINTS)
    | st.text(max_size=12)
)


@st.composite
def byte_mutants(draw: st.DrawFn) -> bytes:
    """A fixture envelope with a few bytes flipped, inserted, deleted or cut off."""
    body = bytearray(json.dumps(draw(st.sampled_from(ENVELOPES))).encode())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, max(len(body) - 1, 0)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if op == "flip" and body:
            body[at] = draw(st.integers(0, 255))
        elif op == "insert":
            body[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del body[at : at + draw(st.integers(1, 8))]
        else:
            del body[at:]
    return bytes(body)


@st.composite
def field_mutants(draw: st.DrawFn) -> bytes:
    """A fixture envelope with fields dropped or replaced by arbitrary JSON values."""
    envelope = dict(draw(st.sampled_from(ENVELOPES)))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from([*envelope, "payload", "event_name", "extra"]))
        if draw(st.booleans()) and key in envelope:
            del envelope[key]
        elif key == "payload" and isinstance(envelope.get(key), dict) and draw(st.booleans()):
            payload = dict(envelope[key])
            payload[draw(st.sampled_from([*payload, "x"]))] = draw(json_values)
            envelope[key] = payload
        else:
            envelope[key] = draw(json_values)
    return json.dumps(envelope).encode()


@pytest.mark.parametrize("examples", EXAMPLES)
def test_decode_arbitrary_bytes(examples: int) -> None:
    run(examples, st.tuples(st.binary(max_size=400), hints), check_decode)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_decode_byte_mutated_fixture_envelopes(examples: int) -> None:
    run(examples, st.tuples(byte_mutants(), hints), check_decode)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_decode_field_mutated_fixture_envelopes(examples: int) -> None:
    run(examples, st.tuples(field_mutants(), hints), check_decode)


def test_every_fixture_envelope_decodes_cleanly() -> None:
    for record in RECORDS:
        hint = record["subject"].rsplit(".", 1)[1]
        event, error = decode_event(json.dumps(record["body"]).encode(), event_hint=hint)
        assert error is None, record["subject"]
        assert type(event) is model_for(record["body"]["event_name"])


# --- subject parsing ---------------------------------------------------------------------
def assert_safe_token(token: str) -> None:
    assert 0 < len(token) <= MAX_TOKEN_LENGTH, token
    assert token.isprintable(), token
    assert not any(ch.isspace() for ch in token), token
    assert not FORBIDDEN & set(token), token


def check_parse(case: tuple[str, str]) -> None:
    """``parse_event`` gives None or a subject whose every token is safe."""
    profile, subject = case
    parsed = scheme_for(profile).parse_event(subject)
    if parsed is None:
        return
    assert isinstance(parsed, ParsedEventSubject)
    assert len(subject) <= MAX_SUBJECT_LENGTH
    assert_safe_token(parsed.channel)
    assert_safe_token(parsed.event)
    if profile == "seed":
        assert parsed.domain is not None
        labels = parsed.domain.split(".")
        for label in labels:
            assert label, parsed.domain
            assert not (FORBIDDEN - {"."}) & set(label), parsed.domain
            assert label.isprintable(), parsed.domain
            assert not any(ch.isspace() for ch in label), parsed.domain
        assert parsed.key == f"{parsed.domain}/{parsed.channel}"
    else:
        assert parsed.domain is None
        assert parsed.key == parsed.channel


tokens = st.text(max_size=12) | st.sampled_from(["", "*", ">", "cytube", "events", "kryten", "a"])
subjects = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda prefix, parts: ".".join([prefix, *parts]),
        st.sampled_from(["cytube.events", "kryten.events.cytube", "Cytube.Events", ""]),
        st.lists(tokens, max_size=6),
    ),
)


@pytest.mark.parametrize("examples", EXAMPLES)
@pytest.mark.parametrize("profile", PROFILES)
def test_parse_arbitrary_subjects(examples: int, profile: str) -> None:
    run(examples, st.tuples(st.just(profile), subjects), check_parse)


@pytest.mark.parametrize(
    "subject", ["cytube.events.0..0.0", "cytube.events.cytu.be..lounge.chatmsg"]
)
def test_seed_parse_refuses_a_domain_ending_in_a_dot(subject: str) -> None:
    assert scheme_for("seed").parse_event(subject) is None


def check_round_trip(case: tuple[str, str, str, str]) -> None:
    """A subject the scheme builds parses back to the channel's key (or building refuses)."""
    profile, domain, channel, event = case
    scheme = scheme_for(profile)
    try:
        subject = scheme.event_subject(domain, channel, event)
        key = scheme.channel_key(domain, channel)
    except KrytenValidationError:
        return
    parsed = scheme.parse_event(subject)
    assert parsed is not None, subject
    assert parsed.key == key
    check_parse((profile, subject))


@pytest.mark.parametrize("examples", EXAMPLES)
@pytest.mark.parametrize("profile", PROFILES)
def test_built_subjects_parse_back(examples: int, profile: str) -> None:
    names = st.text(max_size=40) | st.from_regex(r"[A-Za-z0-9_-]{1,30}", fullmatch=True)
    domains = st.text(max_size=40) | st.sampled_from(["cytu.be", "localhost", "sync.example.com"])
    run(examples, st.tuples(st.just(profile), domains, names, names), check_round_trip)
