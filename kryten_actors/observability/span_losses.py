"""Counting the sampled spans tracing loses, so health can show them.

The SDK's ``BatchSpanProcessor`` drops a span when its queue is full (the exporter
cannot keep up) and its exporter gives a batch up after its own retries (the collector
is down or refuses it); both only log. :class:`CountingBatchSpanProcessor` is that
processor with both counted in a :class:`SpanLosses`, by reason:

- ``queue_full``: ended while the processor's queue was full (the SDK then drops its
  oldest span, so one span is lost per such end; read as the span ends, so a batch the
  exporter takes at that very instant can make it one too many);
- ``export_failed``: in a batch the exporter did not export.

The queue is the SDK's private ``BatchProcessor`` deque: on an SDK whose processor
does not look like that, queue-full drops are not counted (export failures still are).
The span worker counts its losses the same way and reports them to the bot; the relay
adds its own (see :mod:`~kryten_actors.observability.span_relay`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

__all__ = [
    "EXPORT_FAILED",
    "QUEUE_FULL",
    "CountingBatchSpanProcessor",
    "CountingSpanExporter",
    "SpanLosses",
    "merged",
]

QUEUE_FULL: Final = "queue_full"
EXPORT_FAILED: Final = "export_failed"


class SpanLosses:
    """Sampled spans lost, by reason; safe to count from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, reason: str, count: int = 1) -> None:
        """Count ``count`` spans lost for ``reason``."""
        if count > 0:
            with self._lock:
                self._counts[reason] = self._counts.get(reason, 0) + count

    def counts(self) -> dict[str, int]:
        """A copy of the counts by reason (reasons with none are absent)."""
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        """Every span lost, all reasons."""
        with self._lock:
            return sum(self._counts.values())

    def __repr__(self) -> str:
        return f"SpanLosses({self.counts()})"


class CountingSpanExporter(SpanExporter):
    """``exporter``, counting the spans of every batch it did not export."""

    def __init__(self, exporter: SpanExporter, losses: SpanLosses) -> None:
        self.exporter = exporter
        self._losses = losses

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.exporter.export(spans)
        except Exception:
            self._losses.add(EXPORT_FAILED, len(spans))
            raise
        if result is not SpanExportResult.SUCCESS:
            self._losses.add(EXPORT_FAILED, len(spans))
        return result

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporter.force_flush(timeout_millis)


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """The SDK's ``BatchSpanProcessor`` over ``exporter``, counting what it loses in
    ``losses`` (see the module). Other arguments are the SDK processor's."""

    def __init__(self, exporter: SpanExporter, losses: SpanLosses, **options: Any) -> None:
        super().__init__(CountingSpanExporter(exporter, losses), **options)
        self.losses = losses

    def on_end(self, span: ReadableSpan) -> None:
        queue = _sdk_queue(self)  # looked up each time: the SDK owns it
        if (
            queue is not None
            and len(queue) == queue.maxlen
            and span.context is not None
            and span.context.trace_flags.sampled
        ):
            self.losses.add(QUEUE_FULL)  # the processor drops its oldest span for this one
        super().on_end(span)


def _sdk_queue(processor: BatchSpanProcessor) -> deque[Any] | None:
    """The bounded deque the SDK's batch processor keeps ended spans in, if it has one."""
    inner = getattr(processor, "_batch_processor", None)
    queue = getattr(inner, "_queue", None)
    return queue if isinstance(queue, deque) and queue.maxlen is not None else None


def merged(*parts: Mapping[str, int]) -> dict[str, int]:
    """Counts by reason, summed over ``parts``."""
    total: dict[str, int] = {}
    for part in parts:
        for reason, count in part.items():
            total[reason] = total.get(reason, 0) + count
    return total
