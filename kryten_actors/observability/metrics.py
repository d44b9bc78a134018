"""The bot's metric instruments (OpenTelemetry metrics API), one method per happening.

Attributes are kept low-cardinality: the event name, the command action, a reason or
an outcome. The channel (``cytube.channel``) and the actor path (``kryten.actor``)
are added only when ``metrics.channel_label`` is on, because one time series per
channel is unbounded in a bot that spawns channels on demand.

Instruments (names in :mod:`~kryten_actors.observability.semconv`):

- ``kryten.events.received`` / ``.processed`` / ``.dropped`` — counters of events
  routed to a channel, handled by it (``kryten.outcome`` ok | error), and dropped
  before handling (``kryten.drop.reason``);
- ``kryten.handler.duration`` — histogram (seconds) of the handlers of one event;
- ``kryten.mailbox.depth`` — gauge of queued messages (total, or per actor with the
  channel label);
- ``kryten.actor.restarts`` — counter (``error.type``);
- ``kryten.commands.sent`` / ``.failed`` — counters by ``cytube.command``;
- ``kryten.publish.retries`` — counter of publish attempts after the first;
- ``kryten.spans.lost`` — counter of sampled spans never exported (``kryten.drop.reason``:
  ``queue_full``, ``export_failed``, …), with tracing on; see
  :mod:`~kryten_actors.observability.span_losses`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from kryten_actors.observability import semconv
from kryten_actors.observability.span_losses import EXPORT_FAILED, QUEUE_FULL

__all__ = ["BotMetrics", "MailboxDepths", "SpanLossCounts"]

MailboxDepths = Callable[[], Mapping[str, int]]
"""Returns the number of queued messages per actor path."""

SpanLossCounts = Callable[[], Mapping[str, int]]
"""Returns the sampled spans lost so far, by reason."""

# reported even at zero, so the series exist before the first loss (alerts can use them)
_ALWAYS_REPORTED = (QUEUE_FULL, EXPORT_FAILED)

_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class BotMetrics:
    """Records the bot's metrics on ``meter``. Every method is cheap and never raises."""

    def __init__(self, meter: Meter, *, channel_label: bool) -> None:
        self._channel_label = channel_label
        self._depths: MailboxDepths | None = None
        self._span_losses: SpanLossCounts | None = None
        self._received = meter.create_counter(
            semconv.METRIC_EVENTS_RECEIVED, "{event}", "Events routed to a channel actor"
        )
        self._processed = meter.create_counter(
            semconv.METRIC_EVENTS_PROCESSED, "{event}", "Events handled by a channel actor"
        )
        self._dropped = meter.create_counter(
            semconv.METRIC_EVENTS_DROPPED, "{event}", "Events dropped before handling"
        )
        self._duration = meter.create_histogram(
            semconv.METRIC_HANDLER_DURATION,
            "s",
            "Time the handlers of one event took",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        self._restarts = meter.create_counter(
            semconv.METRIC_RESTARTS, "{restart}", "Actor restarts by a supervisor"
        )
        self._sent = meter.create_counter(
            semconv.METRIC_COMMANDS_SENT, "{command}", "Commands published successfully"
        )
        self._failed = meter.create_counter(
            semconv.METRIC_COMMANDS_FAILED, "{command}", "Commands that failed or were refused"
        )
        self._retries = meter.create_counter(
            semconv.METRIC_PUBLISH_RETRIES, "{attempt}", "Publish attempts after the first"
        )
        meter.create_observable_gauge(
            semconv.METRIC_MAILBOX_DEPTH,
            [self._observe_depths],
            "{message}",
            "Messages waiting in actor mailboxes",
        )
        meter.create_observable_counter(
            semconv.METRIC_SPANS_LOST,
            [self._observe_span_losses],
            "{span}",
            "Sampled spans never exported",
        )

    def _attrs(self, key: str, value: str, channel: str | None) -> dict[str, str]:
        attrs = {key: value}
        if self._channel_label and channel is not None:
            attrs[semconv.CYTUBE_CHANNEL] = channel
        return attrs

    def received(self, event_name: str, channel: str | None) -> None:
        """An event was routed to ``channel``'s actor."""
        self._received.add(1, self._attrs(semconv.CYTUBE_EVENT, event_name, channel))

    def processed(self, event_name: str, channel: str | None, seconds: float, *, ok: bool) -> None:
        """The handlers of one event finished (``ok``: without an exception)."""
        attrs = self._attrs(semconv.CYTUBE_EVENT, event_name, channel)
        self._duration.record(seconds, attrs)
        attrs[semconv.KRYTEN_OUTCOME] = semconv.OUTCOME_OK if ok else semconv.OUTCOME_ERROR
        self._processed.add(1, attrs)

    def dropped(self, event_name: str, reason: str, channel: str | None) -> None:
        """An event was dropped before handling (mailbox full, undecodable, ...)."""
        attrs = self._attrs(semconv.CYTUBE_EVENT, event_name, channel)
        attrs[semconv.KRYTEN_DROP_REASON] = reason
        self._dropped.add(1, attrs)

    def restarted(self, actor: str, error_type: str) -> None:
        """A supervisor restarted ``actor`` after a failure of type ``error_type``."""
        attrs = {semconv.ERROR_TYPE: error_type}
        if self._channel_label:
            attrs[semconv.KRYTEN_ACTOR] = actor
        self._restarts.add(1, attrs)

    def command(self, action: str, *, ok: bool) -> None:
        """A command was sent (``ok``) or failed."""
        (self._sent if ok else self._failed).add(1, {semconv.CYTUBE_COMMAND: action})

    def publish_retry(self) -> None:
        """A publish is being attempted again."""
        self._retries.add(1)

    def bind_mailbox_depths(self, depths: MailboxDepths) -> None:
        """Report ``depths()`` as the mailbox depth gauge (replaces an earlier source).

        ``depths`` runs on the metric reader's thread at each export: it must only read
        (e.g. ``len()`` of mailboxes) and return quickly.
        """
        self._depths = depths

    def bind_span_losses(self, losses: SpanLossCounts) -> None:
        """Report ``losses()`` as the lost-spans counter (called on the reader's thread)."""
        self._span_losses = losses

    def _observe_span_losses(self, options: CallbackOptions) -> Iterable[Observation]:
        del options
        source = self._span_losses
        if source is None:
            return []
        counts = dict.fromkeys(_ALWAYS_REPORTED, 0) | dict(source())
        return [
            Observation(n, {semconv.KRYTEN_DROP_REASON: reason}) for reason, n in counts.items()
        ]

    def _observe_depths(self, options: CallbackOptions) -> Iterable[Observation]:
        del options
        source = self._depths
        if source is None:
            return []
        depths = dict(source())
        if self._channel_label:
            return [Observation(n, {semconv.KRYTEN_ACTOR: path}) for path, n in depths.items()]
        return [Observation(sum(depths.values()))]
