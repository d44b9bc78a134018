"""The bot's channel actors: start, stop and look up one supervised actor per channel."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from kryten_actors.bot.actor_loader import ActorChoice, resolve_actor_class
from kryten_actors.bot.binding import ChannelBinding
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.router import RoutingTable, domain_from_body
from kryten_actors.config import ChannelConfig, KrytenConfig
from kryten_actors.errors import KrytenValidationError
from kryten_actors.runtime import (
    ActorRef,
    ActorStats,
    ActorSystem,
    ChildSpec,
    OverflowPolicy,
    RestartType,
)

if TYPE_CHECKING:
    from kryten_actors.bot.sender import CommandSender
    from kryten_actors.observability.instrumentation import Instrumentation
    from kryten_actors.protocol.subjects import ParsedEventSubject, SubjectScheme
    from kryten_actors.transport.base import InboundMessage

__all__ = ["ChannelActors", "child_name"]

log = logging.getLogger("kryten_actors.bot")


class ChannelActors:
    """Bindings and routing entries of the channels a bot serves.

    A binding (identity, tracked bridge state, counters) outlives the actor
    instances it serves and survives a ``failed`` actor, so ``join_channel`` can
    revive it; the routing table holds the refs the router delivers to.
    """

    def __init__(
        self,
        *,
        config: KrytenConfig,
        actor_choice: ActorChoice,
        system: ActorSystem,
        scheme: SubjectScheme,
        sender: CommandSender,
        instrumentation: Instrumentation,
    ) -> None:
        self._config = config
        self._actor_choice = actor_choice
        self._system = system
        self._scheme = scheme
        self._sender = sender
        self._instrumentation = instrumentation
        self.table = RoutingTable()
        self.bindings: dict[str, ChannelBinding] = {}
        self.handlers_registered = 0
        #: Called with each new binding (the bridge monitor probes its bridge).
        self.on_new_binding: Callable[[ChannelBinding], Awaitable[None]] | None = None

    def check_actor_classes(self) -> None:
        """Resolve every configured channel's actor class (a bad reference fails early)."""
        for ch in self._config.channels:
            resolve_actor_class(self._config, self._actor_choice, ch.domain, ch.channel, ch.actor)

    def binding(self, domain: str, channel: str) -> ChannelBinding | None:
        """The binding of a channel the bot serves (or served), else None."""
        return self.bindings.get(self._scheme.channel_key(domain, channel))

    def stats(self) -> Iterator[tuple[ChannelBinding, ActorStats | None]]:
        """Every binding with its actor's stats (None when its actor is gone)."""
        root = self._system.root
        for binding in self.bindings.values():
            ref = root.child(child_name(binding.domain, binding.channel))
            yield binding, ref.stats() if ref is not None else None

    async def start(
        self, domain: str, channel: str, actor: type[ChannelActor] | str | None
    ) -> ActorRef:
        """Start (or revive) the actor of a channel and route its events to it."""
        # A channel joined at runtime (or first seen on the bus) gets the same checks as a
        # configured one: a subject may carry any token, and must not become an actor.
        ChannelConfig(domain=domain, channel=channel)
        config = self._config
        cls = resolve_actor_class(config, self._actor_choice, domain, channel, actor)
        self.handlers_registered = max(self.handlers_registered, cls.handler_count())
        key = self._scheme.channel_key(domain, channel)
        binding = self.bindings.get(key)
        if binding is None:
            binding = ChannelBinding(
                domain=domain,
                channel=channel,
                key=key,
                sender=self._sender,
                instrumentation=self._instrumentation,
                clock=self._system.clock,
                config=config,
                scheme=self._scheme,
            )
            self.bindings[key] = binding
            self.table.bindings[key] = binding
            if self.on_new_binding is not None:
                await self.on_new_binding(binding)
        ref = await self._system.spawn(
            ChildSpec(
                name=child_name(domain, channel),
                factory=functools.partial(_new_actor, cls, binding),
                restart=RestartType.TRANSIENT,
                shutdown_timeout=config.shutdown_timeout,
                mailbox_capacity=config.mailbox.capacity,
                overflow=OverflowPolicy(config.mailbox.overflow),
                handler_timeout=config.handler_timeout,
            )
        )
        self.table.refs[key] = ref
        return ref

    async def stop(self, domain: str, channel: str) -> None:
        """Stop serving a channel: its mailbox drains, then its actor stops."""
        key = self._scheme.channel_key(domain, channel)
        self.table.refs.pop(key, None)
        self.table.bindings.pop(key, None)
        binding = self.bindings.pop(key, None)
        if binding is not None:
            await self._system.stop_child(child_name(binding.domain, binding.channel))
            await binding.outbox.close(self._config.shutdown_timeout)
            binding.join.close()

    async def close(self, timeout: float) -> None:  # noqa: ASYNC109 - a shutdown deadline
        """Flush every channel's outbox (queued chat lines) and stop its timers."""
        for binding in self.bindings.values():
            await binding.outbox.close(timeout)
            binding.join.close()

    async def start_unknown(
        self, parsed: ParsedEventSubject, message: InboundMessage
    ) -> ActorRef | None:
        """The router's hook for an event of an unserved channel (``spawn_unknown_channels``)."""
        domain = parsed.domain or domain_from_body(message.data)
        if not domain:
            return None
        try:
            return await self.start(domain, parsed.channel, None)
        except KrytenValidationError:
            log.warning("not spawning an actor for unknown channel %r", parsed.channel)
            return None


def _new_actor(cls: type[ChannelActor], binding: ChannelBinding) -> ChannelActor:
    """The supervisor's factory for a channel (a partial: smaller than a closure per channel)."""
    instance = cls()
    instance.bind(binding)
    return instance


def child_name(domain: str, channel: str) -> str:
    """Supervisor child name of a channel actor (its path is ``/root/{domain}:{channel}``)."""
    return f"{domain}:{channel}"
