"""Samplers for traces whose IDs may be correlation UUIDs.

The SDK's ``TraceIdRatioBased`` compares the *low 64 bits* of the trace ID with the
ratio. A version-4 UUID has its variant bits (``10``) at the top of those 64 bits,
so every UUID-derived trace ID falls in the upper half of the range: with a ratio
below 0.5 nothing would ever be sampled, and with a ratio of 0.75 or more everything
would. :class:`RandomBitsRatioSampler` looks only at the rightmost 56 bits (7 bytes),
which are random both in a version-4 UUID and in a W3C trace ID (the bits the W3C
Trace Context Level 2 "random" flag promises), so the ratio holds for both.
"""

from __future__ import annotations

from typing import Final

from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

from kryten_actors.observability.settings import SamplerSpec

__all__ = ["RandomBitsRatioSampler", "sampler_for"]


class RandomBitsRatioSampler(TraceIdRatioBased):
    """Samples a root span when the trace ID's low 56 bits fall below ``ratio``·2⁵⁶."""

    TRACE_ID_LIMIT: Final = (1 << 56) - 1  # type: ignore[misc]  # narrower than the SDK's

    def get_description(self) -> str:
        return f"RandomBitsRatioSampler{{{self.rate}}}"


def sampler_for(spec: SamplerSpec) -> Sampler:
    """The sampler named by ``spec`` (``OTEL_TRACES_SAMPLER`` names); ratios use the
    56-bit rule above."""
    root: Sampler
    if spec.name.endswith("always_on"):
        root = ALWAYS_ON
    elif spec.name.endswith("always_off"):
        root = ALWAYS_OFF
    else:
        root = RandomBitsRatioSampler(spec.ratio)
    if spec.name.startswith("parentbased_"):
        return ParentBased(root)
    return root
