"""NatsConfig → nats-py options; messages never carry secrets; TLS end to end."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from kryten_actors.config.connection import NatsConfig, TlsConfig
from kryten_actors.errors import KrytenValidationError
from kryten_actors.transport.connect_options import (
    client_options,
    connect_failure_message,
    redact,
)
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.transport.inbox import Inbox


def test_plain_options_follow_the_config() -> None:
    config = NatsConfig(
        servers=["nats://a:4222", "nats://b:4222"],
        name="bot",
        connect_timeout=3.0,
        reconnect_wait=0.5,
        max_reconnect_attempts=7,
        pending_bytes=1000,
        ping_interval=9.0,
        max_outstanding_pings=4,
    )
    options = client_options(config)
    assert options["servers"] == ["nats://a:4222", "nats://b:4222"]
    assert options["name"] == "bot"
    assert options["connect_timeout"] == 3.0
    assert options["reconnect_time_wait"] == 0.5
    assert options["pending_size"] == 1000
    assert options["ping_interval"] == 9.0
    assert options["max_outstanding_pings"] == 4
    # bounded by time during the first connect; the configured value is applied after it
    assert options["max_reconnect_attempts"] == -1
    assert options["allow_reconnect"] is True
    assert not {"user", "password", "token", "user_credentials", "nkeys_seed", "tls"} & set(options)


def test_auth_modes_map_to_nats_py_options() -> None:
    userpass = client_options(NatsConfig(user="u", password=SecretStr("p")))
    assert (userpass["user"], userpass["password"]) == ("u", "p")
    assert client_options(NatsConfig(token=SecretStr("t")))["token"] == "t"
    creds = client_options(NatsConfig(creds_file="/etc/bot.creds"))
    assert creds["user_credentials"] == "/etc/bot.creds"
    seed = client_options(NatsConfig(nkey_seed_file="/etc/bot.nk"))
    assert seed["nkeys_seed"] == "/etc/bot.nk"


def test_unreadable_tls_files_are_a_validation_error(tmp_path: Path) -> None:
    config = NatsConfig(tls=TlsConfig(ca_file=str(tmp_path / "missing.pem")))
    with pytest.raises(KrytenValidationError, match="check that ca_file"):
        client_options(config)


def test_redact_masks_every_secret() -> None:
    config = NatsConfig(
        servers=["nats://bot:pw-in-url@h:4222"], user="bot", password=SecretStr("pw-field")
    )
    text = redact("nats://bot:pw-in-url@h:4222 said pw-field", config)
    assert "pw-in-url" not in text
    assert "pw-field" not in text
    message = connect_failure_message(config, OSError("refused pw-field"))
    assert "pw-field" not in message
    assert "pw-in-url" not in message
    assert "nats://bot:" in message


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def certificates(tmp_path: Path) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make test certificates")
    (tmp_path / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    _openssl(
        *("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=ca"),
        *("-keyout", "ca.key", "-out", "ca.pem"),
        cwd=tmp_path,
    )
    for name in ("server", "client"):
        _openssl(
            *("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}"),
            *("-keyout", f"{name}.key", "-out", f"{name}.csr"),
            cwd=tmp_path,
        )
        _openssl(
            *("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key"),
            *("-CAcreateserial", "-days", "1", "-out", f"{name}.pem", "-extfile", "san.ext"),
            cwd=tmp_path,
        )
    return tmp_path


async def test_mutual_tls_end_to_end(certificates: Path) -> None:
    tls_args = (
        *("--tls", "--tlsverify", "--tlscacert", str(certificates / "ca.pem")),
        *("--tlscert", str(certificates / "server.pem")),
        *("--tlskey", str(certificates / "server.key")),
    )
    async with NatsServer(extra_args=tls_args) as server:
        url = f"tls://127.0.0.1:{server.port}"
        tls = TlsConfig(
            ca_file=str(certificates / "ca.pem"),
            cert_file=str(certificates / "client.pem"),
            key_file=str(certificates / "client.key"),
        )
        async with NatsTransport(NatsConfig(servers=[url], tls=tls)) as transport:
            inbox = Inbox()
            await transport.subscribe("secure", inbox)
            await transport.publish("secure", b"over tls")
            await inbox.wait_for(1)
            assert inbox.data == [b"over tls"]


def test_tls_context_verifies_the_server(certificates: Path) -> None:
    options = client_options(NatsConfig(tls=TlsConfig(ca_file=str(certificates / "ca.pem"))))
    context = options["tls"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
