"""What telemetry to run, resolved from ``KrytenConfig`` and the OTel environment variables.

Precedence, per setting: a value written in the configuration (present in the
model's ``model_fields_set``, even if it equals the default) beats the standard
environment variable, which beats the configuration's default.

- **Tracing** is on when ``tracing.enabled`` is true, or — if ``enabled`` was not
  written — when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set;
  an explicit ``enabled: false`` keeps it off whatever the environment says.
  ``OTEL_SDK_DISABLED=true`` switches tracing *and* metrics off, always.
- **Metrics** are on only when ``metrics.enabled`` is true.
- **service.name**: ``tracing.service_name``, else an explicit ``service_name``, else
  ``OTEL_SERVICE_NAME``, else the default ``service_name`` (``kryten-actors``).
- **Protocol**: ``tracing.protocol``, else ``OTEL_EXPORTER_OTLP_{TRACES,METRICS}_PROTOCOL``,
  else ``OTEL_EXPORTER_OTLP_PROTOCOL``, else ``http/protobuf``.
- **Endpoint**: ``tracing.endpoint`` and ``OTEL_EXPORTER_OTLP_ENDPOINT`` are *base*
  URLs: with http/protobuf the exporter gets ``{base}/v1/traces`` and
  ``{base}/v1/metrics``, with grpc the base itself. The per-signal variables
  (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) are full URLs and used unchanged. Nothing
  set: ``http://localhost:4318/v1/{signal}`` (http) or ``http://localhost:4317`` (grpc).
- **Sampler**: an explicit ``tracing.sample_ratio`` means
  ``parentbased_traceidratio`` with that ratio; else ``OTEL_TRACES_SAMPLER`` and
  ``OTEL_TRACES_SAMPLER_ARG``; else ``parentbased_traceidratio`` with the default ratio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from kryten_actors.config import KrytenConfig
from kryten_actors.errors import KrytenValidationError

__all__ = ["SAMPLER_NAMES", "OtlpProtocol", "SamplerSpec", "TelemetrySettings", "resolve_settings"]

OtlpProtocol = Literal["grpc", "http/protobuf"]
Signal = Literal["traces", "metrics"]

SAMPLER_NAMES: Final = frozenset(
    {
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
    }
)
"""The ``OTEL_TRACES_SAMPLER`` values understood here."""

_DEFAULT_INTERVAL_MS: Final = 60_000
_DEFAULT_HTTP_BASE: Final = "http://localhost:4318"
_DEFAULT_GRPC_BASE: Final = "http://localhost:4317"


@dataclass(frozen=True, slots=True)
class SamplerSpec:
    """A sampler by its ``OTEL_TRACES_SAMPLER`` name and ratio (used by ``*traceidratio``)."""

    name: str = "parentbased_traceidratio"
    ratio: float = 1.0


@dataclass(frozen=True, slots=True)
class TelemetrySettings:
    """Resolved telemetry switches; endpoints are what the exporters' ``endpoint=`` gets."""

    tracing: bool
    metrics: bool
    service_name: str
    traces_protocol: OtlpProtocol
    traces_endpoint: str
    metrics_protocol: OtlpProtocol
    metrics_endpoint: str
    sampler: SamplerSpec
    channel_label: bool
    metric_interval_ms: int
    span_worker: bool = False

    @property
    def any_enabled(self) -> bool:
        """True when tracing or metrics (or both) are on."""
        return self.tracing or self.metrics


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _protocol(config: KrytenConfig, env: Mapping[str, str], signal: Signal) -> OtlpProtocol:
    if "protocol" in config.tracing.model_fields_set:
        return config.tracing.protocol
    for name in (f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        value = _env(env, name)
        if value is None:
            continue
        if value == "grpc":
            return "grpc"
        if value == "http/protobuf":
            return "http/protobuf"
        raise KrytenValidationError(
            f"{name}={value!r} is not supported; set it to 'grpc' or 'http/protobuf'",
            errors=[(name, "must be 'grpc' or 'http/protobuf'")],
        )
    return config.tracing.protocol


def _signal_url(base: str, protocol: OtlpProtocol, signal: Signal) -> str:
    if protocol == "grpc":
        return base
    return f"{base.rstrip('/')}/v1/{signal}"


def _endpoint(
    config: KrytenConfig, env: Mapping[str, str], protocol: OtlpProtocol, signal: Signal
) -> str:
    if config.tracing.endpoint is not None:
        return _signal_url(config.tracing.endpoint, protocol, signal)
    full = _env(env, f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    if full is not None:
        return full
    base = _env(env, "OTEL_EXPORTER_OTLP_ENDPOINT")
    if base is None:
        base = _DEFAULT_GRPC_BASE if protocol == "grpc" else _DEFAULT_HTTP_BASE
    return _signal_url(base, protocol, signal)


def _ratio(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        ratio = float(value)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise KrytenValidationError(
            f"OTEL_TRACES_SAMPLER_ARG={value!r} is not a ratio; set a number from 0 to 1",
            errors=[("OTEL_TRACES_SAMPLER_ARG", "must be a number from 0 to 1")],
        )
    return ratio


def _sampler(config: KrytenConfig, env: Mapping[str, str]) -> SamplerSpec:
    tracing = config.tracing
    if "sample_ratio" in tracing.model_fields_set:
        return SamplerSpec(ratio=tracing.sample_ratio)
    name = _env(env, "OTEL_TRACES_SAMPLER")
    if name is None:
        return SamplerSpec(ratio=tracing.sample_ratio)
    name = name.lower()
    if name not in SAMPLER_NAMES:
        allowed = ", ".join(sorted(SAMPLER_NAMES))
        raise KrytenValidationError(
            f"OTEL_TRACES_SAMPLER={name!r} is not supported; use one of {allowed}",
            errors=[("OTEL_TRACES_SAMPLER", f"must be one of {allowed}")],
        )
    ratio = _ratio(_env(env, "OTEL_TRACES_SAMPLER_ARG")) if name.endswith("ratio") else 1.0
    return SamplerSpec(name=name, ratio=ratio)


def _interval(env: Mapping[str, str]) -> int:
    value = _env(env, "OTEL_METRIC_EXPORT_INTERVAL")
    if value is None:
        return _DEFAULT_INTERVAL_MS
    if not value.isdigit() or int(value) <= 0:
        raise KrytenValidationError(
            f"OTEL_METRIC_EXPORT_INTERVAL={value!r} is not a positive number of milliseconds",
            errors=[("OTEL_METRIC_EXPORT_INTERVAL", "must be a positive integer (ms)")],
        )
    return int(value)


def _service_name(config: KrytenConfig, env: Mapping[str, str]) -> str:
    if config.tracing.service_name is not None:
        return config.tracing.service_name
    if "service_name" in config.model_fields_set:
        return config.service_name
    return _env(env, "OTEL_SERVICE_NAME") or config.service_name


def _tracing_on(config: KrytenConfig, env: Mapping[str, str]) -> bool:
    if "enabled" in config.tracing.model_fields_set:
        return config.tracing.enabled
    return (
        _env(env, "OTEL_EXPORTER_OTLP_ENDPOINT") is not None
        or _env(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") is not None
    )


def resolve_settings(config: KrytenConfig, env: Mapping[str, str]) -> TelemetrySettings:
    """Resolve ``config`` against ``env`` (see the module docstring for the rules).

    Raises ``KrytenValidationError`` naming the variable when an ``OTEL_*`` variable
    that matters has a value this library cannot use.
    """
    disabled = (_env(env, "OTEL_SDK_DISABLED") or "").lower() == "true"
    tracing = not disabled and _tracing_on(config, env)
    metrics = not disabled and config.metrics.enabled
    traces_protocol = _protocol(config, env, "traces")
    metrics_protocol = _protocol(config, env, "metrics")
    return TelemetrySettings(
        tracing=tracing,
        metrics=metrics,
        service_name=_service_name(config, env),
        traces_protocol=traces_protocol,
        traces_endpoint=_endpoint(config, env, traces_protocol, "traces"),
        metrics_protocol=metrics_protocol,
        metrics_endpoint=_endpoint(config, env, metrics_protocol, "metrics"),
        sampler=_sampler(config, env) if tracing else SamplerSpec(),
        channel_label=config.metrics.channel_label,
        metric_interval_ms=_interval(env) if metrics else _DEFAULT_INTERVAL_MS,
        span_worker=config.tracing.span_worker,
    )
