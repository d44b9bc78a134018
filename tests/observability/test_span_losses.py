"""Counting what the SDK's batch span processor loses: a full queue, a failing exporter."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from kryten_actors.observability.span_losses import (
    EXPORT_FAILED,
    QUEUE_FULL,
    CountingBatchSpanProcessor,
    SpanLosses,
    merged,
)


class _Held(InMemorySpanExporter):
    """Exports nothing until released (the collector is slow): spans pile up."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.holding = threading.Event()  # set once a batch is held

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.holding.set()
        assert self.release.wait(30)
        return super().export(spans)


class _Refusing(SpanExporter):
    def __init__(self, *, raises: bool) -> None:
        self.raises = raises

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.raises:
            raise ConnectionError("collector unreachable")
        return SpanExportResult.FAILURE


def _provider(processor: CountingBatchSpanProcessor) -> TracerProvider:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(processor)
    return provider


def test_spans_a_full_queue_drops_are_counted_and_the_rest_exported() -> None:
    exporter = _Held()
    losses = SpanLosses()
    processor = CountingBatchSpanProcessor(
        exporter, losses, max_queue_size=4, max_export_batch_size=4, schedule_delay_millis=60_000
    )
    provider = _provider(processor)
    tracer = provider.get_tracer("test")
    for number in range(4):  # a full batch: the processor's thread takes it to the exporter
        tracer.start_span(f"held {number}").end()
    assert exporter.holding.wait(30)
    # The exporter holds that batch, so nothing leaves the queue while these end (a
    # batch taken in the very instant a span ends could make the count one too many):
    # 4 wait in the queue and the other 12 are dropped, each counted.
    for number in range(16):
        tracer.start_span(f"later {number}").end()
    assert losses.counts() == {QUEUE_FULL: 12}
    exporter.release.set()
    assert provider.force_flush(30_000)
    assert len(exporter.get_finished_spans()) == 8
    assert losses.total == 12
    provider.shutdown()


@pytest.mark.parametrize("raises", [False, True], ids=["failure", "exception"])
def test_batches_the_exporter_gives_up_are_counted(raises: bool) -> None:
    losses = SpanLosses()
    processor = CountingBatchSpanProcessor(_Refusing(raises=raises), losses)
    provider = _provider(processor)
    tracer = provider.get_tracer("test")
    for _ in range(3):
        tracer.start_span("refused").end()
    provider.force_flush(30_000)
    assert losses.counts() == {EXPORT_FAILED: 3}
    provider.shutdown()


def test_unsampled_spans_are_neither_queued_nor_counted() -> None:
    exporter = _Held()
    exporter.release.set()
    losses = SpanLosses()
    processor = CountingBatchSpanProcessor(
        exporter, losses, max_queue_size=1, max_export_batch_size=1
    )
    provider = TracerProvider(sampler=ALWAYS_OFF, shutdown_on_exit=False)
    provider.add_span_processor(processor)
    for _ in range(5):
        provider.get_tracer("test").start_span("not sampled").end()
    assert provider.force_flush(30_000)
    assert losses.counts() == {}
    assert not exporter.get_finished_spans()
    provider.shutdown()


def test_losses_add_up_by_reason() -> None:
    losses = SpanLosses()
    losses.add(QUEUE_FULL)
    losses.add(QUEUE_FULL, 2)
    losses.add(EXPORT_FAILED, 0)  # nothing lost: no entry
    assert losses.counts() == {QUEUE_FULL: 3}
    losses.add(EXPORT_FAILED, 7)
    assert losses.counts() == {QUEUE_FULL: 3, EXPORT_FAILED: 7}
    assert losses.total == 10
    assert "queue_full" in repr(losses)
    assert merged({QUEUE_FULL: 1}, {QUEUE_FULL: 2, EXPORT_FAILED: 3}) == {
        QUEUE_FULL: 3,
        EXPORT_FAILED: 3,
    }
