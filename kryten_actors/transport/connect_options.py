"""What a :class:`NatsConfig` means to the NATS client: options, TLS, safe messages.

No nats import here: this module turns configuration into plain keyword arguments
and turns errors into messages that never contain a secret.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

from kryten_actors.config.base import SECRET_MASK
from kryten_actors.config.connection import NatsConfig, TlsConfig, mask_url_credentials
from kryten_actors.errors import KrytenValidationError

__all__ = ["client_options", "connect_failure_message", "redact", "safe_servers", "tls_context"]


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    """A client SSL context verifying the server with ``ca_file`` (or the system CAs)
    and presenting ``cert_file``/``key_file`` when given."""
    try:
        context = ssl.create_default_context(purpose=ssl.Purpose.SERVER_AUTH, cafile=tls.ca_file)
        if tls.cert_file is not None:
            context.load_cert_chain(certfile=tls.cert_file, keyfile=tls.key_file)
    except (OSError, ssl.SSLError) as exc:
        msg = (
            f"cannot load the TLS files of nats.tls ({type(exc).__name__}: {exc}); "
            "check that ca_file, cert_file and key_file exist, are readable and are PEM"
        )
        raise KrytenValidationError(msg, errors=[("nats.tls", str(exc))]) from exc
    return context


def client_options(config: NatsConfig) -> dict[str, Any]:
    """Keyword arguments for nats-py's ``Client.connect`` (callbacks excluded).

    Reconnection is always allowed and unbounded here: the first connect is bounded
    by the caller's overall timeout instead, and ``max_reconnect_attempts`` is
    applied once the first connect succeeded.
    """
    options: dict[str, Any] = {
        "servers": list(config.servers),
        "connect_timeout": config.connect_timeout,
        "reconnect_time_wait": config.reconnect_wait,
        "allow_reconnect": True,
        "max_reconnect_attempts": -1,
        "ping_interval": config.ping_interval,
        "max_outstanding_pings": config.max_outstanding_pings,
        "pending_size": config.pending_bytes,
    }
    if config.name is not None:
        options["name"] = config.name
    if config.user is not None and config.password is not None:
        options["user"] = config.user
        options["password"] = config.password.get_secret_value()
    if config.token is not None:
        options["token"] = config.token.get_secret_value()
    if config.creds_file is not None:
        options["user_credentials"] = config.creds_file
    elif config.nkey_seed_file is not None:
        options["nkeys_seed"] = config.nkey_seed_file
    if config.tls is not None:
        options["tls"] = tls_context(config.tls)
    return options


def safe_servers(config: NatsConfig) -> str:
    """The configured servers, comma-separated, with URL credentials masked."""
    return ", ".join(mask_url_credentials(url) for url in config.servers)


def redact(text: str, config: NatsConfig) -> str:
    """``text`` with every secret of ``config`` (password, token, URL user-info) masked."""
    secrets = [
        secret.get_secret_value()
        for secret in (config.password, config.token)
        if secret is not None and secret.get_secret_value()
    ]
    for url in config.servers:
        masked = mask_url_credentials(url)
        if masked != url:
            text = text.replace(url, masked)
    for secret in secrets:
        text = text.replace(secret, SECRET_MASK)
    return text


def _auth_mode(config: NatsConfig) -> str:
    if config.creds_file is not None:
        return "the creds file (creds_file)"
    if config.nkey_seed_file is not None:
        return "the nkey seed file (nkey_seed_file)"
    if config.token is not None:
        return "the token"
    if config.user is not None:
        return "the user and password"
    in_url = [urlsplit(url).username for url in config.servers]
    if any(in_url):
        # nats://user:password@host or nats://token@host: nats-py sends them
        return "the credentials in the server URL (nats://user:password@host:port)"
    return "whether the server requires credentials (none are configured)"


def connect_failure_message(config: NatsConfig, error: BaseException | None) -> str:
    """Why the first connect failed and what to check, without secrets."""
    cause = "no attempt completed" if error is None else f"{type(error).__name__}: {error}"
    cause = redact(cause, config)
    text = cause.lower()
    if "authorization" in text or "authentication" in text or "permissions" in text:
        hint = f"the server rejected the credentials: check {_auth_mode(config)}"
    elif "ssl" in text or "tls" in text or "certificate" in text:
        hint = "the TLS handshake failed: check nats.tls (ca_file, cert_file, key_file)"
    else:
        hint = (
            "check that nats-server is running and reachable at that address "
            f"(firewall, port), and {_auth_mode(config)}"
        )
    return (
        f"could not connect to NATS at {safe_servers(config)} within "
        f"{config.connect_timeout:g} s (last error: {cause}); {hint}"
    )
