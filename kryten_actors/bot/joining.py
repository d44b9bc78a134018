"""The join sequence of one channel: which chat lines are replayed history, when the rank settles.

On every (re)join CyTube sends the bridge ``rank -1``, then replays its recent chat
buffer as ordinary ``chatMsg`` events, then ``rank`` (the account's site rank),
``login``, and — for an account with a channel rank — ``rank`` again with the channel
rank and the user list with the bot in it. :class:`JoinTracker` follows that sequence:

* chat lines after ``rank -1`` and before the join data that CyTube sends right after
  the chat buffer (``drinkCount``, ``channelCSSJS``, ``setMotd``, ``channelOpts``,
  ``playlist``, ``userlist``…; CyTube's module order in ``onUserPostJoin``) are
  **replays**. This holds whichever comes first, the join data or ``login`` (CyTube
  3.86 does not order them; the bridge joins first, so ``login`` usually comes after);
* the rank is **settled** once a rank seen after login equals the rank known before
  the rejoin, or the bot's own user entry arrives (``userlist``/``setUserRank``), or
  ``settle_delay`` seconds pass without another ``rank`` event. A bridge logged in as a
  guest gets no rank after ``login {guest: true}``: that login settles it (rank 0).
  Until then commands wait rather than being refused on a transient rank.

A bridge restart announced on the lifecycle subjects starts the same wait.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from kryten_actors.protocol.events import (
    LoginEvent,
    RankEvent,
    RawEvent,
    SetUserRankEvent,
    UserListEvent,
)

if TYPE_CHECKING:
    from kryten_actors.bot.tracked import ChannelState
    from kryten_actors.runtime import Cancellable, Clock

__all__ = ["JOIN_EVENTS", "START_SECONDS", "JoinTracker"]

#: How long after a channel starts chat lines are also checked by age (see ``tap``).
START_SECONDS = 10.0

#: Join data CyTube sends after the chat buffer (modules after ``chat`` in 3.86's order).
AFTER_HISTORY = frozenset(
    {
        "drinkcount",
        "channelcssjs",
        "setmotd",
        "channelopts",
        "setplaylistmeta",
        "playlist",
        "userlist",
        "usercount",
    }
)
JOIN_EVENTS = frozenset({"rank", "login", "setuserrank"}) | AFTER_HISTORY
"""Lowercased names of the events :meth:`JoinTracker.observe` follows (besides chat)."""


class JoinTracker:
    """Replay window and rank settling of one channel (fed in event order).

    It reads the bot's name and rank from the channel's :class:`ChannelState`, which
    sees every event just before this tracker does.
    """

    __slots__ = (
        "_clock",
        "_settle_delay",
        "_settled",
        "_state",
        "_timer",
        "in_replay_window",
        "logged_in",
        "rejoining",
        "settled_rank",
        "start_until",
    )

    def __init__(
        self,
        state: ChannelState,
        clock: Clock,
        *,
        settle_delay: float,
        check_start: bool = True,
        started_at: float | None = None,
    ) -> None:
        self._state = state
        self._clock = clock
        self._settle_delay = settle_delay
        self._timer: Cancellable | None = None
        self._settled: asyncio.Event | None = None
        #: End of the start-up period whose chat is checked for replay by age; None once
        #: it is over (a plain attribute: the router reads it for every chat line)
        # (counted from ``started_at``, when the channel started; made later, the tracker
        # must not open a fresh window at the channel's first event)
        start = clock.now() if started_at is None else started_at
        self.start_until: float | None = start + START_SECONDS if check_start else None
        self.in_replay_window = False
        self.rejoining = False
        self.logged_in = False
        self.settled_rank: float | None = None

    # --- what the channel's events say -------------------------------------------------
    def closes_history(self, name: str) -> None:
        """An event of this (lowercased) name ends the replay window if it is join data."""
        if name in AFTER_HISTORY:
            self.in_replay_window = False

    def observe(self, event: RawEvent) -> None:
        """Follow one decoded event of the join sequence."""
        self.closes_history(event.event_name.lower())
        if isinstance(event, RankEvent):
            self._on_rank(float(event.payload))
        elif isinstance(event, LoginEvent):
            self.logged_in = bool(event.payload.success)
            if self.logged_in and event.payload.guest and self.rejoining:
                # a guest gets ``rank 0`` before login and no rank after it (CyTube 3.86:
                # ``rank -1, rank 0, login {guest: true}``): its rank is settled now
                rank = self._state.rank
                self._settle(rank if rank is not None and rank >= 0 else 0.0)
        elif isinstance(event, UserListEvent):
            if self.logged_in and self.rejoining:
                for user in event.payload:
                    if self._is_own(user.name):
                        self._settle(float(user.rank))
                        break
        elif (
            isinstance(event, SetUserRankEvent)
            and self._is_own(event.payload.name)
            and self.logged_in
            and self.rejoining
        ):
            self._settle(float(event.payload.rank))

    def bridge_restarting(self) -> None:
        """The bridge announced a (re)start: the rank is not settled until it rejoins."""
        self._unsettle()

    def seed(self, *, username: str | None, rank: float | None) -> None:
        """What the bridge reported at start (probe): taken unless events said more already."""
        state = self._state
        if username and state.username is None:
            state.username = username
            self.logged_in = True
        if rank is not None and not self.rejoining and state.rank is None:
            state.rank = self.settled_rank = rank

    def start_checked(self) -> None:
        """The start-up period is over for this channel (a fresh chat line was seen)."""
        self.start_until = None

    def starting(self, now: float) -> bool:
        """True in the channel's first ``START_SECONDS`` (before any join was seen)."""
        until = self.start_until
        if until is None or now > until:
            self.start_until = None
            return False
        return True

    # --- what senders ask ----------------------------------------------------------------
    @property
    def settled(self) -> bool:
        """False while a (re)join is under way and the rank may still change."""
        return not self.rejoining

    async def wait_settled(self, timeout: float) -> bool:  # noqa: ASYNC109 - bounded by config
        """Wait until the rank settles; False if it did not within ``timeout`` seconds."""
        if not self.rejoining:
            return True
        if self._settled is None:
            self._settled = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                await self._settled.wait()
        except TimeoutError:
            return False
        return True

    # --- internals -----------------------------------------------------------------------
    def _on_rank(self, rank: float) -> None:
        self.start_until = None  # a join of our own: the sequence decides from now on
        if rank < 0:
            self._unsettle()
            self.in_replay_window = True
            self.logged_in = False
            return
        if not self.rejoining:
            self.settled_rank = rank
            return
        if not self.logged_in:
            return  # a rank before login is the account's site rank; wait for login
        if self.settled_rank is not None and rank == self.settled_rank:
            self._settle(rank)
            return
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._clock.call_later(self._settle_delay, self._settle_on_timer)

    def _settle_on_timer(self) -> None:
        self._timer = None
        rank = self._state.rank
        if self.rejoining and self.logged_in and rank is not None and rank >= 0:
            self._settle(rank)

    def _settle(self, rank: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._state.rank = self.settled_rank = rank
        self.rejoining = False
        if self._settled is not None:
            self._settled.set()
            self._settled = None

    def _unsettle(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.rejoining = True

    def _is_own(self, name: str) -> bool:
        own = self._state.username
        return own is not None and name.lower() == own.lower()

    def close(self) -> None:
        """Cancel the settle timer (the channel stops)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
