"""The scope objects ``OtelInstrumentation.process()`` and ``send()`` return.

One small class instead of nested generator context managers (``contextmanager`` around
``use_span`` around ``contextmanager``): a sampled event pays for one ``__enter__`` and
one ``__exit__``, and an event with neither a span nor metrics gets the shared
:data:`NO_SCOPE`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import Token
from types import TracebackType

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.trace import Status, StatusCode

from kryten_actors.observability import semconv
from kryten_actors.observability.instrumentation import NO_SCOPE

__all__ = ["NO_SCOPE", "Report", "SpanScope"]

Report = Callable[[float, bool], None]
"""Called once when a scope closes: (seconds it was open, True unless it raised)."""


class SpanScope:
    """``span`` (if any) is current while the scope is open and ended when it closes.

    An ``Exception`` leaving the scope sets the span's status to ERROR, adds
    ``error.type`` and an ``exception`` event, and goes on (the scope never suppresses).
    ``report`` (if any) gets the scope's duration and whether it closed without an
    exception (a cancellation counts as not ok).
    """

    __slots__ = ("_report", "_span", "_started", "_token")

    def __init__(self, span: trace_api.Span | None, report: Report | None) -> None:
        self._span = span
        self._report = report
        self._token: Token[Context] | None = None
        self._started = 0.0

    def __enter__(self) -> None:
        if self._report is not None:
            self._started = time.perf_counter()
        if self._span is not None:
            self._token = context_api.attach(trace_api.set_span_in_context(self._span))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        span = self._span
        if span is not None:
            if self._token is not None:
                context_api.detach(self._token)
            if isinstance(exc, Exception):
                span.record_exception(exc)
                span.set_attribute(semconv.ERROR_TYPE, type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
            span.end()
        if self._report is not None:
            self._report(time.perf_counter() - self._started, exc is None)
