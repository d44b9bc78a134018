"""What ties one channel actor to its bot: identity, shared services, surviving state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from kryten_actors.bot.bridge import BridgeLink, BridgeState
from kryten_actors.bot.delivery import EventDelivery
from kryten_actors.bot.joining import JoinTracker
from kryten_actors.bot.latency import LatencyWindow
from kryten_actors.bot.outbox import ChannelOutbox
from kryten_actors.bot.tracked import ChannelState
from kryten_actors.errors import KrytenValidationError
from kryten_actors.observability.logs import current_log_context

if TYPE_CHECKING:
    from kryten_actors.bot.sender import CommandSender
    from kryten_actors.config import ChannelConfig, KrytenConfig
    from kryten_actors.observability.instrumentation import Instrumentation
    from kryten_actors.protocol.events import RawEvent
    from kryten_actors.protocol.subjects import SubjectScheme
    from kryten_actors.runtime import Clock

__all__ = ["ChannelBinding", "ChannelCounters", "EventDelivery", "TimerCall", "current_correlation"]


def current_correlation() -> str | None:
    """Correlation ID of the event being handled in the current task (None outside handlers).

    Commands sent from a handler carry it, so a conversation stays one trace. It is read
    from the log context the handler runs in (one context variable set per event).
    """
    context = current_log_context()
    return None if context is None else context[3]


class TimerCall:
    """A timer tick that calls back into the actor, serialized with its events."""

    __slots__ = ("callback",)

    def __init__(self, callback: Any) -> None:
        self.callback = callback

    def __repr__(self) -> str:
        return f"TimerCall({getattr(self.callback, '__qualname__', self.callback)!r})"


@dataclass(slots=True)
class ChannelCounters:
    """Per-channel counters kept across actor restarts."""

    events_received: int = 0
    events_handled: int = 0
    decode_failed: int = 0
    channel_mismatch: int = 0
    replayed_skipped: int = 0
    replayed_delivered: int = 0
    commands_sent: int = 0
    commands_failed: int = 0
    latency_total: float = 0.0
    #: Recent latencies (router arrival to end of handlers) for the health report's p99.
    latency: LatencyWindow = field(default_factory=LatencyWindow)
    #: Chat command lines by outcome (``run``, ``refused``, ``invalid``, ``failed``,
    #: ``ignored``); made at the channel's first command line.
    chat_commands: dict[str, int] | None = None

    def count_chat_command(self, outcome: str) -> None:
        """Count one chat command line of this channel by its outcome."""
        counts = self.chat_commands
        if counts is None:
            counts = self.chat_commands = {}
        counts[outcome] = counts.get(outcome, 0) + 1


class ChannelBinding:
    """Identity, services and tracked state of one channel; outlives its actor instances.

    The tracked channel state (``state``: username, rank, users, playlist, media), the
    join sequence (``join``), the bridge (``link``) and the command path (``outbox``)
    live here rather than on the actor, so a restarted actor still knows them.

    Those four are made together on first use (the channel's first event, command or
    probe), so an idle channel costs a binding and its counters only — at 100,000
    passivated channels that is the difference between ~0.7 and ~1.7 KiB each. Code that
    looks at every channel (health, shutdown, lifecycle notices) reads them through
    ``existing_state()``, ``existing_join()``, ``existing_link()`` and
    ``existing_outbox()``, which never make one.

    Until then the binding is a :class:`_DormantBinding`, whose ``__getattr__`` makes
    the parts and turns it into a plain ``ChannelBinding``: a class with
    ``__getattr__`` costs every attribute read ~20 ns more (CPython does not specialize
    its attribute access), and the event path reads a binding's attributes a dozen
    times per event.
    """

    __slots__ = (
        "_awake",
        "_config",
        "channel",
        "clock",
        "command_prefix",
        "counters",
        "domain",
        "instrumentation",
        "join",
        "key",
        "link",
        "outbox",
        "replay_skip",
        "routine",
        "scheme",
        "sender",
        "settings",
        "settings_value",
        "started_at",
        "state",
        "where",
    )

    state: ChannelState
    join: JoinTracker
    link: BridgeLink
    outbox: ChannelOutbox

    def __init__(
        self,
        *,
        domain: str,
        channel: str,
        key: str,
        sender: CommandSender,
        instrumentation: Instrumentation,
        clock: Clock,
        config: KrytenConfig,
        scheme: SubjectScheme,
        entry: ChannelConfig | None = None,
    ) -> None:
        self.domain = domain
        self.channel = channel
        self.key = key
        self.where = f"{domain}/{channel}"
        self.sender = sender
        self.instrumentation = instrumentation
        self.clock = clock
        #: When the bot started serving the channel (on ``clock``).
        self.started_at = clock.now()
        self._config = config
        self._awake = False  # state, join, link and outbox made (see _DormantBinding)
        self.counters = ChannelCounters()
        self.replay_skip = config.replay == "skip"
        #: True while nothing about the channel needs the router's look at an untracked
        #: event (bridge up, no replay window or start-up check, no command awaiting
        #: CyTube's answer): :func:`~kryten_actors.bot.tap.observe` then returns at once,
        #: without touching the parts. Only ``observe`` sets it; whatever may end it
        #: (the bridge going down, a command expecting an answer) clears it.
        self.routine = False
        self.scheme = scheme
        #: What starts a chat command here (the channel's entry, else the bot's).
        self.command_prefix = (entry.command_prefix if entry else None) or config.command_prefix
        #: The channel entry's ``settings`` as configured.
        self.settings: dict[str, Any] = dict(entry.settings) if entry else {}
        #: ``settings`` validated by the actor's ``settings_model`` (once; kept across restarts).
        self.settings_value: Any = None

        if type(self) is ChannelBinding:
            self.__class__ = _DormantBinding  # until its parts are needed
        else:
            self._wake()  # a subclass keeps its class, and its parts from the start

    def _wake(self) -> None:
        """Make the tracked state, join tracker, bridge link and outbox (once)."""
        config = self._config
        self.state = ChannelState()
        # the start-up age check is for a real bridge whose join may precede the bot
        self.join = JoinTracker(
            self.state,
            self.clock,
            settle_delay=config.bridge.settle_delay,
            check_start=config.profile == "kryten-robot" and config.bridge.probe_on_start,
            started_at=self.started_at,
        )
        self.link = BridgeLink(self.where, on_down=self._not_routine)
        self.outbox = ChannelOutbox(self, config)
        self._awake = True
        if type(self) is _DormantBinding:
            self.__class__ = ChannelBinding  # type: ignore[assignment]  # (self is narrowed)

    def _not_routine(self) -> None:
        self.routine = False

    def existing_link(self) -> BridgeLink | None:
        """The bridge link if the channel ever needed one (never makes it)."""
        return self.link if self._awake else None

    def existing_outbox(self) -> ChannelOutbox | None:
        """The command path if the channel ever used it (never makes it)."""
        return self.outbox if self._awake else None

    def existing_join(self) -> JoinTracker | None:
        """The join tracker if the channel ever needed one (never makes it)."""
        return self.join if self._awake else None

    def existing_state(self) -> ChannelState | None:
        """The tracked channel state if the channel ever had any (never makes it)."""
        return self.state if self._awake else None

    def __repr__(self) -> str:
        return f"<ChannelBinding {self.where} bridge={self.bridge_state}>"

    def owns(self, event: RawEvent) -> bool:
        """True when the envelope names this channel (the subject always decides routing;
        a body naming another channel is dead-lettered as ``channel_mismatch``)."""
        if event.channel == self.channel and event.domain == self.domain:
            return True
        try:
            return self.scheme.channel_key(event.domain, event.channel) == self.key
        except KrytenValidationError:
            return False

    @property
    def rank(self) -> float | None:
        """The bot's own rank in the channel (last ``rank`` event or the start probe)."""
        return self.state.rank if self._awake else None

    @property
    def username(self) -> str | None:
        """The bridge account's name (``login`` event or the start probe)."""
        return self.state.username if self._awake else None

    @property
    def current_uid(self) -> int | None:
        """Playlist uid of the playing item (``setCurrent``)."""
        return self.state.current_uid if self._awake else None

    @property
    def current_media(self) -> Any:
        """The playing media (the last ``changeMedia`` event)."""
        return self.state.current_media if self._awake else None

    @property
    def bridge_state(self) -> str:
        """The bridge serving this channel: ``up``, ``down`` or ``unknown``."""
        # health reads this for every channel: one flag test, no call
        return self.link.state if self._awake else BridgeState.UNKNOWN


class _DormantBinding(ChannelBinding):
    """A binding whose parts are not made yet; its first read of one makes them all."""

    __slots__ = ()

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            # only reached for an attribute not set: the parts, or a genuine typo
            if name not in _PARTS:
                raise AttributeError(
                    f"'ChannelBinding' object has no attribute {name!r}", name=name, obj=self
                )
            self._wake()
            return getattr(self, name)


_PARTS: Final = frozenset({"state", "join", "link", "outbox"})
