"""Fixtures for telemetry tests: real OTLP receivers and instrumentations aimed at them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from kryten_actors.config import KrytenConfig
from kryten_actors.observability.settings import resolve_settings
from kryten_actors.observability.tracing import OtelInstrumentation
from tests.observability.otlp_receiver import OtlpGrpcReceiver, OtlpHttpReceiver

MakeInstrumentation = Callable[..., OtelInstrumentation]


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpHttpReceiver]:
    """A running OTLP/HTTP receiver on 127.0.0.1."""
    yield from OtlpHttpReceiver.running()


@pytest.fixture
def otlp_grpc_receiver() -> Iterator[OtlpGrpcReceiver]:
    """A running OTLP/gRPC receiver on 127.0.0.1."""
    yield from OtlpGrpcReceiver.running()


@pytest.fixture
async def make_instrumentation(
    otlp_receiver: OtlpHttpReceiver,
) -> AsyncIterator[MakeInstrumentation]:
    """Factory: an ``OtelInstrumentation`` exporting to ``otlp_receiver`` (or to the
    ``endpoint`` given), from config keyword overrides; all are shut down afterwards.

    The environment is empty so the developer's own ``OTEL_*`` variables cannot leak in.
    """
    made: list[OtelInstrumentation] = []

    def make(
        *,
        endpoint: str | None = None,
        protocol: str = "http/protobuf",
        metrics: dict[str, Any] | None = None,
        tracing: bool = True,
        span_worker: bool = False,
        **config: Any,
    ) -> OtelInstrumentation:
        cfg = KrytenConfig(
            tracing={
                "enabled": tracing,
                "endpoint": endpoint or otlp_receiver.base_url,
                "protocol": protocol,
                "span_worker": span_worker,
            },
            metrics=metrics or {},
            **config,
        )
        instrumentation = OtelInstrumentation(resolve_settings(cfg, env={}))
        made.append(instrumentation)
        return instrumentation

    yield make
    for instrumentation in made:
        await instrumentation.shutdown()
