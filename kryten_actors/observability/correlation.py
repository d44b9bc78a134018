"""Correlation ID → trace ID: every service handling one correlation ID joins one trace.

The bridge stamps a UUID ``correlation_id`` on every event but sends no trace
headers. When an event arrives without ``traceparent``, its process span becomes the
root of a trace whose 128-bit ID *is* that UUID (``uuid.UUID(cid).int``), so any
other service doing the same lands in the same trace.

How: the tracer provider gets a :class:`CorrelationIdGenerator`, whose
``generate_trace_id()`` returns the ID parked in a context variable by
:func:`root_trace_id` just before the root span starts (and a random one otherwise).
The alternative — starting the span under a fabricated remote parent carrying that
trace ID — would give every root span a parent span ID that no service ever
exported, which Jaeger shows as a broken ("missing parent") trace. The ID generator
only chooses IDs; the span stays a genuine root and sampling still applies.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token

from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator

__all__ = ["CorrelationIdGenerator", "root_trace_id", "trace_id_from_correlation"]

_next_root_trace_id: ContextVar[int | None] = ContextVar("kryten_next_root_trace_id", default=None)


def trace_id_from_correlation(correlation_id: str | None) -> int | None:
    """The 128 bits of the UUID ``correlation_id``, or None when it is missing, not a
    UUID, or the nil UUID (an all-zero trace ID is invalid). Never raises."""
    if not correlation_id:
        return None
    if len(correlation_id) == 36:
        # The usual dashed form, read as uuid.UUID reads it (dashes out, 32 hex digits)
        # without building a UUID object.
        digits = correlation_id.replace("-", "")
        if len(digits) == 32:
            try:
                return int(digits, 16) or None
            except ValueError:
                return None
    try:
        value = uuid.UUID(correlation_id).int
    except (ValueError, TypeError, AttributeError):
        return None
    return value or None


class root_trace_id:  # noqa: N801 -- used like a function: ``with root_trace_id(tid):``
    """Within this scope, a root span started in this context gets ``trace_id``
    (None: a random one). A class rather than a generator: it runs once per sampled span."""

    __slots__ = ("_token", "_trace_id")

    def __init__(self, trace_id: int | None) -> None:
        self._trace_id = trace_id
        self._token: Token[int | None] | None = None

    def __enter__(self) -> None:
        self._token = _next_root_trace_id.set(self._trace_id)

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _next_root_trace_id.reset(self._token)


class CorrelationIdGenerator(IdGenerator):
    """Trace IDs from :func:`root_trace_id` when set; everything else from ``fallback``."""

    def __init__(self, fallback: IdGenerator | None = None) -> None:
        self._fallback = fallback if fallback is not None else RandomIdGenerator()

    def generate_span_id(self) -> int:
        return self._fallback.generate_span_id()

    def generate_trace_id(self) -> int:
        parked = _next_root_trace_id.get()
        if parked is not None:
            return parked
        return self._fallback.generate_trace_id()
