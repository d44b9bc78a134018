"""OpenTelemetry instrumentation of the bot: spans, W3C header propagation, metrics.

:func:`instrumentation_from_config` is the entry point: it resolves the configuration
against the ``OTEL_*`` environment (rules in :mod:`~kryten_actors.observability.settings`)
and returns :class:`NoInstrumentation` when neither tracing nor metrics is on, else an
:class:`OtelInstrumentation`.

Spans (names and keys in :mod:`~kryten_actors.observability.semconv`):

- ``process {subject template}`` (CONSUMER) around the handlers of one event. An
  incoming W3C ``traceparent`` header makes it a child of the remote span, with a
  link to it as well. Without one it is a root span whose trace ID is the event's
  correlation UUID (see :mod:`~kryten_actors.observability.correlation`); a missing or
  invalid correlation ID gives a random trace ID, never an error. An exception leaving
  the handlers sets status ERROR, records an ``exception`` event and is re-raised.
- ``send {subject template}`` (PRODUCER) around each command published: a child of
  the current span (the process span inside a handler), else a root span whose trace
  ID is the command's correlation UUID. ``traceparent``/``tracestate`` naming the
  send span are written into the outgoing headers.

Cost: an event whose root span the ratio sampler would drop gets no scope at all
(:meth:`OtelInstrumentation.observes`, decided from the correlation ID before any SDK
object exists); a sampled one gets one :class:`~kryten_actors.observability.scopes.SpanScope`.
Measured in ``bench/tracing_overhead.py``; see docs/tracing.md, "What tracing costs".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, MutableMapping

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from kryten_actors.observability import semconv
from kryten_actors.observability.correlation import (
    CorrelationIdGenerator,
    root_trace_id,
    trace_id_from_correlation,
)
from kryten_actors.observability.instrumentation import (
    TracingStatus,
    instrumentation_from_config,
)
from kryten_actors.observability.metrics import BotMetrics, MailboxDepths
from kryten_actors.observability.providers import (
    OwnedProvider,
    build_meter_provider,
    build_tracer_provider,
    installed_tracer_provider,
)
from kryten_actors.observability.relay_spans import RelayTracer
from kryten_actors.observability.sampling import RandomBitsRatioSampler, sampler_for
from kryten_actors.observability.scopes import NO_SCOPE, Report, SpanScope
from kryten_actors.observability.settings import TelemetrySettings
from kryten_actors.observability.span_relay import SpanRelay

__all__ = ["OtelInstrumentation", "instrumentation_from_config"]

_PROPAGATOR = TraceContextTextMapPropagator()
_NIL_UUID = "00000000-0000-0000-0000-000000000000"
# The parent context of every root process span: empty, and never mutated (a Context
# is immutable), so one instance serves them all.
_ROOT = context_api.Context()
AttributeValue = str | int | float | bool
Observes = Callable[[str, Mapping[str, str] | None], bool]


class OtelInstrumentation:
    """:class:`Instrumentation` over the OpenTelemetry SDK, exporting over OTLP.

    Holds its own tracer and meter providers (or uses the SDK providers the
    application installed globally; see :mod:`~kryten_actors.observability.providers`).
    With ``span_worker`` (and no SDK provider installed) its tracer is a
    :class:`~kryten_actors.observability.relay_spans.RelayTracer`: sampled spans are
    built and exported by a worker process (:mod:`~kryten_actors.observability.span_relay`).
    ``flush()`` exports everything buffered, whatever the batch delay; ``shutdown()``
    flushes and then shuts down the providers it created. Both block a worker thread,
    not the event loop, for at most ``flush_timeout`` seconds per provider.
    """

    def __init__(self, settings: TelemetrySettings, *, flush_timeout: float = 10.0) -> None:
        self.enabled = settings.any_enabled
        self.settings = settings
        self._flush_ms = int(flush_timeout * 1000)
        self._tracing: OwnedProvider[TracerProvider] | None = None
        self._tracer: trace_api.Tracer | None = None
        self._metering: OwnedProvider[MeterProvider] | None = None
        self._metrics: BotMetrics | None = None
        self._root_bound: int | None = None
        self._relay: SpanRelay | None = None
        # what tracing_status() answers with (kept after shutdown): where spans are
        # exported, and the lost-span counts, by reason, when this instance keeps them
        self._span_mode: str | None = None
        self._span_losses: Callable[[], Mapping[str, int]] | None = None
        if settings.tracing:
            sampler: Sampler
            if settings.span_worker and installed_tracer_provider() is None:
                sampler = sampler_for(settings.sampler)
                self._relay = SpanRelay(settings)
                self._tracer = RelayTracer(self._relay.submit, sampler, CorrelationIdGenerator())
                self._span_mode, self._span_losses = "span_worker", self._relay.losses
            else:
                self._tracing = build_tracer_provider(settings)
                self._tracer = self._tracing.provider.get_tracer(semconv.INSTRUMENTATION_NAME)
                sampler = self._tracing.provider.sampler
                losses = self._tracing.losses
                if losses is None:  # the application's provider: its losses are its own
                    self._span_mode = "application"
                else:
                    self._span_mode, self._span_losses = "in_process", losses.counts
            self._root_bound = _ratio_bound(sampler)
        if settings.metrics:
            self._metering = build_meter_provider(settings)
            meter = self._metering.provider.get_meter(semconv.INSTRUMENTATION_NAME)
            self._metrics = BotMetrics(meter, channel_label=settings.channel_label)
            if self._span_losses is not None:
                self._metrics.bind_span_losses(self._span_losses)
        self.counts_events = self._metrics is not None
        #: True when processing this event needs :meth:`process` (a span that will be
        #: sampled, or metrics); False lets the bot skip the scope. The Instrumentation
        #: protocol's method, as an instance attribute: a closure, no bound method per call.
        self.observes: Observes = self._fast_observes()

    def _observes_any(self, correlation_id: str, headers: Mapping[str, str] | None) -> bool:
        """:meth:`observes` in general (the fast closures below give the same answers)."""
        if self._metrics is not None:
            return True
        if self._tracer is None:
            return False
        return bool(headers) or not self._unsampled_root(correlation_id)

    def _fast_observes(self) -> Observes:
        """The ``observes`` this instance answers with: a closure over what it needs.

        With metrics off and our ratio sampler, the common case at a low ratio is settled
        by the first hex digit of the sampled 56 bits (UUID character 21, a cached
        one-character string: no slice is allocated), else by the first two; only an ID
        near the bound, or not in the dashed form, reads all 56 bits.
        """
        if self._metrics is not None or self._tracer is None or self._root_bound is None:
            return self._observes_any
        digits, pairs = _unsampled_digits(self._root_bound)
        unsampled_root = self._unsampled_root

        def observes(correlation_id: str, headers: Mapping[str, str] | None) -> bool:
            if headers:
                return True
            if (
                len(correlation_id) == 36
                and correlation_id[23] == "-"
                and (correlation_id[21] in digits or correlation_id[21:23] in pairs)
            ):
                return False
            return not unsampled_root(correlation_id)

        return observes

    def _unsampled_root(self, correlation_id: str) -> bool:
        """True when our own ratio sampler would drop the root span of this correlation.

        Decided before any attribute is built, so an unsampled event costs next to
        nothing. Commands sent from its handlers then start root spans with the same
        trace ID, which the same sampler drops too, so the trace stays whole or absent.
        """
        bound = self._root_bound
        if bound is None:
            return False
        if len(correlation_id) == 36 and correlation_id[23] == "-":
            # The sampler reads the low 56 bits: the last 14 hex digits, read without a UUID
            # object. (A malformed ID of this shape is sampled on its digits rather than on
            # a random trace ID: the same 1-in-N odds.)
            try:
                low = int(correlation_id[21:23] + correlation_id[24:], 16)
            except ValueError:
                return False
            return low >= bound and correlation_id != _NIL_UUID
        trace_id = trace_id_from_correlation(correlation_id)
        return trace_id is not None and trace_id & RandomBitsRatioSampler.TRACE_ID_LIMIT >= bound

    # --- the scopes the bot opens --------------------------------------------------------
    def process(
        self,
        *,
        subject: str,
        event_name: str,
        channel: str,
        domain: str,
        correlation_id: str,
        actor: str,
        headers: Mapping[str, str] | None,
        wait_seconds: float,
    ) -> contextlib.AbstractContextManager[None]:
        """Scope of one event processed by a channel actor (a CONSUMER span).

        ``actor`` is not an attribute: a channel actor's path is
        ``/root/{cytube.domain}:{cytube.channel}``, and every attribute costs the
        sampled span ~3 µs (SDK validation plus OTLP encoding).
        """
        del actor
        metrics = self._metrics
        report: Report | None = None
        if metrics is not None:

            def report(seconds: float, ok: bool) -> None:
                metrics.processed(event_name, channel, seconds, ok=ok)

        tracer = self._tracer
        if tracer is None or (not headers and self._unsampled_root(correlation_id)):
            return NO_SCOPE if report is None else SpanScope(None, report)
        attributes: dict[str, AttributeValue] = {
            semconv.MESSAGING_SYSTEM: semconv.NATS,
            semconv.MESSAGING_DESTINATION: subject,
            semconv.MESSAGING_OPERATION_TYPE: semconv.OPERATION_PROCESS,
            semconv.CYTUBE_CHANNEL: channel,
            semconv.CYTUBE_DOMAIN: domain,
            semconv.CYTUBE_EVENT: event_name,
            semconv.KRYTEN_MAILBOX_WAIT_MS: wait_seconds * 1000.0,
        }
        if correlation_id:
            attributes[semconv.MESSAGING_MESSAGE_ID] = correlation_id
        name = semconv.process_span_name(subject)
        remote = _remote_parent(headers) if headers else None
        if remote is not None:
            span = tracer.start_span(
                name,
                context=remote[0],
                kind=SpanKind.CONSUMER,
                attributes=attributes,
                links=[Link(remote[1])],
            )
        else:
            # An empty context: the event starts a trace even if the actor's task happens
            # to run inside some other span.
            with root_trace_id(trace_id_from_correlation(correlation_id)):
                span = tracer.start_span(
                    name, context=_ROOT, kind=SpanKind.CONSUMER, attributes=attributes
                )
        return SpanScope(span, report)

    def send(
        self,
        *,
        subject: str,
        action: str,
        channel: str,
        domain: str,
        correlation_id: str,
        headers: MutableMapping[str, str],
    ) -> contextlib.AbstractContextManager[None]:
        """Scope of one command published (a PRODUCER span); injects trace headers."""
        metrics = self._metrics
        report: Report | None = None
        if metrics is not None:

            def report(seconds: float, ok: bool) -> None:
                del seconds
                metrics.command(action, ok=ok)

        tracer = self._tracer
        if tracer is None:
            return NO_SCOPE if report is None else SpanScope(None, report)
        attributes: dict[str, AttributeValue] = {
            semconv.MESSAGING_SYSTEM: semconv.NATS,
            semconv.MESSAGING_DESTINATION: subject,
            semconv.MESSAGING_OPERATION_TYPE: semconv.OPERATION_SEND,
            semconv.CYTUBE_CHANNEL: channel,
            semconv.CYTUBE_DOMAIN: domain,
            semconv.CYTUBE_COMMAND: action,
        }
        if correlation_id:
            attributes[semconv.MESSAGING_CONVERSATION_ID] = correlation_id
        # Only a root send span (no current span) takes the correlation trace ID.
        with root_trace_id(trace_id_from_correlation(correlation_id)):
            span = tracer.start_span(
                semconv.send_span_name(subject), kind=SpanKind.PRODUCER, attributes=attributes
            )
        _PROPAGATOR.inject(headers, context=trace_api.set_span_in_context(span))
        return SpanScope(span, report)

    def notable(self, name: str, attributes: Mapping[str, AttributeValue]) -> None:
        """Add a span event ``name`` to the current span, if one is recording."""
        span = trace_api.get_current_span()
        if span.is_recording():
            span.add_event(name, dict(attributes))

    # --- metrics-only reports ----------------------------------------------------------
    def record_received(self, *, event_name: str, channel: str) -> None:
        """An event was routed to ``channel``'s actor (before its mailbox)."""
        if self._metrics is not None:
            self._metrics.received(event_name, channel)

    def record_drop(self, *, event_name: str, reason: str, channel: str | None = None) -> None:
        """An event was dropped before handling (``reason``: mailbox_full, decode_failed, ...)."""
        if self._metrics is not None:
            self._metrics.dropped(event_name, reason, channel)

    def record_restart(self, *, actor: str, error_type: str) -> None:
        """A supervisor restarted ``actor`` after a failure of type ``error_type``."""
        if self._metrics is not None:
            self._metrics.restarted(actor, error_type)

    def record_publish_retry(self) -> None:
        """A publish is being attempted again after a failure."""
        if self._metrics is not None:
            self._metrics.publish_retry()

    def bind_mailbox_depth(self, depths: MailboxDepths) -> None:
        """Report ``depths()`` (queued messages per actor path) as the mailbox gauge.

        ``depths`` is called on the metric exporter's thread: it must only read.
        """
        if self._metrics is not None:
            self._metrics.bind_mailbox_depths(depths)

    def tracing_status(self) -> TracingStatus | None:
        """How spans are exported and what was lost (None with tracing off)."""
        if self._span_mode is None:
            return None
        losses = self._span_losses
        return TracingStatus(self._span_mode, {} if losses is None else losses())

    # --- lifecycle ---------------------------------------------------------------------
    async def flush(self) -> None:
        """Export every buffered span and metric now."""
        for flush in self._flushers():
            await asyncio.to_thread(flush, self._flush_ms)

    async def shutdown(self) -> None:
        """Flush, then shut down the providers this instrumentation created (idempotent)."""
        await self.flush()
        if self._relay is not None:
            await asyncio.to_thread(self._relay.shutdown, self._flush_ms / 1000)
            self._relay = None
        if self._tracing is not None and self._tracing.owned:
            await asyncio.to_thread(self._tracing.provider.shutdown)
        if self._metering is not None and self._metering.owned:
            await asyncio.to_thread(self._metering.provider.shutdown, self._flush_ms)
        # Idempotent, and scopes opened afterwards record nothing.
        self._tracing = self._metering = None
        self._tracer = None
        self._metrics = None
        self.observes = self._observes_any

    def _flushers(self) -> list[Callable[[int], bool]]:
        flushers: list[Callable[[int], bool]] = []
        if self._relay is not None:
            flushers.append(self._relay.flush)
        if self._tracing is not None:
            flushers.append(self._tracing.provider.force_flush)
        if self._metering is not None:
            flushers.append(self._metering.provider.force_flush)
        return flushers


