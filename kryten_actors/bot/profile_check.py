"""Noticing a bot set to the wrong wire profile, and saying which one to set.

A ``seed`` bot on a bus where kryten-robot publishes (or the reverse) subscribes to
subjects nobody publishes on and receives nothing, silently. :class:`ProfileCheck`
listens, for a while, on the *other* profile's subjects of the bot's channels. If the
bot's own subjects stayed silent for ``after`` seconds while the other profile's carried
events for its channels, it logs a warning naming the profile to set and keeps the
finding in :attr:`ProfileCheck.mismatch` (``Bot.profile_mismatch``, shown by health).
It stops listening as soon as the bot's own events flow, once it warned, or after
20 times ``after`` seconds, so it costs nothing in a healthy bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from kryten_actors.config import KrytenConfig
from kryten_actors.errors import KrytenError, KrytenValidationError
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.transport.base import InboundMessage, Subscription, Transport

__all__ = ["ProfileCheck", "ProfileMismatch", "other_profile"]

log = logging.getLogger("kryten_actors.bot.profile")

_MAX_PROBED_CHANNELS: Final = 100
"""Channels listened for individually; a bot with more listens on the wildcard instead."""
_MAX_NAMED: Final = 5
_GIVE_UP_AFTER: Final = 20
"""In periods of ``after``: how long to keep listening when neither profile speaks."""


def other_profile(profile: str) -> str:
    """The profile a bot set to ``profile`` is not using."""
    return "seed" if profile == "kryten-robot" else "kryten-robot"


@dataclass(frozen=True, slots=True)
class ProfileMismatch:
    """The bot's profile got no events while the other profile's carried its channels'.

    ``configured`` is the bot's profile, ``suggested`` the one to set, ``channels`` (at
    most five) the bot's channels seen on the other profile's subjects, ``example`` one
    such subject, ``events`` how many such events were seen, ``silent_for`` how long
    (seconds) the bot's own subjects had been silent.
    """

    configured: str
    suggested: str
    channels: tuple[str, ...]
    example: str
    events: int
    silent_for: float

    def describe(self) -> str:
        """The warning the bot logs: what was seen, and the setting that fixes it."""
        return (
            f"no events arrived on the {self.configured} profile's subjects in "
            f"{self.silent_for:g} s, but the bus carries {self.suggested}-profile events "
            f"for {', '.join(self.channels)} ({self.events} seen, e.g. {self.example}); "
            f"the bridge speaks {self.suggested}: set `profile: {self.suggested}` in the config"
        )


class ProfileCheck:
    """Listens on the other profile's subjects until the bot's own events flow.

    ``own_events()`` returns how many events the bot's router delivered so far.
    ``start()`` subscribes and starts the watch; ``stop()`` ends both (idempotent).
    """

    def __init__(
        self,
        *,
        transport: Transport,
        config: KrytenConfig,
        own_events: Callable[[], int],
        after: float,
    ) -> None:
        self._transport = transport
        self._own_events = own_events
        self.after = after
        self.configured = config.profile
        self.suggested = other_profile(config.profile)
        self._other = scheme_for(self.suggested)
        channels = config.channels
        self._channels = channels
        # the other profile's keys of the bot's channels, made when its first event comes
        # (a healthy bot never needs them: 170 bytes per channel at 100,000 channels)
        self._wanted: frozenset[str] | None = None
        self._any_channel = not channels
        if not channels or len(channels) > _MAX_PROBED_CHANNELS:
            self._subjects = self._other.event_subscriptions()
        else:
            self._subjects = [
                s
                for ch in channels
                for s in self._other.channel_subscriptions(ch.domain, ch.channel)
            ]
        self._subscriptions: list[Subscription] = []
        self._task: asyncio.Task[None] | None = None
        self._seen = 0
        self._seen_channels: list[str] = []
        self._example = ""
        self._heard = asyncio.Event()
        self.mismatch: ProfileMismatch | None = None

    async def start(self) -> None:
        """Subscribe to the other profile's subjects and start watching."""
        for subject in self._subjects:
            self._subscriptions.append(await self._transport.subscribe(subject, self._on_other))
        self._task = asyncio.create_task(self._watch(), name="kryten-profile-check")

    async def stop(self) -> None:
        """Stop watching and unsubscribe."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._unsubscribe()

    async def _unsubscribe(self) -> None:
        subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            try:
                await subscription.unsubscribe()
            except KrytenError as exc:  # the connection may be gone; nothing is lost
                log.debug("profile check: unsubscribing failed: %s", exc)

    async def _on_other(self, message: InboundMessage) -> None:
        parsed = self._other.parse_event(message.subject)
        if parsed is None or not (self._any_channel or parsed.key in self._wanted_keys()):
            return
        self._seen += 1
        if not self._example:
            self._example = message.subject
        if parsed.key not in self._seen_channels and len(self._seen_channels) < _MAX_NAMED:
            self._seen_channels.append(parsed.key)
        self._heard.set()

    def _wanted_keys(self) -> frozenset[str]:
        wanted = self._wanted
        if wanted is None:
            keys = set()
            for ch in self._channels:
                # a name the other profile cannot carry is never seen on its subjects
                with contextlib.suppress(KrytenValidationError):
                    keys.add(self._other.channel_key(ch.domain, ch.channel))
            wanted = self._wanted = frozenset(keys)
        return wanted

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await asyncio.sleep(self.after)
            for _ in range(_GIVE_UP_AFTER):
                if self._own_events() > 0:
                    return
                if self._seen:
                    self.mismatch = ProfileMismatch(
                        configured=self.configured,
                        suggested=self.suggested,
                        channels=tuple(self._seen_channels),
                        example=self._example,
                        events=self._seen,
                        silent_for=round(loop.time() - started, 1),
                    )
                    log.warning("%s", self.mismatch.describe())
                    return
                self._heard.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._heard.wait(), self.after)
        finally:
            await self._unsubscribe()
