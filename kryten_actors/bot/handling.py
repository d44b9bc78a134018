"""How a channel actor handles one event delivery: the bot's hot path, per event.

Decode (lazily: an event no handler wants is never parsed), check that the envelope
names the actor's channel, mark replays and redeliveries, attach the reply path of a
chat line, set the log context, run the ``@on`` handlers, count, record the latency.

:func:`start_event` does all of it synchronously and returns None when the handler
completed without suspending — the common case, which then costs no coroutine of
the bot's own (the runtime accepts None from ``receive``). A handler that really
awaits is handed back as a coroutine that finishes it (the runtime runs it in the
cell's drain task); so is an event with tracing on, or with several handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any

from kryten_actors.bot.delivery import EventDelivery
from kryten_actors.bot.task_leaks import DETECTOR as _LEAKS
from kryten_actors.errors import KrytenError, KrytenValidationError
from kryten_actors.observability.logs import LOG_CONTEXT as _LOG_CONTEXT
from kryten_actors.protocol.events import (
    EVENT_MODELS,
    ChatMessageEvent,
    PrivateMessageEvent,
    RawEvent,
    decode_event,
    decode_hinted,
)
from kryten_actors.protocol.user_events import attach_replies
from kryten_actors.protocol.validation import to_kryten_error
from kryten_actors.runtime import DeadLetterReason
from kryten_actors.runtime.drain import Suspended

if TYPE_CHECKING:
    from contextvars import Token

    from kryten_actors.bot.binding import ChannelBinding, ChannelCounters
    from kryten_actors.bot.channel import ChannelActor
    from kryten_actors.observability.logs import LogContext
    from kryten_actors.runtime import Clock

__all__ = ["CHANNEL_MISMATCH", "start_event"]

#: Dead-letter reason of an envelope whose body names another channel than its subject.
CHANNEL_MISMATCH = "channel_mismatch"

_Handlers = tuple[Callable[..., Awaitable[Any]], ...]
_CHAT_LIKE = (ChatMessageEvent, PrivateMessageEvent)
_HINT = "The payload does not fit the event's typed model; the event was dead-lettered."


def start_event(  # noqa: PLR0912 - one hot path, inline
    actor: ChannelActor, delivery: Any, plain: bool = False
) -> Coroutine[Any, Any, Any] | None:
    """Handle ``delivery`` as far as it goes without suspending (``ChannelActor.receive``).

    Returns None when it is done, else the coroutine that finishes it. Raises what a
    handler raised (a failure of the actor). Anything but a plain event delivery (one
    to acknowledge, a timer, a user's message, asyncio debug mode) goes to the actor's
    ``_receive_other``, unless the caller says ``plain``.
    """
    if not plain and (
        type(delivery) is not EventDelivery or delivery.ack is not None or _LEAKS.active
    ):
        return actor._receive_other(delivery)
    b = actor._binding
    counters = b.counters
    counters.events_received += 1
    hint = delivery.event
    functions = actor._handler_functions.get(hint)
    if functions is None:
        functions = actor._handler_table.functions_for(hint)
    if not functions and hint in EVENT_MODELS:
        # Lazy decode: nothing here wants this event, so its body is never parsed.
        # (Unknown names still decode: their handlers may be "*" ones.)
        counters.events_handled += 1
        return None
    event = decode_hinted(delivery.data, hint)
    if event is None:
        try:
            event, error = decode_event(delivery.data, event_hint=hint)
        except KrytenError as exc:
            _dead_letter(actor, delivery, exc)
            return None
        if error is not None:
            # a ValidationError holds its whole input: keep only what it says
            _dead_letter(actor, delivery, to_kryten_error(error, what="event", hint=_HINT))
            return None
        name = event.event_name.lower()
        if name != hint:
            functions = actor._handler_table.functions_for(name)
    if (event.channel != b.channel or event.domain != b.domain) and not b.owns(event):
        _mismatch(actor, event)
        return None
    if delivery.replay or delivery.ack is not None:
        _mark(event, delivery)
    if type(event) in _CHAT_LIKE:
        attach_replies(event, b.outbox)  # type: ignore[arg-type]
    correlation_id = event.correlation_id
    # what every log record of this event's handlers is about (observability.logs);
    # commands sent from the handlers read their correlation ID from it
    where = (b.where, actor.context.path, event.event_name, correlation_id)
    instr = b.instrumentation
    if instr.enabled and instr.observes(correlation_id, delivery.headers):
        return _traced(actor, functions, event, delivery, where)
    log_token = _LOG_CONTEXT.set(where)
    try:
        if functions:
            if len(functions) == 1:  # the common case: straight into the handler
                work = functions[0](actor, event)
            else:
                work = actor._run(functions, event)
            steps = work.__await__()
            # The handler's first step; the loop ends a coroutine that returns without
            # a StopIteration to catch (~0.1 µs less per event than send + except).
            for signal in steps:
                # it awaits: the runtime finishes it in the cell's own task
                return _resume(steps, signal, log_token, b, delivery)
    except BaseException:
        _LOG_CONTEXT.reset(log_token)
        raise
    _LOG_CONTEXT.reset(log_token)
    # _handled(), inline: the common case saves the call
    counters.events_handled += 1
    now = b.clock.now()
    latency = now - delivery.enqueued_at
    counters.latency_total += latency
    counters.latency.record(latency, now)
    return None


async def _resume(
    coro: Generator[Any, Any, Any],
    signal: Any,
    log_token: Token[LogContext | None],
    b: ChannelBinding,
    delivery: EventDelivery,
) -> None:
    """Finish a handler that awaited after its first step, then count it."""
    try:
        await Suspended(coro, signal, delivery)
    finally:
        _LOG_CONTEXT.reset(log_token)
    _handled(b.counters, b.clock, delivery)


async def _traced(
    actor: ChannelActor,
    functions: _Handlers,
    event: RawEvent,
    delivery: EventDelivery,
    where: LogContext,
) -> None:
    """Run the handlers inside the event's span (tracing on and this event sampled)."""
    b = actor._binding
    instr = b.instrumentation
    log_token = _LOG_CONTEXT.set(where)
    try:
        scope = instr.process(
            subject=delivery.subject,
            event_name=event.event_name,
            channel=b.channel,
            domain=b.domain,
            correlation_id=event.correlation_id,
            actor=actor.context.path,
            headers=delivery.headers,
            wait_seconds=max(0.0, b.clock.now() - delivery.enqueued_at),
        )
        with scope:
            try:
                await actor._run(functions, event)
            except Exception as exc:
                # recorded here, while the event's span is still open
                instr.notable(
                    "kryten.actor.failure",
                    {"kryten.actor": actor.context.path, "error.type": type(exc).__name__},
                )
                raise
    finally:
        _LOG_CONTEXT.reset(log_token)
    _handled(b.counters, b.clock, delivery)


def _handled(counters: ChannelCounters, clock: Clock, delivery: EventDelivery) -> None:
    counters.events_handled += 1
    now = clock.now()
    latency = now - delivery.enqueued_at
    counters.latency_total += latency
    counters.latency.record(latency, now)


def _dead_letter(actor: ChannelActor, message: Any, error: BaseException) -> None:
    actor._binding.counters.decode_failed += 1
    context = actor.context
    context.dead_letters.record(
        message, recipient=context.path, reason=DeadLetterReason.DECODE_FAILED, error=error
    )


def _mismatch(actor: ChannelActor, event: RawEvent) -> None:
    b = actor._binding
    b.counters.channel_mismatch += 1
    error = KrytenValidationError(
        f"the envelope names {event.domain}/{event.channel} but arrived on a subject of "
        f"{b.where}; the subject decides, so no handler sees it",
        [("channel", "does not match the subject")],
    )
    context = actor.context
    context.dead_letters.record(event, recipient=context.path, reason=CHANNEL_MISMATCH, error=error)


def _mark(event: RawEvent, delivery: EventDelivery) -> None:
    """Flag a replayed or possibly redelivered event for its handlers."""
    if delivery.replay:
        event.mark_replay()
    if delivery.ack is not None and delivery.ack.redelivered:
        event.mark_redelivered()