def _remote_parent(
    headers: Mapping[str, str],
) -> tuple[context_api.Context, trace_api.SpanContext] | None:
    """The context and span context a valid W3C ``traceparent`` in ``headers`` names."""
    carrier = {key.lower(): value for key, value in headers.items()}
    remote_context = _PROPAGATOR.extract(carrier)
    remote = trace_api.get_current_span(remote_context).get_span_context()
    return (remote_context, remote) if remote.is_valid else None


def _ratio_bound(sampler: Sampler) -> int | None:
    """The bound of our ratio sampler for root spans, if that is what ``sampler`` is."""
    root = (
        sampler._root if isinstance(sampler, ParentBased) else sampler
    )  # ParentBased keeps its root sampler private
    return root.bound if type(root) is RandomBitsRatioSampler else None


def _unsampled_digits(bound: int) -> tuple[frozenset[str], frozenset[str]]:
    """Hex digits and two-digit prefixes of the sampled 56 bits (UUID characters 21 and
    21-22) that put every ID starting with them at or above ``bound``: unsampled
    whatever follows. Both cases of hex digits."""
    digits = [f"{top:x}" for top in range(16) if top << 52 >= bound]
    pairs = [f"{top:02x}" for top in range(256) if top << 48 >= bound]
    return (
        frozenset(digits + [d.upper() for d in digits]),
        frozenset(pairs + [p.upper() for p in pairs]),
    )
