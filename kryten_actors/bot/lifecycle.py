"""BridgeMonitor: follows kryten-robot's lifecycle, announces the bot's own, probes at start.

In the ``kryten-robot`` profile the monitor subscribes to ``kryten.lifecycle.robot.*``
and keeps every channel's :class:`~kryten_actors.bot.bridge.BridgeLink` current: a
``shutdown``/``disconnected`` of the process serving a channel marks it ``down`` (and
its rank unsettled until the rejoin), a ``startup``/``connected`` naming the channel
marks it ``up``. When the bridge starts, the bot re-announces itself (reference §11).

At start (``bridge.probe_on_start``) each channel's bridge is asked, in the background,
which process it is (``system.ping``), the account it uses (``system.config``) and the
stored user list and playlist, so ``username``, ``rank``, ``userlist`` and ``playlist``
are known without waiting for the next rejoin. Probes never block start; a probe that
finds no bridge marks the channel ``down``.

In the ``seed`` profile there is no lifecycle: bridges stay ``unknown`` and nothing is
probed. Every task the monitor starts runs in its own aiojobs scheduler, closed by
:meth:`BridgeMonitor.stop`.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import aiojobs

from kryten_actors.bot.bridge import BridgeState, identity_of, parse_lifecycle
from kryten_actors.errors import KrytenError
from kryten_actors.protocol.commands import StatePlaylist, StateUserlist, SystemConfig, SystemPing
from kryten_actors.protocol.results import (
    BridgeConfigResult,
    PingResult,
    PlaylistResult,
    UserlistResult,
)
from kryten_actors.runtime import sleep_on

if TYPE_CHECKING:
    from kryten_actors.bot.binding import ChannelBinding
    from kryten_actors.config import KrytenConfig
    from kryten_actors.runtime import Clock
    from kryten_actors.transport.base import InboundMessage, Subscription, Transport

__all__ = ["LIFECYCLE_SUBJECT", "BridgeMonitor"]

log = logging.getLogger("kryten_actors.bot.lifecycle")

LIFECYCLE_SUBJECT: Final = "kryten.lifecycle.robot.*"
_DOWN_KINDS: Final = frozenset({"shutdown", "disconnected"})
_UP_KINDS: Final = frozenset({"startup", "connected"})
_PROBES_AT_ONCE: Final = 32


class BridgeMonitor:
    """The lifecycle follower of one bot (see the module docstring)."""

    def __init__(
        self,
        *,
        transport: Transport,
        config: KrytenConfig,
        bindings: Callable[[], Iterable[ChannelBinding]],
        clock: Clock,
        version: str,
    ) -> None:
        self._transport = transport
        self._config = config
        self._bindings = bindings
        self._clock = clock
        self._version = version
        self._active = config.profile == "kryten-robot"
        self._subscription: Subscription | None = None
        self._probes: aiojobs.Scheduler | None = None
        self._background: aiojobs.Scheduler | None = None
        self._started = time.monotonic()
        self.notices = 0

    async def start(self) -> None:
        """Subscribe, announce the bot and start probing (returns at once)."""
        if not self._active:
            return
        self._probes = aiojobs.Scheduler(limit=_PROBES_AT_ONCE, pending_limit=0)
        self._background = aiojobs.Scheduler()
        self._subscription = await self._transport.subscribe(LIFECYCLE_SUBJECT, self._on_message)
        if self._config.bridge.announce:
            await self._announce("startup")
            await self._background.spawn(self._heartbeats())
        if self._config.bridge.probe_on_start:
            for binding in list(self._bindings()):
                await self.probe(binding)

    async def stop(self) -> None:
        """Announce shutdown, stop probing and unsubscribe (idempotent)."""
        for jobs in (self._probes, self._background):
            if jobs is not None:
                await jobs.close()
        self._probes = self._background = None
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            await subscription.unsubscribe()
            if self._config.bridge.announce:
                await self._announce("shutdown", reason="Normal shutdown")

    async def probe(self, binding: ChannelBinding) -> None:
        """Ask the channel's bridge who it is, its account, users and playlist (background)."""
        if self._probes is not None and self._config.bridge.probe_on_start:
            await self._probes.spawn(self._probe(binding))

    # --- incoming lifecycle ----------------------------------------------------------------
    async def _on_message(self, message: InboundMessage) -> None:
        notice = parse_lifecycle(message.subject, message.data)
        if notice is None:
            return
        self.notices += 1
        if notice.kind == "startup" and notice.channel is None and self._config.bridge.announce:
            # a bridge (re)started: services re-announce themselves (reference §11)
            await self._announce("startup")
        if notice.kind in _DOWN_KINDS and notice.identity is not None:
            for binding in self._bindings():
                link = binding.link
                if link.identity is not None and link.identity.same_process(notice.identity):
                    link.mark_down(f"the bridge announced {notice.kind}")
                    binding.join.bridge_restarting()
        elif notice.kind in _UP_KINDS and notice.channel is not None:
            if notice.kind == "connected" and notice.target not in (None, "CyTube"):
                return
            for binding in self._bindings():
                if _serves(binding, notice.domain, notice.channel):
                    binding.link.mark_up(notice.identity)

    # --- probing -----------------------------------------------------------------------------
    async def _probe(self, binding: ChannelBinding) -> None:
        outbox = binding.outbox
        timeout = self._config.bridge.probe_timeout
        try:
            ping = await outbox.query(SystemPing(), timeout=timeout)
            if isinstance(ping, PingResult):
                binding.link.mark_up(identity_of(ping.data))
            config = await outbox.query(SystemConfig(), timeout=timeout)
            username = config.username if isinstance(config, BridgeConfigResult) else None
            users = await outbox.query(StateUserlist(), timeout=timeout)
            playlist = await outbox.query(StatePlaylist(), timeout=timeout)
        except KrytenError as error:
            if binding.link.state == BridgeState.UNKNOWN:
                log.info("probing the bridge of %s: %s", binding.where, error)
            return
        rank = None
        if isinstance(users, UserlistResult):
            binding.state.seed_userlist(users.users)
            own = binding.state.userlist.get(username) if username else None
            rank = own.rank if own is not None else None
        if isinstance(playlist, PlaylistResult):
            binding.state.seed_playlist(playlist.items)
        binding.join.seed(username=username, rank=rank)

    # --- announcing --------------------------------------------------------------------------
    async def _heartbeats(self) -> None:
        interval = self._config.bridge.heartbeat_interval
        while True:
            await sleep_on(self._clock, interval)
            await self._announce("heartbeat")

    async def _announce(self, kind: str, **extra: Any) -> None:
        body = {
            "service": self._config.service_name,
            "version": self._version,
            "hostname": socket.gethostname(),
            "timestamp": datetime.now(UTC).isoformat(),
            "uptime_seconds": round(time.monotonic() - self._started, 3),
            **extra,
        }
        subject = f"kryten.lifecycle.{self._config.service_name}.{kind}"
        try:
            await self._transport.publish(subject, json.dumps(body).encode("utf-8"))
        except KrytenError as error:
            log.info("could not announce %s: %s", kind, error)


def _serves(binding: ChannelBinding, domain: str | None, channel: str) -> bool:
    if binding.channel.lower() != channel.lower():
        return False
    return domain is None or binding.domain == domain
