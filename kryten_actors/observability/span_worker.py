"""The span worker: a process that builds the bot's sampled spans with the SDK and exports them.

Started by :class:`~kryten_actors.observability.span_relay.SpanRelay` as
``python -m kryten_actors.observability.span_worker``. It reads frames from stdin (see
:func:`~kryten_actors.observability.span_relay.frame`): first the telemetry settings,
then ``("spans", records)`` and ``("flush", token)``. Each record is rebuilt as an SDK
span with the IDs, parent, times, attributes, events, links and status the bot gave it,
and goes to an SDK ``BatchSpanProcessor`` with the OTLP exporter the settings name —
the same resource, exporter and environment (``OTEL_EXPORTER_OTLP_HEADERS`` and the
rest) as in-process export. A flush is answered on stdout with
``{token} {1|0} {cpu seconds} {queue_full} {export_failed}``: the last two are the
spans this worker lost so far (see :mod:`~kryten_actors.observability.span_losses`),
also reported as ``losses {queue_full} {export_failed}`` after a batch of records
whenever they changed. End of stdin means: export everything, then exit.

It ignores SIGINT and SIGTERM: a Ctrl-C or a service manager's stop reaches the whole
process group, and the bot — which flushes and then closes the pipe — decides when the
worker ends. If the bot dies, the pipe closes and the worker exports what it has and exits.
"""

from __future__ import annotations

import logging
import marshal
import os
import signal
import sys
import time
from typing import IO, Any, Final

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

from kryten_actors.observability import semconv
from kryten_actors.observability.providers import resource_for, span_exporter_for
from kryten_actors.observability.settings import SamplerSpec, TelemetrySettings
from kryten_actors.observability.span_losses import (
    EXPORT_FAILED,
    QUEUE_FULL,
    CountingBatchSpanProcessor,
    SpanLosses,
)

__all__ = ["main", "replay"]

logger = logging.getLogger(__name__)

_ROOT: Final = context_api.Context()
_FLUSH_MILLIS: Final = 30_000


class ReplayIds(IdGenerator):
    """The IDs of the span being rebuilt, set before each ``start_span``."""

    def __init__(self) -> None:
        self.trace_id = 0
        self.span_id = 0

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        return self.span_id


def _context(trace_id: int, data: tuple[Any, ...]) -> SpanContext:
    span_id, is_remote, flags, state = data
    return SpanContext(trace_id, span_id, is_remote, TraceFlags(flags), TraceState(list(state)))


def replay(tracer: trace_api.Tracer, ids: ReplayIds, record: tuple[Any, ...]) -> None:
    """Build and end the SDK span ``record`` describes (see ``RelaySpan.record``)."""
    name, kind, trace_id, span_id, parent, start, end, attributes, events, links, status = record
    context = (
        _ROOT
        if parent is None
        else trace_api.set_span_in_context(trace_api.NonRecordingSpan(_context(trace_id, parent)))
    )
    ids.trace_id = trace_id
    ids.span_id = span_id
    span = tracer.start_span(
        name,
        context=context,
        kind=SpanKind(kind),
        attributes=attributes,
        links=[Link(_context(link[0], link[1:5]), link[5]) for link in links],
        start_time=start,
    )
    for event_name, event_attributes, timestamp in events:
        span.add_event(event_name, event_attributes, timestamp)
    if status is not None:
        span.set_status(Status(StatusCode(status[0]), status[1]))
    span.end(end_time=end)


def _read(stream: IO[bytes]) -> Any:
    head = stream.read(4)
    if len(head) < 4:
        return None
    size = int.from_bytes(head, "big")
    body = stream.read(size)
    if len(body) < size:
        return None  # the bot died mid-frame: as good as the end of the pipe
    return marshal.loads(body)  # noqa: S302 -- written by our parent process only


def _settings(data: dict[str, Any]) -> TelemetrySettings:
    return TelemetrySettings(**{**data, "sampler": SamplerSpec(**data["sampler"])})


def main() -> int:
    """Run the worker on stdin/stdout until stdin ends."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    stdin = sys.stdin.buffer
    # Answers get their own descriptor; anything printed goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    first = _read(stdin)
    if first is None or first[0] != "settings":
        return 2
    settings = _settings(first[1])
    ids = ReplayIds()
    provider = TracerProvider(
        sampler=ALWAYS_ON,
        resource=resource_for(settings),
        id_generator=ids,
        shutdown_on_exit=False,
    )
    losses = SpanLosses()
    provider.add_span_processor(CountingBatchSpanProcessor(span_exporter_for(settings), losses))
    tracer = provider.get_tracer(semconv.INSTRUMENTATION_NAME)
    reported = _lost(losses)
    try:
        while (message := _read(stdin)) is not None:
            if message[0] == "spans":
                for record in message[1]:
                    try:
                        replay(tracer, ids, record)
                    except Exception as error:  # noqa: BLE001 -- one bad record, not the rest
                        logger.warning("a span record was skipped: %r", error)
                if (lost := _lost(losses)) != reported:
                    reported = lost
                    answers.write(f"losses {lost}\n".encode())
                    answers.flush()
            elif message[0] == "flush":
                ok = provider.force_flush(_FLUSH_MILLIS)
                reported = _lost(losses)
                line = f"{message[1]} {int(ok)} {time.process_time():.6f} {reported}\n"
                answers.write(line.encode())
                answers.flush()
    finally:
        provider.shutdown()
    return 0


def _lost(losses: SpanLosses) -> str:
    """``{queue_full} {export_failed}``: what the bot's relay reads from answers."""
    counts = losses.counts()
    return f"{counts.get(QUEUE_FULL, 0)} {counts.get(EXPORT_FAILED, 0)}"


if __name__ == "__main__":
    sys.exit(main())
