"""Spans recorded in the bot as plain data, for the span worker to build and export.

With ``tracing.span_worker`` on, the bot's tracer is a :class:`RelayTracer`: it makes
the sampling decision with the SDK's sampler and the IDs with the bot's
:class:`~kryten_actors.observability.correlation.CorrelationIdGenerator` (so trace IDs,
span IDs and ``traceparent`` headers are exactly what the SDK's tracer would give), but
a sampled span is a :class:`RelaySpan` — a few Python objects that record what happens
to it. When it ends, its :data:`SpanRecord` (ints, strings and the attribute values) goes
to a :class:`~kryten_actors.observability.span_relay.SpanRelay`, which ships records in
batches to :mod:`~kryten_actors.observability.span_worker`, a process that rebuilds each
span with the OpenTelemetry SDK (same IDs, times, attributes, events, links, status)
and exports it with the SDK's batch processor and OTLP exporter. The SDK's attribute
limits and validation therefore apply there, not here.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import Decision, Sampler
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util import types

__all__ = ["RelaySpan", "RelayTracer", "SpanRecord", "SpanSink"]

SpanRecord = tuple[Any, ...]
"""One ended span as plain data (the layout :func:`RelaySpan.record` documents)."""

SpanSink = Callable[[SpanRecord], None]
"""Where an ended span's record goes (``SpanRelay.submit``)."""

_NO_LINKS: Final[Sequence[Link]] = ()
_SAMPLE: Final = Decision.RECORD_AND_SAMPLE


def _copied(attributes: types.Attributes) -> dict[str, types.AnyValue]:
    """A copy of ``attributes`` whose list values are tuples: a list the caller changes
    later does not change the span (the SDK copies sequences the same way)."""
    if not attributes:
        return {}
    return {
        key: tuple(value) if isinstance(value, list) else value for key, value in attributes.items()
    }


def _context_data(context: SpanContext) -> tuple[int, int, bool, int, tuple[tuple[str, str], ...]]:
    return (
        context.trace_id,
        context.span_id,
        context.is_remote,
        int(context.trace_flags),
        tuple(context.trace_state.items()),
    )


