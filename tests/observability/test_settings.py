"""Telemetry settings: configuration against the OTEL_* environment."""

from __future__ import annotations

from typing import Any

import pytest

from kryten_actors.config import KrytenConfig
from kryten_actors.errors import KrytenValidationError
from kryten_actors.observability.instrumentation import NoInstrumentation
from kryten_actors.observability.settings import SamplerSpec, resolve_settings
from kryten_actors.observability.tracing import OtelInstrumentation, instrumentation_from_config


def _config(**tracing: Any) -> KrytenConfig:
    return KrytenConfig(tracing=tracing)


def test_nothing_configured_means_no_telemetry() -> None:
    settings = resolve_settings(KrytenConfig(), env={})
    assert not settings.tracing
    assert not settings.metrics
    assert isinstance(instrumentation_from_config(KrytenConfig(), env={}), NoInstrumentation)


def test_config_endpoint_is_a_base_url_for_http() -> None:
    settings = resolve_settings(_config(enabled=True, endpoint="http://jaeger:4318/"), env={})
    assert settings.tracing
    assert settings.traces_protocol == "http/protobuf"
    assert settings.traces_endpoint == "http://jaeger:4318/v1/traces"
    assert settings.metrics_endpoint == "http://jaeger:4318/v1/metrics"


def test_grpc_takes_the_base_url_unchanged() -> None:
    settings = resolve_settings(
        _config(enabled=True, endpoint="http://jaeger:4317", protocol="grpc"), env={}
    )
    assert settings.traces_endpoint == "http://jaeger:4317"
    assert settings.metrics_endpoint == "http://jaeger:4317"


def test_env_endpoint_switches_tracing_on_and_is_a_base_url() -> None:
    settings = resolve_settings(
        KrytenConfig(), env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    )
    assert settings.tracing
    assert settings.traces_endpoint == "http://collector:4318/v1/traces"


def test_per_signal_env_endpoint_is_a_full_url() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:9999/custom",
    }
    settings = resolve_settings(KrytenConfig(), env=env)
    assert settings.traces_endpoint == "http://traces:9999/custom"
    assert settings.metrics_endpoint == "http://collector:4318/v1/metrics"


def test_env_protocol_grpc_uses_the_env_base() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    }
    settings = resolve_settings(KrytenConfig(), env=env)
    assert settings.traces_protocol == "grpc"
    assert settings.traces_endpoint == "http://collector:4317"


def test_defaults_when_enabled_without_any_endpoint() -> None:
    assert (
        resolve_settings(_config(enabled=True), env={}).traces_endpoint
        == "http://localhost:4318/v1/traces"
    )
    grpc = resolve_settings(_config(enabled=True, protocol="grpc"), env={})
    assert grpc.traces_endpoint == "http://localhost:4317"


@pytest.mark.parametrize("value", ["true", "TRUE", " true "])
def test_sdk_disabled_beats_everything(value: str) -> None:
    cfg = KrytenConfig(tracing={"enabled": True}, metrics={"enabled": True})
    env = {"OTEL_SDK_DISABLED": value, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}
    settings = resolve_settings(cfg, env=env)
    assert not settings.tracing
    assert not settings.metrics
    assert isinstance(instrumentation_from_config(cfg, env=env), NoInstrumentation)


def test_sdk_disabled_false_changes_nothing() -> None:
    settings = resolve_settings(_config(enabled=True), env={"OTEL_SDK_DISABLED": "false"})
    assert settings.tracing


def test_explicit_config_beats_env() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4317",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_SERVICE_NAME": "from-env",
        "OTEL_TRACES_SAMPLER": "always_off",
    }
    cfg = KrytenConfig(
        service_name="from-config",
        tracing={
            "enabled": True,
            "endpoint": "http://config:4318",
            "protocol": "http/protobuf",
            "sample_ratio": 0.25,
        },
    )
    settings = resolve_settings(cfg, env=env)
    assert settings.traces_endpoint == "http://config:4318/v1/traces"
    assert settings.traces_protocol == "http/protobuf"
    assert settings.service_name == "from-config"
    assert settings.sampler == SamplerSpec("parentbased_traceidratio", 0.25)


def test_explicit_enabled_false_beats_env_endpoint() -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://env:4318"}
    assert not resolve_settings(_config(enabled=False), env=env).tracing


def test_env_fills_in_what_config_leaves_unset() -> None:
    env = {
        "OTEL_SERVICE_NAME": "from-env",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_TRACES_SAMPLER": "traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    }
    settings = resolve_settings(_config(enabled=True), env=env)
    assert settings.service_name == "from-env"
    assert settings.traces_protocol == "grpc"
    assert settings.sampler == SamplerSpec("traceidratio", 0.1)


def test_service_name_precedence() -> None:
    env = {"OTEL_SERVICE_NAME": "from-env"}
    tracing_name = KrytenConfig(service_name="top", tracing={"service_name": "tracing-name"})
    assert resolve_settings(tracing_name, env=env).service_name == "tracing-name"
    assert resolve_settings(KrytenConfig(), env={}).service_name == "kryten-actors"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ({"OTEL_TRACES_SAMPLER": "jaeger_remote"}, "OTEL_TRACES_SAMPLER"),
        (
            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
            "OTEL_TRACES_SAMPLER_ARG",
        ),
        (
            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"},
            "OTEL_TRACES_SAMPLER_ARG",
        ),
    ],
)
def test_unusable_env_values_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(KrytenValidationError, match=variable) as info:
        resolve_settings(_config(enabled=True), env=env)
    assert info.value.errors[0][0] == variable


def test_bad_metric_interval_names_the_variable() -> None:
    cfg = KrytenConfig(metrics={"enabled": True})
    with pytest.raises(KrytenValidationError, match="OTEL_METRIC_EXPORT_INTERVAL"):
        resolve_settings(cfg, env={"OTEL_METRIC_EXPORT_INTERVAL": "soon"})


async def test_metrics_alone_give_an_enabled_instrumentation() -> None:
    cfg = KrytenConfig(metrics={"enabled": True})
    instr = instrumentation_from_config(cfg, env={})
    try:
        assert isinstance(instr, OtelInstrumentation)
        assert instr.enabled
        assert not instr.settings.tracing
    finally:
        await instr.shutdown()
