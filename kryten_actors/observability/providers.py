"""Tracer and meter providers with OTLP exporters, built from :class:`TelemetrySettings`.

Each :class:`~kryten_actors.observability.tracing.OtelInstrumentation` holds its own
providers instead of installing them globally (OpenTelemetry's globals can be set
once per process, and a program may run several bots). The exception: when the
application already installed an SDK ``TracerProvider`` (or ``MeterProvider``) as
the global one, that provider is used — its exporters, sampler and resource — and is
flushed but never shut down by kryten-actors. Its ID generator is wrapped in a
:class:`CorrelationIdGenerator` (which defers to the original whenever no correlation
ID is pending) so the correlation → trace ID rule still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from opentelemetry import metrics as metrics_api
from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator

from kryten_actors.observability.correlation import CorrelationIdGenerator
from kryten_actors.observability.sampling import sampler_for
from kryten_actors.observability.settings import TelemetrySettings
from kryten_actors.observability.span_losses import CountingBatchSpanProcessor, SpanLosses

__all__ = [
    "OwnedProvider",
    "build_meter_provider",
    "build_tracer_provider",
    "installed_tracer_provider",
    "resource_for",
    "span_exporter_for",
]

P = TypeVar("P", TracerProvider, MeterProvider)


@dataclass(frozen=True, slots=True)
class OwnedProvider(Generic[P]):
    """A provider, whether kryten-actors created it (and so must shut it down), and, for
    a tracer provider it created, the spans its export lost."""

    provider: P
    owned: bool
    losses: SpanLosses | None = None


class _HashOnceResource(Resource):
    """A ``Resource`` that computes its hash once.

    The OTLP encoder groups every exported span by resource, hashing it per span, and
    ``Resource.__hash__`` serialises all the attributes to JSON each time (~3 µs a span,
    ~8 % of a span's export). A resource is immutable, so the first hash holds.
    """

    _hash: int | None = None

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = super().__hash__()
        return self._hash


def resource_for(settings: TelemetrySettings) -> Resource:
    created = Resource.create({SERVICE_NAME: settings.service_name})
    return _HashOnceResource(created.attributes, created.schema_url)


def span_exporter_for(settings: TelemetrySettings) -> SpanExporter:
    if settings.traces_protocol == "grpc":
        # Imported on demand: grpc is slow to import and most deployments use HTTP.
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter as GrpcSpanExporter,
        )

        return GrpcSpanExporter(endpoint=settings.traces_endpoint)
    return HttpSpanExporter(endpoint=settings.traces_endpoint)


def _metric_exporter(settings: TelemetrySettings) -> MetricExporter:
    if settings.metrics_protocol == "grpc":
        # Imported on demand, as above.
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (  # noqa: PLC0415
            OTLPMetricExporter as GrpcMetricExporter,
        )

        return GrpcMetricExporter(endpoint=settings.metrics_endpoint)
    return HttpMetricExporter(endpoint=settings.metrics_endpoint)


def installed_tracer_provider() -> TracerProvider | None:
    """The SDK tracer provider the application installed globally, if it did."""
    installed = trace_api.get_tracer_provider()
    return installed if isinstance(installed, TracerProvider) else None


def build_tracer_provider(settings: TelemetrySettings) -> OwnedProvider[TracerProvider]:
    """The installed SDK tracer provider, or a new one exporting over OTLP in batches."""
    installed = installed_tracer_provider()
    if installed is not None:
        current: IdGenerator = installed.id_generator
        if not isinstance(current, CorrelationIdGenerator):
            # The SDK annotates the attribute with its default class, not the ABC.
            installed.id_generator = CorrelationIdGenerator(current)  # type: ignore[assignment]
        return OwnedProvider(installed, owned=False)
    provider = TracerProvider(
        sampler=sampler_for(settings.sampler),
        resource=resource_for(settings),
        id_generator=CorrelationIdGenerator(),
        shutdown_on_exit=False,
    )
    losses = SpanLosses()
    provider.add_span_processor(CountingBatchSpanProcessor(span_exporter_for(settings), losses))
    return OwnedProvider(provider, owned=True, losses=losses)


def build_meter_provider(settings: TelemetrySettings) -> OwnedProvider[MeterProvider]:
    """The installed SDK meter provider, or a new one exporting over OTLP periodically."""
    installed = metrics_api.get_meter_provider()
    if isinstance(installed, MeterProvider):
        return OwnedProvider(installed, owned=False)
    reader = PeriodicExportingMetricReader(
        _metric_exporter(settings), export_interval_millis=settings.metric_interval_ms
    )
    provider = MeterProvider(
        metric_readers=[reader], resource=resource_for(settings), shutdown_on_exit=False
    )
    return OwnedProvider(provider, owned=True)
