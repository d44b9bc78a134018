"""kryten-actors: supervised actors for multi-channel CyTube bots over NATS.

Everything a bot author needs is importable from here::

    from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on

The names are imported on first use (PEP 562), so ``import kryten_actors`` stays cheap:
NATS, pydantic models and OpenTelemetry load only when something needs them. To export
a new name, add it to the ``TYPE_CHECKING`` imports, to ``_EXPORTS`` and to ``__all__``
(a test checks that the three agree).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from kryten_actors.bot import (
        ActorHealth,
        Bot,
        ChannelActor,
        ChannelHealth,
        ChannelInfo,
        HandlerRegistration,
        HealthStatus,
        HealthSummary,
        KrytenClient,
        TracingHealth,
        on,
    )
    from kryten_actors.bot.binding import ChannelBinding
    from kryten_actors.bot.chat import (
        ArgumentError,
        CheckFailure,
        CommandContext,
        Commands,
        Cooldown,
        command,
        include,
    )
    from kryten_actors.bot.health_delivery import DeliveryHealth
    from kryten_actors.bot.tracked import ChannelUser, Playlist, UserList
    from kryten_actors.config import (
        BridgeConfig,
        ChannelConfig,
        ChatConfig,
        ControlConfig,
        JetStreamConfig,
        KrytenConfig,
        MailboxConfig,
        MetricsConfig,
        NatsConfig,
        ShardingConfig,
        SupervisionConfig,
        TlsConfig,
        TracingConfig,
        load_config,
    )
    from kryten_actors.errors import (
        BridgeUnavailable,
        ChatQueueFull,
        CommandRejected,
        HandlerError,
        KrytenConnectionError,
        KrytenError,
        KrytenTimeoutError,
        KrytenValidationError,
        MailboxFull,
        NoResponders,
        PublishError,
    )
    from kryten_actors.observability.logs import configure_logging
    from kryten_actors.protocol.commands import COMMANDS, Command, build_command
    from kryten_actors.protocol.events import (
        EVENT_MODELS,
        ChangeMediaEvent,
        ChatMessageEvent,
        ClosePollEvent,
        CooldownEvent,
        DeleteEvent,
        ErrorMessageEvent,
        KickEvent,
        LoginEvent,
        MediaUpdateEvent,
        MoveVideoEvent,
        PlaylistUpdateEvent,
        PollEvent,
        PrivateMessageEvent,
        QueueEvent,
        QueueFailEvent,
        RankEvent,
        RawEvent,
        SetAFKEvent,
        SetCurrentEvent,
        SetLeaderEvent,
        SetMotdEvent,
        SetUserRankEvent,
        UserCountEvent,
        UserJoinEvent,
        UserLeaveEvent,
        UserListEvent,
        decode_event,
    )
    from kryten_actors.protocol.results import (
        AddMediaResult,
        CommandResult,
        EmotesResult,
        MotdResult,
        PlaylistResult,
        UserlistResult,
        UserResult,
    )
    from kryten_actors.protocol.subjects import (
        build_command_subject,
        build_event_subject,
        build_subject,
        parse_subject,
        sanitize_token,
    )
    from kryten_actors.runtime import (
        ActorState,
        ActorStats,
        DeadLetter,
        DeadLetterReason,
        DeadLetters,
        OverflowPolicy,
        VirtualClock,
    )
    from kryten_actors.testing.mock_client import MockKrytenClient

__version__: str
"""The installed distribution's version (from its metadata: ``pyproject.toml`` is the one
place it is written)."""

_EXPORTS: Final[dict[str, tuple[str, ...]]] = {
    "kryten_actors.bot": (
        "ActorHealth",
        "Bot",
        "ChannelActor",
        "ChannelHealth",
        "ChannelInfo",
        "HandlerRegistration",
        "HealthStatus",
        "HealthSummary",
        "KrytenClient",
        "TracingHealth",
        "on",
    ),
    "kryten_actors.bot.binding": ("ChannelBinding",),
    "kryten_actors.bot.chat": (
        "ArgumentError",
        "CheckFailure",
        "CommandContext",
        "Commands",
        "Cooldown",
        "command",
        "include",
    ),
    "kryten_actors.bot.health_delivery": ("DeliveryHealth",),
    "kryten_actors.bot.tracked": ("ChannelUser", "Playlist", "UserList"),
    "kryten_actors.config": (
        "BridgeConfig",
        "ChannelConfig",
        "ChatConfig",
        "ControlConfig",
        "JetStreamConfig",
        "KrytenConfig",
        "MailboxConfig",
        "MetricsConfig",
        "NatsConfig",
        "ShardingConfig",
        "SupervisionConfig",
        "TlsConfig",
        "TracingConfig",
        "load_config",
    ),
    "kryten_actors.errors": (
        "BridgeUnavailable",
        "ChatQueueFull",
        "CommandRejected",
        "HandlerError",
        "KrytenConnectionError",
        "KrytenError",
        "KrytenTimeoutError",
        "KrytenValidationError",
        "MailboxFull",
        "NoResponders",
        "PublishError",
    ),
    "kryten_actors.observability.logs": ("configure_logging",),
    "kryten_actors.protocol.commands": ("COMMANDS", "Command", "build_command"),
    "kryten_actors.protocol.events": (
        "EVENT_MODELS",
        "ChangeMediaEvent",
        "ChatMessageEvent",
        "ClosePollEvent",
        "CooldownEvent",
        "DeleteEvent",
        "ErrorMessageEvent",
        "KickEvent",
        "LoginEvent",
        "MediaUpdateEvent",
        "MoveVideoEvent",
        "PlaylistUpdateEvent",
        "PollEvent",
        "PrivateMessageEvent",
        "QueueEvent",
        "QueueFailEvent",
        "RankEvent",
        "RawEvent",
        "SetAFKEvent",
        "SetCurrentEvent",
        "SetLeaderEvent",
        "SetMotdEvent",
        "SetUserRankEvent",
        "UserCountEvent",
        "UserJoinEvent",
        "UserLeaveEvent",
        "UserListEvent",
        "decode_event",
    ),
    "kryten_actors.protocol.results": (
        "AddMediaResult",
        "CommandResult",
        "EmotesResult",
        "MotdResult",
        "PlaylistResult",
        "UserlistResult",
        "UserResult",
    ),
    "kryten_actors.protocol.subjects": (
        "build_command_subject",
        "build_event_subject",
        "build_subject",
        "parse_subject",
        "sanitize_token",
    ),
    "kryten_actors.testing.mock_client": ("MockKrytenClient",),
    "kryten_actors.runtime": (
        "ActorState",
        "ActorStats",
        "DeadLetter",
        "DeadLetterReason",
        "DeadLetters",
        "OverflowPolicy",
        "VirtualClock",
    ),
}
_MODULE_OF: Final = {name: module for module, names in _EXPORTS.items() for name in names}
_DISTRIBUTION: Final = "kryten-actors"


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - lazy

    try:
        return version(_DISTRIBUTION)
    except PackageNotFoundError:  # a bare source tree on sys.path, never installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> object:
    """Import a public name on first use and keep it, so later lookups are plain."""
    if name == "__version__":
        value: object = _installed_version()
    else:
        module = _MODULE_OF.get(name)
        if module is None:
            raise AttributeError(f"module 'kryten_actors' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})


__all__ = [  # noqa: RUF022 - plain sorted order, which a test checks
    "ActorHealth",
    "ActorState",
    "ActorStats",
    "AddMediaResult",
    "ArgumentError",
    "Bot",
    "BridgeConfig",
    "BridgeUnavailable",
    "COMMANDS",
    "ChangeMediaEvent",
    "ChannelActor",
    "ChannelBinding",
    "ChannelConfig",
    "ChannelHealth",
    "ChannelInfo",
    "ChannelUser",
    "ChatConfig",
    "ChatMessageEvent",
    "ChatQueueFull",
    "CheckFailure",
    "ClosePollEvent",
    "Command",
    "CommandContext",
    "CommandRejected",
    "CommandResult",
    "Commands",
    "ControlConfig",
    "Cooldown",
    "CooldownEvent",
    "DeadLetter",
    "DeadLetterReason",
    "DeadLetters",
    "DeleteEvent",
    "DeliveryHealth",
    "EVENT_MODELS",
    "EmotesResult",
    "ErrorMessageEvent",
    "HandlerError",
    "HandlerRegistration",
    "HealthStatus",
    "HealthSummary",
    "JetStreamConfig",
    "KickEvent",
    "KrytenClient",
    "KrytenConfig",
    "KrytenConnectionError",
    "KrytenError",
    "KrytenTimeoutError",
    "KrytenValidationError",
    "LoginEvent",
    "MailboxConfig",
    "MailboxFull",
    "MediaUpdateEvent",
    "MetricsConfig",
    "MockKrytenClient",
    "MotdResult",
    "MoveVideoEvent",
    "NatsConfig",
    "NoResponders",
    "OverflowPolicy",
    "Playlist",
    "PlaylistResult",
    "PlaylistUpdateEvent",
    "PollEvent",
    "PrivateMessageEvent",
    "PublishError",
    "QueueEvent",
    "QueueFailEvent",
    "RankEvent",
    "RawEvent",
    "SetAFKEvent",
    "SetCurrentEvent",
    "SetLeaderEvent",
    "SetMotdEvent",
    "SetUserRankEvent",
    "ShardingConfig",
    "SupervisionConfig",
    "TlsConfig",
    "TracingConfig",
    "TracingHealth",
    "UserCountEvent",
    "UserJoinEvent",
    "UserLeaveEvent",
    "UserList",
    "UserListEvent",
    "UserResult",
    "UserlistResult",
    "VirtualClock",
    "build_command",
    "build_command_subject",
    "build_event_subject",
    "build_subject",
    "command",
    "configure_logging",
    "decode_event",
    "include",
    "load_config",
    "on",
    "parse_subject",
    "sanitize_token",
]
