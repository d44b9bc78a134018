"""One CyTube channel the bot joins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_serializer, field_validator

from kryten_actors.config.base import SECRET_MASK, ActorPath, ConfigModel, NonEmptyStr
from kryten_actors.protocol.subjects import is_valid_channel_name

__all__ = ["ChannelConfig", "CommandPrefix", "mask_secret_settings"]

_SECRET_WORDS = ("password", "passwd", "secret", "token", "apikey", "api_key", "credential")
_NESTING = 20  # deeper settings are shown masked whole


def mask_secret_settings(value: Any, depth: int = 0) -> Any:
    """``value`` with every entry whose key names a secret (password, token, secret,
    API key, credential) replaced by the mask, at any depth."""
    if depth > _NESTING:
        return SECRET_MASK
    if isinstance(value, dict):
        return {
            key: SECRET_MASK
            if any(word in str(key).lower() for word in _SECRET_WORDS)
            else mask_secret_settings(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask_secret_settings(item, depth + 1) for item in value]
    return value


#: What starts a chat command (``!`` in ``!roll``): 1-10 characters, no spaces.
CommandPrefix = Annotated[str, StringConstraints(min_length=1, max_length=10, pattern=r"^\S+$")]

_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::[0-9]{{1,5}})?$")


class ChannelConfig(ConfigModel):
    """A channel on a CyTube server: ``domain`` (host name, e.g. ``cytu.be``), ``channel``
    (a CyTube channel name, ``[A-Za-z0-9_-]{1,30}``) and, optionally, the ``actor``
    (``"module:Class"``) that handles it instead of the top-level ``actor``, the
    ``command_prefix`` of its chat commands instead of the top-level one, and
    ``settings`` for its actor (``self.settings``; validated by the actor's
    ``settings_model`` when it declares one). Dumps and displays (``check``, health,
    logs) mask settings whose key names a secret (``api_token``, ``password``…); the
    actor gets them as written.

    Names are case-insensitive when channels are compared for uniqueness.
    """

    domain: NonEmptyStr
    channel: str
    actor: ActorPath | None = None
    command_prefix: CommandPrefix | None = None
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_serializer("settings")
    def _settings_masked(self, settings: dict[str, Any]) -> Any:
        return mask_secret_settings(settings)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, mask_secret_settings(value) if name == "settings" else value

    @field_validator("domain")
    @classmethod
    def _domain_is_a_host(cls, value: str) -> str:
        if "://" in value or "/" in value:
            raise ValueError("give the host name only (for example 'cytu.be'), not a URL")
        if _DOMAIN.fullmatch(value) is None:
            raise ValueError(
                "must be a host name such as 'cytu.be' or 'localhost:8080' "
                "(letters, digits, '-', '_' and dots; an optional :port)"
            )
        return value

    @field_validator("channel")
    @classmethod
    def _channel_is_a_cytube_name(cls, value: str) -> str:
        if not is_valid_channel_name(value):
            raise ValueError(
                f"{value!r} is not a valid CyTube channel name; use 1-30 letters, "
                "digits, '_' or '-' (the part after /r/ in the channel URL)"
            )
        return value

    @property
    def key(self) -> tuple[str, str]:
        """``(domain, channel)`` lowercased: what makes two channels the same."""
        return self.domain.lower(), self.channel.lower()
