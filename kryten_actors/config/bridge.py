"""How a bot lives with its bridge: lifecycle, replayed history, outcomes, chat pacing."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kryten_actors.config.base import ConfigModel, Fraction, PositiveFloat, PositiveInt

__all__ = ["BridgeConfig", "ChatConfig", "DownPolicy", "ReplayPolicy"]

DownPolicy = Literal["wait", "fail"]
ReplayPolicy = Literal["skip", "deliver"]


class BridgeConfig(ConfigModel):
    """The bridge serving each channel (kryten-robot lifecycle, reference §11).

    While a channel's bridge is known to be down, commands follow ``down_policy``:
    ``wait`` holds them until the bridge is back, at most ``wait_timeout`` seconds (then
    :class:`~kryten_actors.errors.BridgeUnavailable`), and sends them in order; ``fail``
    raises ``BridgeUnavailable`` at once. The same bound applies while the bot's rank
    settles after a (re)join; a rank seen after login counts as settled when it equals
    the rank known before, when the bot's own user entry arrives, or after
    ``settle_delay`` seconds without another ``rank`` event. With ``probe_on_start`` the
    bot asks each channel's bridge who it is, its account name and rank when it starts
    (kryten-robot profile), so it need not wait for the next rejoin to know them.
    ``announce`` publishes the bot's own lifecycle (startup, shutdown, and a heartbeat
    every ``heartbeat_interval`` seconds) on ``kryten.lifecycle.{service_name}.*``.
    """

    down_policy: DownPolicy = "wait"
    wait_timeout: PositiveFloat = 30.0
    settle_delay: PositiveFloat = 0.5
    probe_on_start: bool = True
    probe_timeout: PositiveFloat = 2.0
    announce: bool = True
    heartbeat_interval: PositiveFloat = 30.0


class ChatConfig(ConfigModel):
    """The outbound governor of each channel's chat lines and PMs (CyTube rate limits).

    Lines are paced to what CyTube accepts for the bot's rank (reference §12; the
    channel's antiflood settings from ``channelOpts`` below rank 2), each wait
    stretched by ``pace_margin`` (a fraction) against network jitter, and keep their
    order. Text longer than the channel's limit is split at word boundaries when
    ``split`` is true (else refused). At most ``queue_limit`` lines wait per channel;
    beyond it ``send_chat`` raises :class:`~kryten_actors.errors.ChatQueueFull`. A line
    CyTube refused for flooding is sent again (up to ``max_resends`` times) after the
    cooldown CyTube asked for. ``pace: false`` turns pacing off (lines still keep their
    order and the queue bound) — only for a bridge whose CyTube has no such limits, or
    a benchmark; against a real CyTube the lines beyond its limit are lost.
    """

    pace: bool = True
    queue_limit: PositiveInt = 200
    split: bool = True
    pace_margin: Fraction = 0.1
    max_resends: int = Field(default=3, ge=0)
