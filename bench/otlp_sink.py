"""A local OTLP/HTTP receiver that accepts span exports and throws them away.

``python -m bench.otlp_sink PORT`` answers every ``POST /v1/traces`` with an empty
``ExportTraceServiceResponse`` after counting the spans in the request. It runs in
its own process so that decoding exports does not cost the bot under test. On a
``stop`` line it prints ``{"requests": n, "spans": m}`` and exits.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

_RESPONSE = ExportTraceServiceResponse().SerializeToString()


class _Counts:
    requests = 0
    spans = 0
    lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        request = ExportTraceServiceRequest.FromString(body)
        spans = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
        with _Counts.lock:
            _Counts.requests += 1
            _Counts.spans += spans
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(_RESPONSE)))
        self.end_headers()
        self.wfile.write(_RESPONSE)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print("ready", flush=True)
    sys.stdin.readline()
    server.shutdown()
    print(json.dumps({"requests": _Counts.requests, "spans": _Counts.spans}), flush=True)


if __name__ == "__main__":
    main()
