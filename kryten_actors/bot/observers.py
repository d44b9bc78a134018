"""Wiring the runtime's happenings (restarts, dead letters, depths) into telemetry."""

from __future__ import annotations

from kryten_actors.bot.delivery import EventDelivery, EventPreview
from kryten_actors.observability.instrumentation import Instrumentation
from kryten_actors.runtime import ActorSystem, DeadLetter, DeadLetterReason, RuntimeEvent

__all__ = ["observe_runtime"]


def observe_runtime(system: ActorSystem, instr: Instrumentation) -> None:
    """Report restarts and dead letters as metrics and span events; expose mailbox depths.

    Does nothing when telemetry is off, so the runtime pays nothing for it.
    """
    if not instr.enabled:
        return

    def on_runtime_event(event: RuntimeEvent) -> None:
        if event.kind == "stalled":
            instr.notable(
                "kryten.loop.stall",
                {"kryten.actor": event.path, "kryten.stall.seconds": event.delay},
            )
        elif event.kind == "restarting":
            error_type = type(event.error).__name__ if event.error else "none"
            instr.record_restart(actor=event.path, error_type=error_type)
            instr.notable(
                "kryten.actor.restart",
                {"kryten.actor": event.path, "error.type": error_type},
            )

    def on_dead_letter(letter: DeadLetter) -> None:
        instr.notable(
            "kryten.dead_letter",
            {"kryten.reason": letter.reason, "kryten.recipient": letter.recipient},
        )
        if letter.reason == DeadLetterReason.HANDLER_FAILED:
            return  # already counted as a processed event with outcome "error"
        message = letter.message
        # a letter keeps an event as its bounded preview
        event = message.event if isinstance(message, EventDelivery | EventPreview) else "unknown"
        instr.record_drop(event_name=event, reason=letter.reason, channel=_channel_of(letter))

    def depths() -> dict[str, int]:
        return {ref.path: ref.stats().mailbox_depth for ref in system.root.children()}

    system.subscribe(on_runtime_event)
    system.dead_letters.subscribe(on_dead_letter)
    instr.bind_mailbox_depth(depths)


def _channel_of(letter: DeadLetter) -> str | None:
    """``domain/channel`` of a channel actor's dead letter (its path ends ``domain:channel``)."""
    name = letter.recipient.rsplit("/", 1)[-1]
    domain, sep, channel = name.partition(":")
    return f"{domain}/{channel}" if sep else None
