"""The whole configuration of a bot, and every way to load it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError, ValidationInfo, field_validator

from kryten_actors.config.base import ActorPath, ConfigModel, PositiveFloat, PositiveInt
from kryten_actors.config.bridge import BridgeConfig, ChatConfig, ReplayPolicy
from kryten_actors.config.channel import ChannelConfig, CommandPrefix
from kryten_actors.config.connection import NatsConfig
from kryten_actors.config.control import ControlConfig
from kryten_actors.config.environment import substitute_environment
from kryten_actors.config.jetstream import DeliveryMode, JetStreamConfig
from kryten_actors.config.logs import LogFormat, LogLevelName
from kryten_actors.config.mailbox import MailboxConfig
from kryten_actors.config.source import read_json, read_yaml
from kryten_actors.config.supervision import SupervisionConfig
from kryten_actors.config.telemetry import MetricsConfig, TracingConfig
from kryten_actors.config.validation import ROOT_PATH, config_error, field_error

__all__ = ["ConfigSource", "KrytenConfig", "Profile", "load_config"]

Profile = Literal["seed", "kryten-robot"]
ServiceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")]


class KrytenConfig(ConfigModel):
    """Everything a bot needs: NATS, channels, subject profile, runtime and telemetry.

    Frozen and closed: unknown keys are errors. Build it with :meth:`from_yaml`,
    :meth:`from_json`, :meth:`from_dict` or :func:`load_config`; they all expand
    ``${VAR}`` references and raise only :class:`KrytenValidationError`.

    ``profile`` picks the subject scheme (``seed``: the seed's ``cytube.*`` subjects;
    ``kryten-robot``: the real bridge's ``kryten.*`` subjects, which carry no domain).
    Publishes are tried ``retry_attempts`` times, waiting ``retry_initial_backoff``
    seconds and doubling. A command waits ``command_timeout`` seconds for the bridge's
    reply; event bodies over ``max_event_bytes`` are dead-lettered as ``oversized``;
    chat over ``chat_max_length`` characters is refused. ``service_name`` is stamped
    into commands as ``source``, names the NATS micro service and is the tracing
    ``service.name`` unless ``tracing.service_name`` overrides it. ``actor``
    (``"module:Class"``) handles every channel without an ``actor`` of its own;
    ``spawn_unknown_channels`` starts that actor for events from unlisted channels, up to
    ``max_channels`` channel actors in all (later unknown channels are counted as foreign).
    ``control`` enables the NATS control endpoint (restart/stop/join/leave a channel).

    ``bridge`` sets how commands behave while a channel's bridge is down or rejoining;
    ``chat`` paces chat lines to CyTube's flood limits. Chat history that CyTube replays
    on a (re)join is marked ``is_replay`` and, with ``replay: skip`` (the default), never
    reaches handlers. After the bridge accepts a command, the bot listens
    ``outcome_window`` seconds for CyTube's refusal of it (``CommandRejected``).
    ``passivate_after`` (seconds, off by default) passivates channel actors idle that
    long and starts configured channels passivated (see docs/concepts.md). ``gc_freeze``
    (on by default) keeps the objects alive once the bot has started out of CPython's
    full garbage collections until it stops (see docs/deployment.md).
    ``log_level``/``log_format`` apply when ``Bot.run()`` sets up logging (the application
    did not); ``publish_dead_letters`` publishes each dead letter on
    ``kryten.deadletters.{service_name}.{channel}``; ``profile_check_after`` is how long
    the bot waits for its first event before looking for the other profile's events
    (``null``: never). ``delivery`` is ``core`` (events published while the bot is
    down are lost) or ``jetstream`` (durable consumers over a stream, acknowledged after
    the handlers ran, redelivered after a crash; set up by ``jetstream``).
    """

    nats: NatsConfig = Field(default_factory=NatsConfig)
    # Declared before `channels` so the channel check below can see the profile.
    profile: Profile = "seed"
    channels: list[ChannelConfig] = Field(default_factory=list)
    retry_attempts: int = Field(default=3, ge=1)
    retry_initial_backoff: PositiveFloat = 0.1
    handler_timeout: PositiveFloat = 30.0
    shutdown_timeout: PositiveFloat = 10.0
    mailbox: MailboxConfig = Field(default_factory=MailboxConfig)
    supervision: SupervisionConfig = Field(default_factory=SupervisionConfig)
    tracing: TracingConfig = Field(default_factory=TracingConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    control: ControlConfig = Field(default_factory=ControlConfig)
    spawn_unknown_channels: bool = False
    max_channels: PositiveInt = 10_000
    service_name: ServiceName = "kryten-actors"
    actor: ActorPath | None = None
    command_timeout: PositiveFloat = 10.0
    max_event_bytes: PositiveInt = 1024 * 1024
    chat_max_length: PositiveInt = 320
    #: What starts a chat command (``!roll``); a channel's own ``command_prefix`` wins.
    command_prefix: CommandPrefix = "!"
    bridge: BridgeConfig = Field(default_factory=BridgeConfig)
    chat: ChatConfig = Field(default_factory=ChatConfig)
    replay: ReplayPolicy = "skip"
    outcome_window: PositiveFloat = 1.0
    passivate_after: PositiveFloat | None = None
    gc_freeze: bool = True
    log_level: LogLevelName | None = None
    log_format: LogFormat = "text"
    publish_dead_letters: bool = False
    profile_check_after: PositiveFloat | None = 30.0
    delivery: DeliveryMode = "core"
    jetstream: JetStreamConfig = Field(default_factory=JetStreamConfig)

    @field_validator("channels")
    @classmethod
    def _channels_are_distinct(
        cls, channels: list[ChannelConfig], info: ValidationInfo
    ) -> list[ChannelConfig]:
        seen: dict[tuple[str, str], int] = {}
        by_name: dict[str, int] = {}
        # A kryten-robot subject names only the channel, so two domains cannot share one.
        domainless = info.data.get("profile") == "kryten-robot"
        for index, channel in enumerate(channels):
            if channel.key in seen:
                raise field_error(
                    f"duplicates channels.{seen[channel.key]} "
                    f"({channel.domain}/{channel.channel}); list each channel once",
                    index,
                    "channel",
                )
            name = channel.channel.lower()
            if domainless and name in by_name:
                first = channels[by_name[name]]
                raise field_error(
                    f"channel name {channel.channel!r} is also used on {first.domain} "
                    f"(channels.{by_name[name]}); the kryten-robot profile's subjects carry "
                    "no domain, so events of the two could not be told apart — rename one "
                    "or run a bot per domain",
                    index,
                    "channel",
                )
            seen[channel.key] = index
            by_name.setdefault(name, index)
        return channels

    @property
    def effective_service_name(self) -> str:
        """The OTel ``service.name``: ``tracing.service_name`` or else ``service_name``."""
        return self.tracing.service_name or self.service_name

    def display_dict(self) -> dict[str, Any]:
        """A JSON-able dump for showing to people: secrets (and URL passwords) masked."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> KrytenConfig:
        """Validate ``data`` after expanding ``${VAR}`` references from the environment.

        ``source`` (a file name) only appears in the error message. Raises
        :class:`KrytenValidationError` listing every problem with its dotted path.
        """
        what = "configuration" + (f" in {source}" if source else "")
        raw: object = data  # callers without type checking may pass anything
        if not isinstance(raw, Mapping):
            problem = f"must be a mapping of settings, not {type(raw).__name__}"
            raise config_error([(ROOT_PATH, problem)], what)
        expanded = substitute_environment(raw, what=what)
        try:
            return cls.model_validate(expanded)
        except ValidationError as exc:
            error = config_error(exc, what)
        # Raised here, not in the except block, so pydantic's error is not chained.
        raise error

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> KrytenConfig:
        """Load a JSON file; see :meth:`from_dict`."""
        return cls._from_document(read_json(path), path)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> KrytenConfig:
        """Load a YAML file; see :meth:`from_dict`."""
        return cls._from_document(read_yaml(path), path)

    @classmethod
    def _from_document(cls, document: object, path: str | os.PathLike[str]) -> KrytenConfig:
        if document is None:
            document = {}  # an empty file means "all defaults"
        if not isinstance(document, Mapping):
            problem = f"the document must be a mapping of settings, not {type(document).__name__}"
            raise config_error([(ROOT_PATH, problem)], f"configuration in {path}")
        return cls.from_dict(document, source=str(path))


ConfigSource = KrytenConfig | Mapping[str, Any] | str | os.PathLike[str]

_READERS = {
    ".json": KrytenConfig.from_json,
    ".yaml": KrytenConfig.from_yaml,
    ".yml": KrytenConfig.from_yaml,
}


def load_config(source: ConfigSource) -> KrytenConfig:
    """A :class:`KrytenConfig` from a config, a plain mapping, or a ``.json``/``.yaml``/``.yml``
    file path. Every API that takes a config accepts any of these through this function.

    Raises only :class:`KrytenValidationError`.
    """
    raw: object = source  # callers without type checking may pass anything
    if isinstance(raw, KrytenConfig):
        return raw
    if isinstance(raw, Mapping):
        return KrytenConfig.from_dict(raw)
    if isinstance(raw, str | os.PathLike):
        path = Path(raw)
        reader = _READERS.get(path.suffix.lower())
        if reader is None:
            problem = "unsupported file type; name the file *.yaml, *.yml or *.json"
            raise config_error([(str(path), problem)], f"configuration file {path}")
        return reader(path)
    problem = (
        f"cannot load a configuration from {type(raw).__name__}; pass a KrytenConfig, "
        "a mapping, or a path to a .yaml/.json file"
    )
    raise config_error([(ROOT_PATH, problem)])
