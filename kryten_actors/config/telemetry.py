"""OpenTelemetry tracing and metrics switches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import field_serializer, field_validator

from kryten_actors.config.base import ConfigModel, Fraction, NonEmptyStr
from kryten_actors.config.connection import mask_url_credentials

__all__ = ["MetricsConfig", "TracingConfig", "TracingProtocol"]

TracingProtocol = Literal["grpc", "http/protobuf"]


class TracingConfig(ConfigModel):
    """Span export over OTLP.

    ``endpoint`` is a base URL with exactly the meaning of ``OTEL_EXPORTER_OTLP_ENDPOINT``:
    with ``http/protobuf`` (the default) traces go to ``{endpoint}/v1/traces`` (see
    :attr:`traces_endpoint`); with ``grpc`` the endpoint is used as it is. Left unset,
    the exporter follows the standard ``OTEL_EXPORTER_OTLP_*`` environment variables.
    ``service_name`` overrides the top-level ``service_name`` as ``service.name``;
    ``sample_ratio`` is the fraction of new traces sampled. ``ui_url`` is the base URL of a
    trace viewer (Jaeger's UI, e.g. ``http://localhost:16686``): the health summary carries
    it, and the dashboard links each channel to its traces there.

    ``span_worker`` moves the building and export of sampled spans out of the bot's
    process: the bot records each sampled span as plain data and a worker process it
    starts (and stops) builds it with the OpenTelemetry SDK and exports it over OTLP.
    Off by default; worth it for busy bots (see docs/tracing.md, "What tracing costs").
    It applies when kryten-actors makes its own tracer provider, not to an SDK provider
    the application installed globally (its processors run where it put them).
    """

    enabled: bool = False
    service_name: NonEmptyStr | None = None
    endpoint: NonEmptyStr | None = None
    protocol: TracingProtocol = "http/protobuf"
    sample_ratio: Fraction = 1.0
    ui_url: NonEmptyStr | None = None
    span_worker: bool = False

    @field_validator("endpoint", "ui_url")
    @classmethod
    def _endpoint_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            _ = parts.port
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(
                "must be an http:// or https:// base URL such as http://localhost:4318"
            )
        return value

    @field_validator("ui_url")
    @classmethod
    def _ui_url_has_no_credentials(cls, value: str | None) -> str | None:
        if value is not None and "@" in urlsplit(value).netloc:
            raise ValueError("must not carry credentials: health reports show it to everyone")
        return value

    @field_serializer("endpoint")
    def _endpoint_masked(self, endpoint: str | None) -> str | None:
        # a collector URL may carry credentials: dumps and displays mask them
        return None if endpoint is None else mask_url_credentials(endpoint)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name == "endpoint" and isinstance(value, str):
                yield name, mask_url_credentials(value)
            else:
                yield name, value

    @property
    def traces_endpoint(self) -> str | None:
        """Where the exporter sends spans, derived from :attr:`endpoint` and the protocol."""
        if self.endpoint is None:
            return None
        if self.protocol == "grpc":
            return self.endpoint
        return self.endpoint.rstrip("/") + "/v1/traces"


class MetricsConfig(ConfigModel):
    """Metrics instruments; ``channel_label`` adds the channel as an attribute
    (off by default: one time series per channel can be a lot of series)."""

    enabled: bool = False
    channel_label: bool = False
