"""KrytenClient and MockKrytenClient: the seed's decorator-style API over ``Bot``.

Both are thin layers: handlers registered with ``@client.on`` run inside one
supervised ``ChannelActor`` per channel, and commands take the same single
``CommandSender`` path as everything else. The mock differs only in its transport
(in memory) and records exactly what the production encoder produced.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, TypeVar

from kryten_actors.bot.app import Bot
from kryten_actors.bot.channel import ChannelActor
from kryten_actors.bot.commands import ChannelCommands
from kryten_actors.bot.handler_types import event_names_of
from kryten_actors.bot.handlers import WILDCARD, HandlerRegistration, on, run_handlers
from kryten_actors.bot.health import ChannelInfo, HealthStatus
from kryten_actors.config import ChannelConfig, KrytenConfig, load_config
from kryten_actors.errors import KrytenConnectionError, KrytenValidationError
from kryten_actors.protocol.commands import Command
from kryten_actors.protocol.events import RawEvent
from kryten_actors.protocol.results import CommandResult
from kryten_actors.transport.base import Transport

__all__ = ["KrytenClient"]

EventHandler = Callable[[Any], Awaitable[Any]]
H = TypeVar("H", bound=EventHandler)


class _ClientActor(ChannelActor):
    """Runs a client's registered handlers for one channel."""

    client: ClassVar[KrytenClient]

    @classmethod
    def handler_count(cls) -> int:
        return len(cls.client.registrations)

    @on(WILDCARD)
    async def dispatch(self, event: RawEvent) -> None:
        name = event.event_name.lower()
        handlers = [
            r.handler
            for r in self.client.registrations
            if r.matches(name, self.domain, self.channel)
        ]
        if handlers:
            await run_handlers(handlers, event)