class RelaySpan(trace_api.Span):
    """A sampled span, recording in the bot and built by the span worker when it ends.

    It behaves as the SDK's span does for everything the API offers (attributes,
    events, links, status, exceptions, a new name) until :meth:`end`; after that it
    records nothing more.
    """

    __slots__ = (
        "_attributes",
        "_context",
        "_end",
        "_events",
        "_kind",
        "_links",
        "_name",
        "_parent",
        "_sink",
        "_start",
        "_status",
    )

    def __init__(
        self,
        sink: SpanSink,
        *,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: dict[str, types.AnyValue],
        links: Sequence[Link],
        start_time: int | None,
    ) -> None:
        self._sink = sink
        self._name = name
        self._context = context
        self._parent = parent
        self._kind = kind
        self._attributes = attributes
        self._links: list[tuple[Any, ...]] = [
            (*_context_data(link.context), _copied(link.attributes))
            for link in links
            if link.context.is_valid
        ]
        self._events: list[tuple[str, dict[str, types.AnyValue], int]] = []
        self._status: Status | None = None
        self._start = start_time if start_time is not None else time.time_ns()
        self._end: int | None = None

    def __repr__(self) -> str:
        return f"RelaySpan(name={self._name!r}, context={self._context!r})"

    @property
    def name(self) -> str:
        """The span's name (as the SDK's span has it)."""
        return self._name

    @property
    def attributes(self) -> Mapping[str, types.AnyValue]:
        """The attributes recorded so far."""
        return self._attributes

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self._end is None

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        if self._end is None:
            self._attributes.update(_copied(attributes))

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        if self._end is None:
            self._attributes[key] = tuple(value) if isinstance(value, list) else value

    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None:
        if self._end is None:
            when = timestamp if timestamp is not None else time.time_ns()
            self._events.append((name, _copied(attributes), when))

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        if self._end is None and context.is_valid:
            self._links.append((*_context_data(context), _copied(attributes)))

    def update_name(self, name: str) -> None:
        if self._end is None:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        # The SDK's rules: UNSET is ignored, and nothing changes a status once OK.
        if self._end is not None or (
            self._status is not None and self._status.status_code is StatusCode.OK
        ):
            return
        if isinstance(status, StatusCode):
            status = Status(status, description)
        if status.status_code is not StatusCode.UNSET:
            self._status = status

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        # The SDK's ``exception`` event, built here: the exception itself stays in the bot.
        module = type(exception).__module__
        qualname = type(exception).__qualname__
        recorded: dict[str, types.AnyValue] = {
            "exception.type": f"{module}.{qualname}"
            if module and module != "builtins"
            else qualname,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            recorded.update(attributes)
        self.add_event("exception", recorded, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._end is not None:
            return
        self._end = end_time if end_time is not None else time.time_ns()
        self._sink(self.record())

    def record(self) -> SpanRecord:
        """``(name, kind, trace_id, span_id, parent, start, end, attributes, events,
        links, status)``: ``parent`` is None or ``(span_id, is_remote, trace_flags,
        trace_state items)`` of the parent, ``status`` None or ``(code, description)``,
        times in ns since the epoch, every ID an int, every collection a plain one."""
        context = self._context
        parent = self._parent
        status = self._status
        return (
            self._name,
            self._kind.value,
            context.trace_id,
            context.span_id,
            None if parent is None else _context_data(parent)[1:],
            self._start,
            self._end,
            self._attributes,
            self._events,
            self._links,
            None if status is None else (status.status_code.value, status.description),
        )


class RelayTracer(trace_api.Tracer):
    """The SDK tracer's decisions (sampler, IDs, parent), with :class:`RelaySpan` spans."""

    def __init__(self, sink: SpanSink, sampler: Sampler, ids: IdGenerator) -> None:
        self._sink = sink
        self._sampler = sampler
        self._ids = ids

    def start_span(  # noqa: PLR0917 -- the API's signature
        self,
        name: str,
        context: context_api.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace_api.Span:
        del record_exception, set_status_on_exception  # honoured by use_span()
        links = links or _NO_LINKS
        parent: SpanContext | None = trace_api.get_current_span(context).get_span_context()
        if parent is None or not parent.is_valid:
            parent = None
            trace_id = self._ids.generate_trace_id()
            random_trace_id = self._ids.is_trace_id_random()
        else:
            trace_id = parent.trace_id
            random_trace_id = parent.trace_flags.random_trace_id
        decision = self._sampler.should_sample(context, trace_id, name, kind, attributes, links)
        flags = TraceFlags.SAMPLED if decision.decision is _SAMPLE else TraceFlags.DEFAULT
        if random_trace_id:
            flags |= TraceFlags.RANDOM_TRACE_ID
        span_context = SpanContext(
            trace_id,
            self._ids.generate_span_id(),
            is_remote=False,
            trace_flags=TraceFlags(flags),
            trace_state=decision.trace_state,
        )
        if decision.decision is Decision.DROP:
            return trace_api.NonRecordingSpan(span_context)
        recorded = _copied(decision.attributes)
        return RelaySpan(
            self._sink,
            name=name,
            context=span_context,
            parent=parent,
            kind=kind,
            attributes=recorded,
            links=links,
            start_time=start_time,
        )

    @contextmanager
    def start_as_current_span(  # type: ignore[override]  # noqa: PLR0917 -- the API's signature; its return type is a private class
        self,
        name: str,
        context: context_api.Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[trace_api.Span]:
        span = self.start_span(name, context, kind, attributes, links, start_time)
        with trace_api.use_span(
            span,
            end_on_exit=end_on_exit,
            record_exception=record_exception,
            set_status_on_exception=set_status_on_exception,
        ) as current:
            yield current
