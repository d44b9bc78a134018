"""The routing-time look at a channel's events: tracked state, join sequence, CyTube's verdicts.

History is recognised by the join sequence (see :mod:`~kryten_actors.bot.joining`); in
the bot's first seconds against a real bridge (``kryten-robot`` with the start-up probe),
when a join may have begun before the bot subscribed, also by age: a line CyTube wrote
more than 3 s before the bridge published it is history — until the channel's first
fresh line (CyTube replays history oldest first, before live chat).

The router hands every event of a served channel to :func:`observe` before it enters
the channel actor's mailbox. State-bearing events update the channel's
:class:`~kryten_actors.bot.tracked.ChannelState` and join sequence here, in order, so
a handler waiting for a settled rank or for CyTube's answer to its command is never
stuck behind the very event it waits for in its own mailbox. Only the few event
kinds that matter are decoded; chat is decoded only while a line waits for its echo.

:func:`observe` returns whether to deliver the event, deliver it marked as a replay,
or skip it (replayed history under ``replay: skip``). While a channel is *routine*
(``ChannelBinding.routine``: its bridge up, no replay window or start-up check, no
command awaiting CyTube's answer) an untracked event — a chat line, most of the
traffic — is delivered after one flag test, without reading the parts: at 1,000
channels they are cold in the cache by the time the channel's next event arrives
(~0.18 µs per event, measured). Only :func:`observe` sets the flag, after a full
look; whatever may end it (the bridge marked down, a command expecting an answer)
clears it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from kryten_actors.bot.bridge import BridgeState
from kryten_actors.bot.joining import JOIN_EVENTS
from kryten_actors.bot.outcome_rules import FEEDBACK_EVENTS
from kryten_actors.bot.tracked import STATE_EVENTS
from kryten_actors.errors import KrytenError
from kryten_actors.protocol.events import ChatMessageEvent, decode_event

if TYPE_CHECKING:
    from kryten_actors.bot.binding import ChannelBinding

__all__ = ["DELIVER", "REPLAY", "SKIP", "observe"]

DELIVER: Final = 0
REPLAY: Final = 1
SKIP: Final = 2

_TRACKED: Final = STATE_EVENTS | JOIN_EVENTS
#: A chat line this much older than its envelope (CyTube's ``time`` vs the bridge's
#: ``timestamp``) is history, not live chat.
REPLAY_AGE_SECONDS: Final = 3.0
_CHAT: Final = "chatmsg"


def observe(binding: ChannelBinding, event: str, data: bytes) -> int:
    """Look at one event of ``binding``'s channel (lowercased ``event`` name, raw body)."""
    if binding.routine and event not in _TRACKED:
        # nothing to look for (see ChannelBinding.routine): the parts, cold in the
        # cache when a thousand channels take turns, are not touched
        return DELIVER
    seen = _look(binding, event, data)
    join = binding.join
    binding.routine = (
        binding.link.state == BridgeState.UP
        and not join.in_replay_window
        and join.start_until is None
        and not binding.outbox.outcomes.pending
    )
    return seen


def _look(binding: ChannelBinding, event: str, data: bytes) -> int:
    link = binding.link
    if link.state != "up":
        link.mark_up()  # events flow only while a bridge is in the channel
    join = binding.join
    if join.in_replay_window:
        if event == _CHAT:
            return _replayed(binding)
        join.closes_history(event)
    elif event == _CHAT and join.start_until is not None and _old_at_start(binding, data):
        return _replayed(binding)
    outcomes = binding.outbox.outcomes
    if event in FEEDBACK_EVENTS and outcomes.pending and outcomes.watches(event):
        feedback = True
    elif event not in _TRACKED:
        return DELIVER
    else:
        feedback = False
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


def _replayed(binding: ChannelBinding) -> int:
    if binding.replay_skip:
        binding.counters.replayed_skipped += 1
        return SKIP
    binding.counters.replayed_delivered += 1
    return REPLAY


def _old_at_start(binding: ChannelBinding, data: bytes) -> bool:
    """A chat line seen in the bot's first seconds that CyTube wrote long before the bridge
    published it: history of a join that began before the bot subscribed."""
    if not binding.join.starting(binding.clock.now()):
        return False
    try:
        decoded, _ = decode_event(data, event_hint=_CHAT)
    except KrytenError:
        return False
    if not isinstance(decoded, ChatMessageEvent) or decoded.payload.time <= 0:
        return False  # no time given (a test's hand-made line): nothing to judge by
    age = (decoded.timestamp - decoded.time).total_seconds()
    if age > REPLAY_AGE_SECONDS:
        return True
    # CyTube replays its buffer oldest first and before any live line: from the first
    # fresh line on, the join sequence alone decides (and no line is decoded twice)
    binding.join.start_checked()
    return False
