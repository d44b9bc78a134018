"""In-process OTLP receivers for tests: what an exporter really sent, decoded.

:class:`OtlpHttpReceiver` serves ``POST /v1/traces`` and ``POST /v1/metrics`` on
127.0.0.1 (a free port) from a thread and decodes the bodies with the real
``opentelemetry-proto`` messages; :class:`OtlpGrpcReceiver` does the same over gRPC.
Both collect into an :class:`OtlpStore`, which tests wait on (with a timeout, never a
sleep). Import from here in any test::

    from tests.observability.otlp_receiver import OtlpHttpReceiver
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span

T = TypeVar("T")

__all__ = [
    "OtlpGrpcReceiver",
    "OtlpHttpReceiver",
    "OtlpStore",
    "ReceivedMetric",
    "ReceivedSpan",
    "attributes",
]


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind)


def attributes(pairs: Any) -> dict[str, Any]:
    """OTLP ``KeyValue`` list → plain dict."""
    kv: list[KeyValue] = list(pairs)
    return {pair.key: _value(pair.value) for pair in kv}


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span with its resource attributes and scope name."""

    span: Span
    resource: dict[str, Any]
    scope: str

    @property
    def name(self) -> str:
        return self.span.name

    @property
    def trace_id(self) -> str:
        return self.span.trace_id.hex()

    @property
    def span_id(self) -> str:
        return self.span.span_id.hex()

    @property
    def parent_span_id(self) -> str:
        return self.span.parent_span_id.hex()

    @property
    def attributes(self) -> dict[str, Any]:
        return attributes(self.span.attributes)


@dataclass(frozen=True)
class ReceivedMetric:
    """One exported metric with its resource attributes."""

    metric: Metric
    resource: dict[str, Any]

    @property
    def name(self) -> str:
        return self.metric.name

    def points(self) -> list[tuple[dict[str, Any], float]]:
        """``(attributes, value)`` per data point (sum/gauge value, histogram count)."""
        kind = self.metric.WhichOneof("data")
        if kind == "histogram":
            return [(attributes(p.attributes), p.count) for p in self.metric.histogram.data_points]
        data = getattr(self.metric, kind) if kind else None
        points = [] if data is None else data.data_points
        return [(attributes(p.attributes), p.as_int or p.as_double) for p in points]


@dataclass
class OtlpStore:
    """Everything received, guarded by a condition so tests can wait for arrivals."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    metrics: list[ReceivedMetric] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def add_traces(self, request: trace_service_pb2.ExportTraceServiceRequest, path: str) -> None:
        with self._cond:
            self.paths.append(path)
            for rs in request.resource_spans:
                resource = attributes(rs.resource.attributes)
                for ss in rs.scope_spans:
                    self.spans.extend(ReceivedSpan(s, resource, ss.scope.name) for s in ss.spans)
            self._cond.notify_all()

    def add_metrics(
        self, request: metrics_service_pb2.ExportMetricsServiceRequest, path: str
    ) -> None:
        with self._cond:
            self.paths.append(path)
            for rm in request.resource_metrics:
                resource = attributes(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    self.metrics.extend(ReceivedMetric(m, resource) for m in sm.metrics)
            self._cond.notify_all()

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[ReceivedSpan]:
        """At least ``count`` spans (all received so far); AssertionError on timeout."""
        return self._wait(lambda: len(self.spans) >= count, lambda: list(self.spans), timeout)

    def wait_for_metric(self, name: str, timeout: float = 10.0) -> list[ReceivedMetric]:
        """Every received export of metric ``name`` once there is one."""

        def matching() -> list[ReceivedMetric]:
            return [m for m in self.metrics if m.name == name]

        return self._wait(lambda: bool(matching()), matching, timeout)

    def span_named(self, prefix: str) -> ReceivedSpan:
        """The only received span whose name starts with ``prefix``."""
        with self._cond:
            found = [s for s in self.spans if s.name.startswith(prefix)]
        assert len(found) == 1, f"expected one span {prefix!r}, got {[s.name for s in found]}"
        return found[0]

    def _wait(self, ready: Callable[[], bool], result: Callable[[], T], timeout: float) -> T:
        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                raise AssertionError(
                    f"OTLP receiver timed out; spans={[s.name for s in self.spans]}, "
                    f"metrics={sorted({m.name for m in self.metrics})}"
                )
            return result()


class OtlpHttpReceiver:
    """OTLP/HTTP (protobuf) receiver; ``base_url`` is what ``OTEL_EXPORTER_OTLP_ENDPOINT`` takes."""

    def __init__(self) -> None:
        self.store = OtlpStore()
        store = self.store

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                if self.path == "/v1/traces":
                    traces = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
                    store.add_traces(traces, self.path)
                    reply = trace_service_pb2.ExportTraceServiceResponse()
                elif self.path == "/v1/metrics":
                    metrics = metrics_service_pb2.ExportMetricsServiceRequest.FromString(body)
                    store.add_metrics(metrics, self.path)
                    reply = metrics_service_pb2.ExportMetricsServiceResponse()
                else:
                    self.send_error(404)
                    return
                payload = reply.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @classmethod
    def running(cls) -> Iterator[OtlpHttpReceiver]:
        """Generator for a fixture: a started receiver, closed afterwards."""
        receiver = cls()
        receiver.start()
        try:
            yield receiver
        finally:
            receiver.close()


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, store: OtlpStore) -> None:
        self._store = store

    def Export(self, request: Any, context: Any) -> Any:
        self._store.add_traces(request, "grpc:traces")
        return trace_service_pb2.ExportTraceServiceResponse()


class _MetricsService(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, store: OtlpStore) -> None:
        self._store = store

    def Export(self, request: Any, context: Any) -> Any:
        self._store.add_metrics(request, "grpc:metrics")
        return metrics_service_pb2.ExportMetricsServiceResponse()


class OtlpGrpcReceiver:
    """OTLP/gRPC receiver (insecure) on 127.0.0.1; ``base_url`` is ``http://127.0.0.1:port``."""

    def __init__(self) -> None:
        self.store = OtlpStore()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(
            _TraceService(self.store), self._server
        )
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(
            _MetricsService(self.store), self._server
        )
        self._port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> None:
        self._server.start()

    def close(self) -> None:
        self._server.stop(grace=None).wait(timeout=5)

    @classmethod
    def running(cls) -> Iterator[OtlpGrpcReceiver]:
        """Generator for a fixture: a started receiver, closed afterwards."""
        receiver = cls()
        receiver.start()
        try:
            yield receiver
        finally:
            receiver.close()
