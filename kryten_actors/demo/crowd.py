"""The simulated people of one channel: what they do next, drawn from a seeded random source.

Mostly chat (now and then a ``/me`` line or a greeting), with joins and leaves, AFK changes,
skip votes that change the media, a PM to the bot, and media queued when the playlist runs
low. The same seed gives the same sequence of choices.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Final

from kryten_actors.demo.effect import Effect
from kryten_actors.demo.presets import CHAT_LINES, CRASH_LINE, GREETINGS, MEDIA_LIBRARY, USER_NAMES
from kryten_actors.demo.scenario import ChannelState

__all__ = ["Crowd"]

MIN_PEOPLE: Final = 3
MAX_PEOPLE: Final = 12
MIN_QUEUED: Final = 3
# Relative weights of what happens next; chat dominates as in a real channel.
_WEIGHTS: Final[dict[str, float]] = {
    "chat": 80.0,
    "action": 4.0,
    "join": 2.0,
    "leave": 1.8,
    "afk": 4.0,
    "voteskip": 2.5,
    "pm": 1.0,
    "queue": 2.0,
}


class Crowd:
    """Picks and applies the next thing the people in ``state`` do; returns its effects."""

    def __init__(self, state: ChannelState, rng: random.Random) -> None:
        self._state = state
        self._rng = rng
        self._guests = 0
        self._activities: dict[str, Callable[[], list[Effect]]] = {
            "chat": self._chat,
            "action": self._action,
            "join": self._join,
            "leave": self._leave,
            "afk": self._afk,
            "voteskip": self._voteskip,
            "pm": self._pm,
            "queue": self._queue,
        }
        self._kinds = list(self._activities)
        self._weights = [_WEIGHTS[kind] for kind in self._kinds]

    def _people(self) -> list[str]:
        return [name for name in self._state.users if name != self._state.bot_name]

    def _someone(self) -> str | None:
        people = self._people()
        return self._rng.choice(people) if people else None

    def next_activity(self) -> list[Effect]:
        """Apply one random activity and return the events CyTube would broadcast for it."""
        if len(self._state.playlist.entries) < MIN_QUEUED:
            effects = self._queue()
            if effects:
                return effects
        kind = self._rng.choices(self._kinds, weights=self._weights)[0]
        return self._activities[kind]()

    def say(self, text: str) -> list[Effect]:
        """Someone (not the bot) says ``text``; ``[]`` if nobody else is there."""
        speaker = self._someone()
        return [] if speaker is None else self._state.chat(speaker, text)

    def crash(self) -> list[Effect]:
        """Someone says :data:`~kryten_actors.demo.presets.CRASH_LINE` (the demo bot raises)."""
        return self.say(CRASH_LINE)

    def _chat(self) -> list[Effect]:
        return self.say(self._rng.choice(CHAT_LINES))

    def _action(self) -> list[Effect]:
        return self.say(f"/me {self._rng.choice(('waves', 'dances', 'grabs popcorn', 'yawns'))}")

    def _join(self) -> list[Effect]:
        if len(self._people()) >= MAX_PEOPLE:
            return self._leave()
        absent = [name for name in USER_NAMES if name not in self._state.users]
        if absent:
            name = self._rng.choice(absent)
        else:
            self._guests += 1
            name = f"Guest{self._guests}"
        effects = self._state.join(name, self._rng.choice((0, 0, 1)), self._rng)
        return effects + self._state.chat(name, self._rng.choice(GREETINGS))

    def _leave(self) -> list[Effect]:
        if len(self._people()) <= MIN_PEOPLE:
            return self._join()
        name = self._someone()
        return [] if name is None else self._state.leave(name)

    def _afk(self) -> list[Effect]:
        name = self._someone()
        if name is None:
            return []
        return self._state.set_afk(name, not self._state.users[name].afk)

    def _voteskip(self) -> list[Effect]:
        name = self._someone()
        if name is None:
            return []
        return self._state.playlist.vote_skip(name, self._state.active_user_count())

    def _pm(self) -> list[Effect]:
        name = self._someone()
        if name is None:
            return []
        return self._state.private_message(name, self._state.bot_name, "hi bot, are you there?")

    def _queue(self) -> list[Effect]:
        name = self._someone()
        playlist = self._state.playlist
        fresh = [preset for preset in MEDIA_LIBRARY if not playlist.holds_media(preset.id)]
        if name is None or not fresh:
            return []
        preset = self._rng.choice(fresh)
        _, effects = playlist.add(
            media_id=preset.id,
            title=preset.title,
            seconds=preset.seconds,
            media_type=preset.type,
            queueby=name,
            temp=True,
        )
        return effects
