"""ChannelActor: the class bot authors subclass, one instance per CyTube channel."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from kryten_actors.bot.actor_source import validate_settings
from kryten_actors.bot.binding import ChannelBinding, EventDelivery, TimerCall
from kryten_actors.bot.chat.dispatch import CommandTable, dispatch_commands
from kryten_actors.bot.commands import ChannelCommands
from kryten_actors.bot.handlers import HandlerRegistration, HandlerTable, run_handlers
from kryten_actors.bot.handling import start_event
from kryten_actors.bot.task_leaks import DETECTOR as _LEAKS
from kryten_actors.bot.task_leaks import owned_tasks
from kryten_actors.errors import KrytenValidationError
from kryten_actors.observability.logs import reset_log_context, set_log_context
from kryten_actors.runtime import Actor, Cancellable

if TYPE_CHECKING:
    import aiojobs
    from pydantic import BaseModel

    from kryten_actors.bot.tracked import Playlist, UserList
    from kryten_actors.protocol.commands import Command
    from kryten_actors.protocol.events import RawEvent
    from kryten_actors.protocol.results import CommandResult

__all__ = ["ChannelActor"]

_T = TypeVar("_T")


class ChannelActor(Actor, ChannelCommands):
    """One CyTube channel's bot logic. Subclass it and mark handlers with ``@on``::

        class Greeter(ChannelActor):
            @on("chatMsg")
            async def greet(self, event: ChatMessageEvent) -> None:
                if event.message == "!hi":
                    await self.send_chat(f"hi {event.username}")

    Events of one channel are handled strictly in order; handlers matching one event
    run concurrently. An exception from a handler is a failure of this actor: its
    supervisor restarts it (with backoff, up to the restart intensity) and the event
    that failed goes to dead letters. A body that cannot be decoded is never a
    failure: it becomes a ``decode_failed`` dead letter.

    Instance state lives as long as the instance (a restart starts afresh, as in
    Erlang); the channel state the bot tracks from CyTube's events — ``username``,
    ``rank``, ``userlist``, ``playlist``, ``current_media`` — survives restarts and is
    current when a handler runs (it is kept at routing time, so it may already include
    events still queued behind the one being handled). Set up state in ``__init__``
    or ``on_start``; ``channel``, ``domain`` and ``settings`` are available from
    ``on_start`` on. ``__init__`` gets what the bot's ``actor=`` gives it: nothing for
    a class, the arguments of a ``partial``, or whatever a factory of the channel's
    binding passes (see :mod:`~kryten_actors.bot.actor_source`).

    ``@command`` methods are chat commands (``!roll 2d6``; see
    :mod:`~kryten_actors.bot.chat`), and ``event.reply(text)`` answers a chat line or
    PM in its channel.

    Chat history CyTube replays when the bridge (re)joins never reaches handlers
    (``replay: skip``, the default), or arrives with ``event.is_replay`` set.
    """

    _handler_table: ClassVar[HandlerTable] = HandlerTable({}, ())
    #: the table's handler functions by event name (the hot path's one dict lookup)
    _handler_functions: ClassVar[Mapping[str, tuple[Callable[..., Awaitable[Any]], ...]]] = {}
    _command_table: ClassVar[CommandTable] = CommandTable([])
    _kryten_chat_commands: ClassVar[Callable[..., Awaitable[None]] | None] = None
    #: A pydantic model validating the channel's ``settings`` (see :attr:`settings`).
    settings_model: ClassVar[type[BaseModel] | None] = None
    _binding: ChannelBinding

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._command_table = CommandTable.collect(cls, reserved=ChannelActor)
        if cls._command_table:
            # chat commands are one more chatMsg/pm handler (classes without them keep
            # the lazy decode of chat they do not handle)
            cls._kryten_chat_commands = dispatch_commands
        cls._handler_table = HandlerTable.collect(cls)
        cls._handler_functions = cls._handler_table.by_event

    # --- identity and tracked bridge state -------------------------------------------
    def bind(self, binding: ChannelBinding) -> None:
        """Attach the channel binding (done by the bot's factory, before ``on_start``)."""
        self._binding = binding

    @property
    def channel(self) -> str:
        """The CyTube channel name, as configured."""
        return self._binding.channel

    @property
    def domain(self) -> str:
        """The CyTube server's domain, as configured (e.g. ``cytu.be``)."""
        return self._binding.domain

    @property
    def rank(self) -> float | None:
        """The bot's own rank in this channel (``rank`` events; -1 while joining), else None."""
        return self._binding.state.rank

    @property
    def username(self) -> str | None:
        """The bridge account's name (``login``, or asked of the bridge at start), else None."""
        return self._binding.state.username

    @property
    def userlist(self) -> UserList:
        """Users in the channel by name (case-insensitive): rank, afk, muted, smuted."""
        return self._binding.state.userlist

    @property
    def playlist(self) -> Playlist:
        """The playlist in play order; ``self.playlist.has(uid)``, ``.by_uid(uid)``."""
        return self._binding.state.playlist

    @property
    def current_media(self) -> Any:
        """The playing media (the last ``changeMedia`` event, uid from ``setCurrent``)."""
        return self._binding.state.current_media

    @property
    def current_uid(self) -> int | None:
        """Playlist uid of the playing item, from the last ``setCurrent`` event."""
        return self._binding.state.current_uid

    @property
    def bridge_state(self) -> str:
        """The bridge serving this channel: ``up``, ``down`` or ``unknown``."""
        return self._binding.link.state

    @property
    def command_prefix(self) -> str:
        """What starts a chat command here: the channel's ``command_prefix``, else the bot's."""
        return self._binding.command_prefix

    @property
    def settings(self) -> Any:
        """The channel's ``settings`` from its config entry: an instance of
        ``settings_model`` when the class declares one (validated once, when the bot is
        built), else the dict as configured (empty for channels without an entry)."""
        b = self._binding
        if b.settings_value is None:
            b.settings_value = validate_settings(self.settings_model, b.settings, b.where)
        return b.settings_value

    @classmethod
    def handler_count(cls) -> int:
        """How many handler methods this class declares."""
        return cls._handler_table.count

    @classmethod
    def handler_registrations(cls) -> tuple[HandlerRegistration, ...]:
        """Which method handles which event, e.g. to check that ``@on`` took effect."""
        return cls._handler_table.registrations(cls)

    # --- commands ----------------------------------------------------------------------
    async def send(self, command: Command) -> CommandResult:
        """Send ``command`` to this channel through its outbox (see ``ChannelOutbox``).

        Chat is paced to CyTube's flood limits and split when long; while the bridge is
        down or the bot rejoins, the command waits (``bridge.*``); a command CyTube
        cannot run is refused before sending, and CyTube's own refusal raises
        ``CommandRejected`` with its text.
        """
        return await self._binding.outbox.send(command)

    @property
    def chat_limit(self) -> int:
        """Longest chat line accepted (``chat_max_length`` of the config)."""
        return self._binding.sender.chat_max_length

    # --- timers ------------------------------------------------------------------------
    def after(self, delay: float, callback: Callable[[], Awaitable[Any]]) -> Cancellable:
        """Call ``await callback()`` once after ``delay`` seconds, in this actor's turn."""
        return self.context.schedule_once(delay, TimerCall(callback))

    def every(self, interval: float, callback: Callable[[], Awaitable[Any]]) -> Cancellable:
        """Call ``await callback()`` every ``interval`` seconds, in this actor's turn.

        Timers are cancelled when the actor stops or restarts; set them up again in
        ``on_start``.
        """
        return self.context.schedule_every(interval, TimerCall(callback))

    def spawn_job(self, coro: Coroutine[Any, Any, _T]) -> aiojobs.Job[_T]:
        """Run ``coro`` in the background, owned by this actor; returns the job.

        Use it instead of ``asyncio.create_task``: the job is cancelled when the actor
        stops or restarts (and so by ``bot.stop()``), and if it raises, that is a failure
        of this actor, reported to its supervisor. (In asyncio debug mode a handler that
        leaves a bare task running is logged once.)
        """
        with owned_tasks():
            return self.context.spawn_job(coro)

    # --- the receive loop --------------------------------------------------------------
    #: Dispatch an event delivery to the ``@on`` handlers, or run a timer callback; any
    #: other message goes to :meth:`on_message`. The bot's hot path itself (no call in
    #: between): an event whose handler does not await is handled right there and None
    #: returned, else the coroutine that does the rest (see ``bot/handling.py``).
    if TYPE_CHECKING:

        def receive(self, message: Any) -> Coroutine[Any, Any, Any] | None: ...

    else:
        receive = start_event

    def _receive_other(self, message: Any) -> Coroutine[Any, Any, Any]:
        """:meth:`receive` for what is not a plain event delivery."""
        if type(message) is EventDelivery:
            if message.ack is not None:
                return self._handle_acked(message)
            return self._handle_watched(message)  # asyncio debug mode only
        if type(message) is TimerCall:
            return self._timer(message)
        return self.on_message(message)

    async def _handle_watched(self, delivery: EventDelivery) -> None:
        with _LEAKS.watch(f"{type(self).__name__} handling {delivery.event!r}"):
            await self._handle(delivery)

    async def _handle_acked(self, delivery: EventDelivery) -> None:
        # delivery: jetstream -- acknowledged once the handlers finished; a failure
        # acknowledges it as a dead letter (EventDelivery.on_dead_letter)
        ack = delivery.ack
        assert ack is not None
        if ack.redelivered and ack.skip(delivery.data):
            return
        await (self._handle_watched(delivery) if _LEAKS.active else self._handle(delivery))
        ack.done(delivery.data)

    async def _timer(self, call: TimerCall) -> Any:
        b = self._binding
        log_token = set_log_context((b.where, self.context.path, None, None))
        try:
            return await call.callback()
        finally:
            reset_log_context(log_token)

    async def on_message(self, message: Any) -> Any:
        """Handle a message that is neither an event nor a timer (``tell``/``ask``).

        The default refuses it with a ``KrytenValidationError`` (an actor failure).
        """
        raise KrytenValidationError(
            f"{type(self).__name__} got an unexpected message {message!r}; "
            "override on_message() to handle your own messages"
        )

    async def _handle(self, delivery: EventDelivery) -> None:
        pending = start_event(self, delivery, True)
        if pending is not None:
            await pending

    async def _run(
        self, functions: tuple[Callable[..., Awaitable[Any]], ...], event: RawEvent
    ) -> None:
        if len(functions) == 1:
            await functions[0](self, event)
        elif functions:
            await run_handlers([functools.partial(f, self) for f in functions], event)
