"""The routing-time look at a channel's events: tracked state, join sequence, CyTube's verdicts.

The router hands every event of a served channel to :func:`observe` before it enters
the channel actor's mailbox. State-bearing events update the channel's
:class:`~kryten_actors.bot.tracked.ChannelState` and join sequence here, in order, so
a handler waiting for a settled rank or for CyTube's answer to its command is never
stuck behind the very event it waits for in its own mailbox. Only the few event
kinds that matter are decoded; chat is decoded only while a line waits for its echo.

:func:`observe` returns whether to deliver the event, deliver it marked as a replay,
or skip it (replayed history under ``replay: skip``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from kryten_actors.bot.joining import JOIN_EVENTS
from kryten_actors.bot.outcome_rules import FEEDBACK_EVENTS
from kryten_actors.bot.tracked import STATE_EVENTS
from kryten_actors.errors import KrytenError
from kryten_actors.protocol.events import decode_event

if TYPE_CHECKING:
    from kryten_actors.bot.binding import ChannelBinding

__all__ = ["DELIVER", "REPLAY", "SKIP", "observe"]

DELIVER: Final = 0
REPLAY: Final = 1
SKIP: Final = 2

_TRACKED: Final = STATE_EVENTS | JOIN_EVENTS
_CHAT: Final = "chatmsg"


def observe(binding: ChannelBinding, event: str, data: bytes) -> int:
    """Look at one event of ``binding``'s channel (lowercased ``event`` name, raw body)."""
    link = binding.link
    if link.state != "up":
        link.mark_up()  # events flow only while a bridge is in the channel
    join = binding.join
    if join.in_replay_window:
        if event == _CHAT:
            if binding.replay_skip:
                binding.counters.replayed_skipped += 1
                return SKIP
            binding.counters.replayed_delivered += 1
            return REPLAY
        join.closes_history(event)
    outcomes = binding.outbox.outcomes
    feedback = event in FEEDBACK_EVENTS and len(outcomes) > 0 and outcomes.watches(event)
    if not feedback and event not in _TRACKED:
        return DELIVER
    try:
        decoded, _ = decode_event(data, event_hint=event)
    except KrytenError:
        return DELIVER  # not an envelope: the actor dead-letters it
    if not binding.owns(decoded):
        return DELIVER  # names another channel: the actor dead-letters it
    state = binding.state
    if event in STATE_EVENTS:
        state.apply(event, decoded)
    if event in JOIN_EVENTS:
        join.observe(decoded)
    if feedback:
        outcomes.observe(event, decoded, state.username)
    return DELIVER
