"""Correlation IDs become trace IDs; sampling works on UUID-derived trace IDs."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, TraceIdRatioBased

from kryten_actors.observability.correlation import (
    CorrelationIdGenerator,
    root_trace_id,
    trace_id_from_correlation,
)
from kryten_actors.observability.sampling import RandomBitsRatioSampler, sampler_for
from kryten_actors.observability.settings import SamplerSpec


def test_trace_id_is_the_uuid_bits() -> None:
    cid = uuid.uuid4()
    assert trace_id_from_correlation(str(cid)) == cid.int
    assert trace_id_from_correlation(cid.hex) == cid.int


@pytest.mark.parametrize(
    "cid", [None, "", "nope", "00000000-0000-0000-0000-000000000000", "12345678-1234"]
)
def test_unusable_correlation_ids_give_none(cid: str | None) -> None:
    assert trace_id_from_correlation(cid) is None


class Fixed(IdGenerator):
    def generate_span_id(self) -> int:
        return 7

    def generate_trace_id(self) -> int:
        return 42


def test_generator_uses_the_parked_id_only_inside_the_scope() -> None:
    generator = CorrelationIdGenerator(Fixed())
    with root_trace_id(99):
        assert generator.generate_trace_id() == 99
        with root_trace_id(None):
            assert generator.generate_trace_id() == 42
        assert generator.generate_trace_id() == 99
    assert generator.generate_trace_id() == 42
    assert generator.generate_span_id() == 7


def _sampled_share(sampler: TraceIdRatioBased, n: int = 4000) -> float:
    hits = sum(
        sampler.should_sample(None, uuid.uuid4().int, "x").decision is Decision.RECORD_AND_SAMPLE
        for _ in range(n)
    )
    return hits / n


def test_sdk_ratio_sampler_is_broken_for_uuid4_trace_ids() -> None:
    # Why RandomBitsRatioSampler exists: v4 UUIDs' low 64 bits are all >= 2**63.
    assert _sampled_share(TraceIdRatioBased(0.3)) == 0.0


@pytest.mark.parametrize("ratio", [0.1, 0.3, 0.5, 0.9])
def test_random_bits_sampler_keeps_the_ratio_for_uuid4(ratio: float) -> None:
    assert _sampled_share(RandomBitsRatioSampler(ratio)) == pytest.approx(ratio, abs=0.05)


def test_sampler_for_names() -> None:
    assert isinstance(sampler_for(SamplerSpec()), ParentBased)
    assert isinstance(sampler_for(SamplerSpec("traceidratio", 0.2)), RandomBitsRatioSampler)
    off = sampler_for(SamplerSpec("always_off"))
    assert off.should_sample(None, 1, "x").decision is Decision.DROP
    on = sampler_for(SamplerSpec("parentbased_always_on"))
    assert on.should_sample(None, 1, "x").decision is Decision.RECORD_AND_SAMPLE


def _uuid_rule(cid: str) -> int | None:
    try:
        return uuid.UUID(cid).int or None
    except ValueError:
        return None


@given(
    st.one_of(
        st.uuids().map(str),
        st.uuids().map(lambda u: str(u).upper()),
        st.text(alphabet="0123456789abcdefABCDEF-{}_+ gx:", min_size=30, max_size=40),
    )
)
def test_trace_id_follows_the_uuid_parser_for_any_text(cid: str) -> None:
    # The 36-character fast path must agree with uuid.UUID on everything, odd input too.
    assert trace_id_from_correlation(cid) == _uuid_rule(cid)
