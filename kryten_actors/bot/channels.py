"""The bot's channel actors: start, stop and look up one supervised actor per channel."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from kryten_actors.bot.actor_loader import ActorChoice, resolve_actor_class
from kryten_actors.bot.actor_source import (
    ActorSource,
    actor_class_of,
    make_actor,
    validate_settings,
)
from kryten_actors.bot.binding import ChannelBinding
from kryten_actors.bot.router import RoutingTable, domain_from_body
from kryten_actors.config import ChannelConfig, KrytenConfig
from kryten_actors.errors import KrytenValidationError
from kryten_actors.runtime import (
    NO_STATE,
    ActorRef,
    ActorState,
    ActorStats,
    ActorSystem,
    Cancellable,
    ChildSpec,
    OverflowPolicy,
    RestartType,
)

if TYPE_CHECKING:
    from kryten_actors.bot.sender import CommandSender
    from kryten_actors.observability.instrumentation import Instrumentation
    from kryten_actors.protocol.subjects import ParsedEventSubject, SubjectScheme

__all__ = ["ChannelActors", "child_name"]

log = logging.getLogger("kryten_actors.bot")


class ChannelActors:
    """Bindings and routing entries of the channels a bot serves.

    A binding (identity, tracked bridge state, counters) outlives the actor
    instances it serves and survives a ``failed`` actor, so ``join_channel`` can
    revive it; the routing table holds the refs the router delivers to.

    With ``passivate_after`` set, configured channels start *passivated* (a binding
    and a routing slot, no actor) and an actor idle that long is passivated again
    (``on_passivate`` runs; what it returns is kept in the slot); the channel's next
    event re-activates it (``on_activate(state)``, or ``on_start`` the first time).
    The binding, and so the tracked bridge state, is kept throughout.
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
        self.on_new_binding: Callable[[ChannelBinding], None] | None = None
        #: Resolved actor class (or factory) per channel key (for re-activation).
        self._classes: dict[str, ActorSource] = {}
        self._entries = {ch.key: ch for ch in config.channels}
        self._passivate_after: float | None = getattr(config, "passivate_after", None)
        self._sweep_timer: Cancellable | None = None
        self._sweep: asyncio.Task[int] | None = None
        self._closed = False
        #: How many times an idle actor was passivated.
        self.passivations = 0

    @property
    def passivated(self) -> int:
        """Channels currently passivated (served, with no actor in memory)."""
        return len(self.table.passive)

    def check_actor_classes(self) -> None:
        """Resolve every configured channel's actor class (a bad reference fails early) and
        validate its ``settings`` by the class's ``settings_model``."""
        for ch in self._config.channels:
            source = resolve_actor_class(
                self._config, self._actor_choice, ch.domain, ch.channel, ch.actor
            )
            cls = actor_class_of(source)
            if cls is not None:
                where = f"{ch.domain}/{ch.channel}"
                validate_settings(cls.settings_model, ch.settings, where)

    def binding(self, domain: str, channel: str) -> ChannelBinding | None:
        """The binding of a channel the bot serves (or served), else None."""
        return self.bindings.get(self._scheme.channel_key(domain, channel))

    def stats(self) -> Iterator[tuple[ChannelBinding, ActorStats | None]]:
        """Every binding with its actor's stats (None when its actor is gone)."""
        root = self._system.root
        for binding in self.bindings.values():
            ref = root.child(child_name(binding.domain, binding.channel))
            yield binding, ref.stats() if ref is not None else None

    def backlog(self) -> str:
        """What is still queued: events in mailboxes, chat lines in outboxes."""
        events = sum(s.mailbox_depth for _, s in self.stats() if s is not None)
        outboxes = (b.existing_outbox() for b in self.bindings.values())
        lines = sum(o.queued for o in outboxes if o is not None)
        return f"{events} queued events and {lines} queued chat lines"

    async def start(self, domain: str, channel: str, actor: ActorSource | str | None) -> ActorRef:
        """Start (or revive) the actor of a channel and route its events to it."""
        key, spec = self._prepare(domain, channel, actor)
        ref = await self._system.spawn(spec)
        self.table.passive.pop(key, None)
        self.table.refs[key] = ref
        return ref

    def add_passive(self, domain: str, channel: str, actor: ActorSource | str | None) -> None:
        """Serve a channel without starting its actor: its first event starts it."""
        self.table.passive[self._bind(domain, channel, actor)] = NO_STATE

    def _prepare(
        self, domain: str, channel: str, actor: ActorSource | str | None
    ) -> tuple[str, ChildSpec]:
        key = self._bind(domain, channel, actor)
        return key, self._spec(self._classes[key], self.bindings[key])

    def _bind(self, domain: str, channel: str, actor: ActorSource | str | None) -> str:
        """The channel's routing key, with its binding and actor class (made if new)."""
        entry = self._entries.get((domain.lower(), channel.lower()))
        if entry is None or entry.domain != domain or entry.channel != channel:
            # A channel joined at runtime (or first seen on the bus) gets the same checks
            # as a configured one: a subject may carry any token, and must not become an
            # actor. (A configured entry was checked with the config.)
            ChannelConfig(domain=domain, channel=channel)
        cls = resolve_actor_class(self._config, self._actor_choice, domain, channel, actor)
        known = actor_class_of(cls)
        if known is not None:
            self.handlers_registered = max(self.handlers_registered, known.handler_count())
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
                config=self._config,
                scheme=self._scheme,
                entry=entry,
            )
            self.bindings[key] = binding
            self.table.bindings[key] = binding
            if self.on_new_binding is not None:
                self.on_new_binding(binding)
        self._classes[key] = cls
        return key

    def _spec(self, cls: ActorSource, binding: ChannelBinding) -> ChildSpec:
        config = self._config
        return ChildSpec(
            name=child_name(binding.domain, binding.channel),
            factory=functools.partial(make_actor, cls, binding),
            restart=RestartType.TRANSIENT,
            shutdown_timeout=config.shutdown_timeout,
            mailbox_capacity=config.mailbox.capacity,
            overflow=OverflowPolicy(config.mailbox.overflow),
            handler_timeout=config.handler_timeout,
            mailbox_max_bytes=config.mailbox.max_bytes,
        )

    def activate(self, key: str, state: Any) -> ActorRef:
        """The router's hook for a passivated channel's event: start its actor now.

        ``on_activate(state)`` (``on_start`` for a channel never started) runs in the
        background; the event waits in the new actor's mailbox.
        """
        binding = self.bindings[key]
        spec = self._spec(self._classes[key], binding)
        ref = self._system.root.start_child_nowait(spec, state=state)
        self.table.refs[key] = ref
        return ref

    async def stop(self, domain: str, channel: str) -> None:
        """Stop serving a channel: its mailbox drains, then its actor stops."""
        key = self._scheme.channel_key(domain, channel)
        self.table.refs.pop(key, None)
        passive = key in self.table.passive
        self.table.passive.pop(key, None)
        self.table.bindings.pop(key, None)
        binding = self.bindings.pop(key, None)
        self._classes.pop(key, None)
        if binding is not None and not passive:
            await self._system.stop_child(child_name(binding.domain, binding.channel))
        if binding is not None:
            await _close_parts(binding, self._config.shutdown_timeout)

    def start_unknown(self, parsed: ParsedEventSubject, data: bytes) -> ActorRef | None:
        """The router's hook for an event of an unserved channel (``spawn_unknown_channels``).

        Synchronous: the actor's ``on_start`` runs in the background and its first
        events wait in its mailbox, so routing never waits for it.
        """
        domain = parsed.domain or domain_from_body(data)
        if not domain:
            return None
        try:
            key, spec = self._prepare(domain, parsed.channel, None)
        except KrytenValidationError:
            log.warning("not spawning an actor for unknown channel %r", parsed.channel)
            return None
        ref = self._system.root.start_child_nowait(spec)
        self.table.refs[key] = ref
        return ref

    # --- passivation ---------------------------------------------------------------------
    def start_passivation(self) -> None:
        """Sweep for idle actors every ``passivate_after / 2`` seconds (system clock)."""
        if self._passivate_after is not None and not self._closed:
            interval = self._passivate_after / 2
            self._sweep_timer = self._system.clock.call_later(interval, self._sweep_due)

    def _sweep_due(self) -> None:
        self._sweep_timer = None
        if self._closed:
            return
        if self._sweep is None or self._sweep.done():
            self._sweep = asyncio.get_running_loop().create_task(self.passivate_idle())
        self.start_passivation()

    async def passivate_idle(self) -> int:
        """Passivate every actor idle for ``passivate_after`` seconds; returns how many."""
        after = self._passivate_after
        if after is None:
            return 0
        cutoff = self._system.clock.now() - after
        root = self._system.root
        done = 0
        for key, ref in list(self.table.refs.items()):
            if self._closed:
                break
            if ref.state is not ActorState.RUNNING or ref.idle_since > cutoff:
                continue

            def keep(state: Any, key: str = key, ref: ActorRef = ref) -> None:
                if self.table.refs.get(key) is ref:
                    del self.table.refs[key]
                    self.table.passive[key] = state

            if await root.passivate_child(ref.name, keep):
                done += 1
        self.passivations += done
        return done

    async def close_outboxes(self, timeout: float) -> None:  # noqa: ASYNC109 - a deadline
        """Flush every channel's outbox (queued chat lines) and stop its timers."""
        for binding in self.bindings.values():
            await _close_parts(binding, timeout)

    async def close(self) -> None:
        """Stop sweeping (the bot is stopping); an ongoing sweep is cancelled."""
        self._closed = True
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
            self._sweep_timer = None
        sweep, self._sweep = self._sweep, None
        if sweep is not None and not sweep.done():
            sweep.cancel()
            await asyncio.wait((sweep,), timeout=1.0)


async def _close_parts(binding: ChannelBinding, timeout: float) -> None:  # noqa: ASYNC109
    """Flush the channel's outbox and stop its join timer (only those it ever made)."""
    outbox = binding.existing_outbox()
    if outbox is not None:
        await outbox.close(timeout)
    join = binding.existing_join()
    if join is not None:
        join.close()


def child_name(domain: str, channel: str) -> str:
    """Supervisor child name of a channel actor (its path is ``/root/{domain}:{channel}``)."""
    return f"{domain}:{channel}"
