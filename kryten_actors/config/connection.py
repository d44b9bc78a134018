"""How to reach NATS: servers, credentials, TLS, reconnection and buffer limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator, Field, SecretStr, field_serializer, model_validator

from kryten_actors.config.base import (
    SECRET_MASK,
    ConfigModel,
    NonEmptyStr,
    PositiveFloat,
    PositiveInt,
)
from kryten_actors.config.validation import field_error

__all__ = ["NatsConfig", "TlsConfig", "mask_url_credentials"]

_SCHEMES = frozenset({"nats", "tls"})


def _check_server(url: str) -> str:
    # The URL is never echoed: it may carry user:password.
    hint = "use a URL such as nats://127.0.0.1:4222 or tls://nats.example.com:4222"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ValueError(f"must not contain whitespace or control characters; {hint}")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        raise ValueError(f"is not a valid URL; {hint}") from None
    if "://" not in url or parts.scheme not in _SCHEMES:
        raise ValueError(f"must start with nats:// or tls://; {hint}")
    if not parts.hostname:
        raise ValueError(f"has no host; {hint}")
    return url


def mask_url_credentials(url: str) -> str:
    """``url`` with any password (or lone token) in its user-info replaced by the mask."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, sep, _ = userinfo.partition(":")
    masked = f"{user}:{SECRET_MASK}" if sep else SECRET_MASK
    return urlunsplit(parts._replace(netloc=f"{masked}@{host}"))


ServerUrl = Annotated[str, AfterValidator(_check_server)]


class TlsConfig(ConfigModel):
    """TLS material for ``tls://`` servers (paths are checked when connecting).

    ``ca_file`` verifies the server; ``cert_file`` + ``key_file`` (always together)
    authenticate the client.
    """

    ca_file: NonEmptyStr | None = None
    cert_file: NonEmptyStr | None = None
    key_file: NonEmptyStr | None = None

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> TlsConfig:
        if self.cert_file is not None and self.key_file is None:
            raise field_error("required when cert_file is set; give the client key", "key_file")
        if self.key_file is not None and self.cert_file is None:
            raise field_error(
                "required when key_file is set; give the client certificate", "cert_file"
            )
        return self


class NatsConfig(ConfigModel):
    """Connection settings handed to the NATS client.

    Authentication: either ``user`` + ``password`` (together), or ``token`` (alone), or
    a ``creds_file`` / ``nkey_seed_file``; none for an open server. ``password`` and
    ``token`` are :class:`~pydantic.SecretStr` — call ``.get_secret_value()`` only
    where the value is handed to the client. A password embedded in a server URL is
    masked in ``repr()`` and JSON dumps too.

    ``max_reconnect_attempts`` -1 retries forever. ``pending_bytes`` bounds what is
    buffered for publishing while reconnecting; ``sub_pending_msgs_limit`` and
    ``sub_pending_bytes_limit`` bound each subscription before it counts as a slow
    consumer.
    """

    servers: list[ServerUrl] = Field(
        default_factory=lambda: ["nats://127.0.0.1:4222"], min_length=1
    )
    user: NonEmptyStr | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    creds_file: NonEmptyStr | None = None
    nkey_seed_file: NonEmptyStr | None = None
    tls: TlsConfig | None = None
    name: NonEmptyStr | None = None
    connect_timeout: PositiveFloat = 5.0
    reconnect_wait: PositiveFloat = 2.0
    max_reconnect_attempts: int = Field(default=-1, ge=-1)
    pending_bytes: PositiveInt = 2 * 1024 * 1024
    sub_pending_msgs_limit: PositiveInt = 512 * 1024
    sub_pending_bytes_limit: PositiveInt = 128 * 1024 * 1024
    ping_interval: PositiveFloat = 20.0
    max_outstanding_pings: PositiveInt = 3

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> NatsConfig:
        for secret in ("password", "token"):
            value: SecretStr | None = getattr(self, secret)
            if value is not None and not value.get_secret_value():
                raise field_error("must not be empty", secret)
        if self.token is not None and (self.user is not None or self.password is not None):
            raise field_error(
                "cannot be combined with user/password; use one or the other", "token"
            )
        if self.user is not None and self.password is None:
            raise field_error("required when user is set", "password")
        if self.password is not None and self.user is None:
            raise field_error("required when password is set", "user")
        return self

    @field_serializer("servers")
    def _servers_masked(self, servers: list[str]) -> list[str]:
        # Dumps (Python and JSON) mask URL passwords, as SecretStr fields mask theirs;
        # the connection reads ``self.servers`` itself, never a dump.
        return [mask_url_credentials(url) for url in servers]

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name == "servers":
                yield name, [mask_url_credentials(url) for url in self.servers]
            else:
                yield name, value
