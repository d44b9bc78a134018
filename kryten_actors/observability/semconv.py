"""Span names, attribute keys and metric names, as plain strings.

The keys follow the OpenTelemetry messaging semantic conventions; they are kept here
as constants rather than taken from ``opentelemetry-semantic-conventions`` because
that package's Python enums are renamed between releases. CyTube- and kryten-specific
keys live under ``cytube.*`` and ``kryten.*``.

Span names must have low cardinality, so they use the subject *template* (``process
kryten.events.cytube.{channel}.{event}``), never the literal subject; the literal
subject is the ``messaging.destination.name`` attribute.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CYTUBE_CHANNEL",
    "CYTUBE_COMMAND",
    "CYTUBE_DOMAIN",
    "CYTUBE_EVENT",
    "ERROR_TYPE",
    "INSTRUMENTATION_NAME",
    "KRYTEN_ACTOR",
    "KRYTEN_DROP_REASON",
    "KRYTEN_MAILBOX_WAIT_MS",
    "KRYTEN_OUTCOME",
    "MESSAGING_CONVERSATION_ID",
    "MESSAGING_DESTINATION",
    "MESSAGING_MESSAGE_ID",
    "MESSAGING_OPERATION_NAME",
    "MESSAGING_OPERATION_TYPE",
    "MESSAGING_SYSTEM",
    "METRIC_COMMANDS_FAILED",
    "METRIC_COMMANDS_SENT",
    "METRIC_EVENTS_DROPPED",
    "METRIC_EVENTS_PROCESSED",
    "METRIC_EVENTS_RECEIVED",
    "METRIC_HANDLER_DURATION",
    "METRIC_MAILBOX_DEPTH",
    "METRIC_PUBLISH_RETRIES",
    "METRIC_RESTARTS",
    "METRIC_SPANS_LOST",
    "NATS",
    "OPERATION_PROCESS",
    "OPERATION_SEND",
    "OUTCOME_ERROR",
    "OUTCOME_OK",
    "process_span_name",
    "send_span_name",
]

INSTRUMENTATION_NAME: Final = "kryten_actors"
"""The instrumentation scope name of every span and instrument."""

# --- messaging semantic conventions --------------------------------------------------
MESSAGING_SYSTEM: Final = "messaging.system"
MESSAGING_DESTINATION: Final = "messaging.destination.name"
MESSAGING_OPERATION_TYPE: Final = "messaging.operation.type"
MESSAGING_OPERATION_NAME: Final = "messaging.operation.name"
MESSAGING_MESSAGE_ID: Final = "messaging.message.id"
MESSAGING_CONVERSATION_ID: Final = "messaging.message.conversation_id"
ERROR_TYPE: Final = "error.type"

NATS: Final = "nats"
OPERATION_PROCESS: Final = "process"
OPERATION_SEND: Final = "send"

# --- CyTube and kryten attributes ----------------------------------------------------
CYTUBE_CHANNEL: Final = "cytube.channel"
CYTUBE_DOMAIN: Final = "cytube.domain"
CYTUBE_EVENT: Final = "cytube.event"
CYTUBE_COMMAND: Final = "cytube.command"
KRYTEN_ACTOR: Final = "kryten.actor"
KRYTEN_MAILBOX_WAIT_MS: Final = "kryten.mailbox.wait_ms"
KRYTEN_OUTCOME: Final = "kryten.outcome"
KRYTEN_DROP_REASON: Final = "kryten.drop.reason"

OUTCOME_OK: Final = "ok"
OUTCOME_ERROR: Final = "error"

# --- metric names --------------------------------------------------------------------
METRIC_EVENTS_RECEIVED: Final = "kryten.events.received"
METRIC_EVENTS_PROCESSED: Final = "kryten.events.processed"
METRIC_EVENTS_DROPPED: Final = "kryten.events.dropped"
METRIC_HANDLER_DURATION: Final = "kryten.handler.duration"
METRIC_MAILBOX_DEPTH: Final = "kryten.mailbox.depth"
METRIC_RESTARTS: Final = "kryten.actor.restarts"
METRIC_COMMANDS_SENT: Final = "kryten.commands.sent"
METRIC_COMMANDS_FAILED: Final = "kryten.commands.failed"
METRIC_PUBLISH_RETRIES: Final = "kryten.publish.retries"
METRIC_SPANS_LOST: Final = "kryten.spans.lost"

# --- subject templates ---------------------------------------------------------------
# The same prefixes as kryten_actors.protocol.subjects; repeated here because the
# observability layer may not import the protocol layer.
_ROBOT_EVENTS: Final = "kryten.events.cytube."
_SEED_EVENTS: Final = "cytube.events."
_SEED_COMMANDS: Final = "cytube.commands."


def _generic_template(subject: str, last: str) -> str:
    # An unknown scheme: keep the leading tokens, hide the two that vary per message.
    tokens = subject.split(".")
    if len(tokens) < 3:
        return subject
    return ".".join([*tokens[:-2], "{channel}", last])


# built once: a sampled event's span name costs a prefix test, not two string builds
_ROBOT_PROCESS: Final = f"{OPERATION_PROCESS} {_ROBOT_EVENTS}{{channel}}.{{event}}"
_SEED_PROCESS: Final = f"{OPERATION_PROCESS} {_SEED_EVENTS}{{domain}}.{{channel}}.{{event}}"


def process_span_name(subject: str) -> str:
    """``process {template}`` for an event subject, e.g.
    ``process kryten.events.cytube.{channel}.{event}``."""
    if subject.startswith(_ROBOT_EVENTS):
        return _ROBOT_PROCESS
    if subject.startswith(_SEED_EVENTS):
        return _SEED_PROCESS
    return f"{OPERATION_PROCESS} {_generic_template(subject, '{event}')}"


def send_span_name(subject: str) -> str:
    """``send {template}`` for a command subject: ``send kryten.robot.command`` (already
    constant) or ``send cytube.commands.{channel}.{action}``."""
    if subject.startswith(_SEED_COMMANDS):
        template = _SEED_COMMANDS + "{channel}.{action}"
    elif subject.count(".") >= 3:
        template = _generic_template(subject, "{action}")
    else:
        template = subject
    return f"{OPERATION_SEND} {template}"