def _channel_first(name: str) -> Callable[..., Awaitable[Any]]:
    """``client.NAME(channel, *args, domain=None, **kwargs)`` for a channel helper NAME."""

    async def call(
        self: KrytenClient, channel: str, *args: Any, domain: str | None = None, **kwargs: Any
    ) -> Any:
        return await getattr(self.channel(channel, domain), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``channel({{channel}}).{name}(...)``: see ChannelCommands.{name}."
    return call


#: The channel helpers (``send_chat``, ``kick``…) the client also offers channel-first.
CHANNEL_HELPERS = frozenset(
    name
    for name, value in vars(ChannelCommands).items()
    if not name.startswith("_") and name != "send" and inspect.iscoroutinefunction(value)
)

_CHANNEL_FIRST = {name: _channel_first(name) for name in CHANNEL_HELPERS}


class KrytenClient:
    """The seed's client API: ``@client.on(...)`` handlers and channel-first commands.

    Commands are the channel-bound helpers every actor has (``ChannelCommands``):
    ``client.channel("lounge").send_chat("hi")`` is the channel's own outbox, and the
    seed's channel-first spelling ``client.send_chat("lounge", "hi")`` (every helper,
    with ``domain=`` to choose among channels of one name) delegates to it.

    ::

        client = KrytenClient({"nats": {"servers": ["nats://127.0.0.1:4222"]},
                               "channels": [{"domain": "cytu.be", "channel": "lounge"}]})

        @client.on("chatMsg")
        async def echo(event: ChatMessageEvent) -> None:
            if event.message.startswith("!echo "):
                await client.send_chat(event.channel, event.message[6:])

        await client.run()   # until SIGINT/SIGTERM or client.stop()
    """

    def __init__(
        self,
        config: KrytenConfig | Mapping[str, Any] | str | Path,
        *,
        transport: Transport | None = None,
    ) -> None:
        self.config = load_config(config)
        self.registrations: list[HandlerRegistration] = []
        actor_cls = type("ClientChannelActor", (_ClientActor,), {"client": self})
        self._bot = self._build_bot(actor_cls, transport)

    def _build_bot(self, actor: type[ChannelActor], transport: Transport | None) -> Bot:
        """The ``Bot`` that runs the client's handlers (the test double runs a harness's)."""
        return Bot(self.config, actor=actor, transport=transport)

    @property
    def bot(self) -> Bot:
        """The ``Bot`` underneath (its supervision tree, health and dead letters)."""
        return self._bot

    def on(
        self,
        event_name: str | type[RawEvent],
        channel: str | None = None,
        domain: str | None = None,
    ) -> Callable[[H], H]:
        """Register ``async def handler(event)`` for an event (``"*"`` for all).

        ``event_name`` is a wire name or an event model (``ChatMessageEvent``);
        ``channel``/``domain`` restrict it to one channel; names match case-insensitively.
        """
        names = event_names_of(event_name)
        if not all(isinstance(name, str) and name.strip() for name in names):
            raise KrytenValidationError("client.on() needs an event name, e.g. 'chatMsg'")

        def register(handler: H) -> H:
            is_async: bool = inspect.iscoroutinefunction(handler)
            if not is_async:
                raise KrytenValidationError(
                    f"client.on({names[0]!r}) must decorate an 'async def' function"
                )
            self.registrations.extend(
                HandlerRegistration(str(name).strip().lower(), handler, channel, domain)
                for name in names
            )
            return handler

        return register

    def handler_registrations(self) -> tuple[HandlerRegistration, ...]:
        """The handlers registered with :meth:`on`, in registration order."""
        return tuple(self.registrations)

    # --- lifecycle ---------------------------------------------------------------------
    async def connect(self) -> None:
        """Connect to NATS and start receiving events."""
        await self._bot.start()

    async def disconnect(self) -> None:
        """Drain, flush and disconnect."""
        await self._bot.stop()

    async def __aenter__(self) -> KrytenClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def run(self) -> None:
        """Run until ``stop()``, SIGINT or SIGTERM, then shut down gracefully."""
        await self._bot.run()

    async def stop(self) -> None:
        """Make ``run()`` return (after a graceful shutdown); without ``run()``, disconnect."""
        if not self._bot.request_stop():
            await self._bot.stop()

    @property
    def is_connected(self) -> bool:
        """True while running and connected to NATS."""
        return self._bot.state == "running" and self._bot.transport.is_connected

    @property
    def channels(self) -> list[ChannelInfo]:
        """The configured channels and their state."""
        return self.health().channels

    def health(self) -> HealthStatus:
        """The bot's health report."""
        return self._bot.health()

    @property
    def chat_limit(self) -> int:
        """Longest chat line accepted (``chat_max_length`` of the config)."""
        return self.config.chat_max_length

    # --- commands ----------------------------------------------------------------------
    def channel(self, channel: str, domain: str | None = None) -> ChannelCommands:
        """The command helpers of a configured channel: its outbox, as actors use it."""
        self._require_running()
        ch = self.resolve_channel(channel, domain)
        return self._bot.channel(ch.domain, ch.channel)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        helper = _CHANNEL_FIRST.get(name)
        if helper is not None:
            return functools.partial(helper, self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _require_running(self) -> None:
        if self._bot.state != "running":
            raise KrytenConnectionError("the client is not connected; call connect() first")

    def resolve_channel(self, channel: str, domain: str | None = None) -> ChannelConfig:
        """Find the configured channel named ``channel`` (case-insensitive)."""
        matches = [
            ch
            for ch in self.config.channels
            if ch.channel.lower() == channel.lower() and (domain is None or ch.domain == domain)
        ]
        if not matches:
            known = ", ".join(f"{c.domain}/{c.channel}" for c in self.config.channels) or "none"
            raise KrytenValidationError(
                f"channel {channel!r} is not configured (configured: {known}); add it to "
                "'channels' or use bot.join_channel()"
            )
        if len(matches) > 1:
            raise KrytenValidationError(
                f"channel {channel!r} exists on several domains; pass domain= to choose one"
            )
        return matches[0]

    async def send(
        self, channel: str, command: Command, *, domain: str | None = None
    ) -> CommandResult:
        """Send any command to a configured channel."""
        self._require_running()
        ch = self.resolve_channel(channel, domain)
        return await self._bot.send(command, domain=ch.domain, channel=ch.channel)
