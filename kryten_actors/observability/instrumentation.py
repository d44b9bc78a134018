"""The seam between the bot and telemetry: what the bot reports, not how.

The bot calls an :class:`Instrumentation` at three points — around each event a
channel actor processes, around each command it sends, and when something notable
happens (a restart, a drop, a dead letter) — and, for metrics, when an event is
routed, dropped or retried, when an actor restarts, and how deep the mailboxes are.
:class:`NoInstrumentation` does nothing and costs nothing; the OpenTelemetry
implementation lives in ``tracing.py``. ``process()`` and ``send()`` also count
processed events (with handler duration) and sent/failed commands.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from kryten_actors.config import KrytenConfig

__all__ = [
    "NO_SCOPE",
    "Instrumentation",
    "NoInstrumentation",
    "TracingStatus",
    "instrumentation_from_config",
]


@dataclass(frozen=True, slots=True)
class TracingStatus:
    """How sampled spans leave the bot, and how many were lost on the way.

    ``mode``: ``in_process`` (the SDK's batch processor in the bot), ``span_worker``
    (``tracing.span_worker``), or ``application`` (the SDK provider the application
    installed: its processors are its own, so nothing is counted here). ``lost``:
    spans never exported, by reason (``queue_full``: the export could not keep up;
    ``export_failed``: the exporter gave a batch up; with the span worker also
    ``worker_lost``, ``unencodable`` and ``after_shutdown``).
    """

    mode: str
    lost: Mapping[str, int]


class Instrumentation(Protocol):
    """What the bot reports to telemetry. Implementations must never raise."""

    enabled: bool
    #: True when event counters are recorded (``record_received`` does something).
    counts_events: bool

    def observes(self, correlation_id: str, headers: Mapping[str, str] | None) -> bool:
        """True when processing this event needs :meth:`process` (a span that will be
        sampled, or metrics); False lets the bot skip the scope altogether. Cheap."""
        ...

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

        An exception leaving the scope is recorded on the span and re-raised.
        """
        ...

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
        ...

    def notable(self, name: str, attributes: Mapping[str, str | int | float | bool]) -> None:
        """Record a notable happening (restart, drop, dead letter) on the current span."""
        ...

    def record_received(self, *, event_name: str, channel: str) -> None:
        """An event was routed to ``channel``'s actor (counted before its mailbox)."""
        ...

    def record_drop(self, *, event_name: str, reason: str, channel: str | None = None) -> None:
        """An event was dropped before handling (``reason``: mailbox_full, decode_failed...)."""
        ...

    def record_restart(self, *, actor: str, error_type: str) -> None:
        """A supervisor restarted ``actor`` after a failure of type ``error_type``."""
        ...

    def record_publish_retry(self) -> None:
        """A publish is being attempted again after a failure."""
        ...

    def bind_mailbox_depth(self, depths: Callable[[], Mapping[str, int]]) -> None:
        """Report ``depths()`` (queued messages per actor path) as the mailbox gauge.

        ``depths`` may be called from another thread: it must only read, quickly.
        """
        ...

    def tracing_status(self) -> TracingStatus | None:
        """How spans are exported and what was lost (None with tracing off)."""
        ...

    async def flush(self) -> None:
        """Export everything buffered (called on shutdown)."""
        ...

    async def shutdown(self) -> None:
        """Flush and release exporters."""
        ...


NO_SCOPE: Final = contextlib.nullcontext()
"""The scope of an event or command with no span and no metrics (shared: it holds nothing)."""


class NoInstrumentation:
    """Telemetry switched off: every call is a no-op."""

    enabled = False
    counts_events = False

    def observes(self, correlation_id: str, headers: Mapping[str, str] | None) -> bool:
        return False

    def process(self, **_: object) -> contextlib.AbstractContextManager[None]:
        return NO_SCOPE

    def send(self, **_: object) -> contextlib.AbstractContextManager[None]:
        return NO_SCOPE  # one shared object: a generator scope cost every command ~0.8 µs

    def notable(self, name: str, attributes: Mapping[str, str | int | float | bool]) -> None:
        del name, attributes

    def record_received(self, *, event_name: str, channel: str) -> None:
        del event_name, channel

    def record_drop(self, *, event_name: str, reason: str, channel: str | None = None) -> None:
        del event_name, reason, channel

    def record_restart(self, *, actor: str, error_type: str) -> None:
        del actor, error_type

    def record_publish_retry(self) -> None:
        return None

    def bind_mailbox_depth(self, depths: Callable[[], Mapping[str, int]]) -> None:
        del depths

    def tracing_status(self) -> TracingStatus | None:
        return None

    async def flush(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def instrumentation_from_config(
    config: KrytenConfig, *, env: Mapping[str, str] = os.environ
) -> Instrumentation:
    """The instrumentation ``config`` and ``env`` ask for.

    :class:`NoInstrumentation` when neither tracing nor metrics is on — then the
    OpenTelemetry SDK is never imported — else an ``OtelInstrumentation``. Raises
    ``KrytenValidationError`` naming the variable when an ``OTEL_*`` variable has a
    value this library cannot use.
    """
    # imported here: the settings and the SDK load only when a bot is built
    from kryten_actors.observability.settings import resolve_settings  # noqa: PLC0415

    settings = resolve_settings(config, env)
    if not settings.any_enabled:
        return NoInstrumentation()
    from kryten_actors.observability.tracing import OtelInstrumentation  # noqa: PLC0415

    return OtelInstrumentation(settings)
