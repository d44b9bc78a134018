"""The configuration models: defaults, field rules, cross-field rules, error paths."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from kryten_actors.config import (
    ChannelConfig,
    KrytenConfig,
    MailboxConfig,
    MetricsConfig,
    NatsConfig,
    SupervisionConfig,
    TlsConfig,
    TracingConfig,
)
from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.subjects import is_valid_channel_name


def paths_of(data: dict[str, Any]) -> list[str]:
    """The dotted paths of every error ``from_dict(data)`` reports."""
    with pytest.raises(KrytenValidationError) as info:
        KrytenConfig.from_dict(data)
    return [path for path, _ in info.value.errors]


def error_of(data: dict[str, Any]) -> KrytenValidationError:
    with pytest.raises(KrytenValidationError) as info:
        KrytenConfig.from_dict(data)
    return info.value


def test_defaults() -> None:
    config = KrytenConfig()
    assert config.nats.servers == ["nats://127.0.0.1:4222"]
    assert config.nats.max_reconnect_attempts == -1
    assert config.nats.pending_bytes == 2 * 1024 * 1024
    assert config.nats.sub_pending_msgs_limit == 512 * 1024
    assert config.nats.sub_pending_bytes_limit == 128 * 1024 * 1024
    assert (config.nats.ping_interval, config.nats.max_outstanding_pings) == (20.0, 3)
    assert (config.nats.connect_timeout, config.nats.reconnect_wait) == (5.0, 2.0)
    assert config.channels == []
    assert config.profile == "seed"
    assert (config.retry_attempts, config.retry_initial_backoff) == (3, 0.1)
    assert (config.handler_timeout, config.shutdown_timeout) == (30.0, 10.0)
    assert config.mailbox == MailboxConfig(capacity=1000, overflow="drop_newest")
    assert config.supervision == SupervisionConfig(
        strategy="one_for_one",
        max_restarts=10,
        within_seconds=60,
        min_backoff=0.1,
        max_backoff=30,
        jitter=0.2,
        reset_after=60,
    )
    assert config.tracing == TracingConfig(
        enabled=False, protocol="http/protobuf", sample_ratio=1.0
    )
    assert config.metrics == MetricsConfig(enabled=False, channel_label=False)
    assert config.spawn_unknown_channels is False
    assert config.service_name == "kryten-actors"
    assert config.actor is None
    assert config.command_timeout == 10.0
    assert config.max_event_bytes == 1024 * 1024
    assert config.chat_max_length == 320


def test_models_are_frozen() -> None:
    config = KrytenConfig()
    with pytest.raises(ValidationError):
        config.retry_attempts = 5  # type: ignore[misc]


def test_direct_construction_raises_kryten_error_naming_the_field() -> None:
    with pytest.raises(KrytenValidationError) as info:
        ChannelConfig(domain="cytu.be", channel="no spaces")
    assert [path for path, _ in info.value.errors] == ["channel"]
    assert "channel:" in str(info.value)
    assert info.value.__context__ is None


# --- nats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "servers",
    [
        ["nats://127.0.0.1:4222"],
        ["tls://nats.example.com:4222", "nats://localhost"],
        ["nats://user:pw@host:4222"],
        ["NATS://host:4222"],
    ],
)
def test_good_servers(servers: list[str]) -> None:
    assert NatsConfig(servers=servers).servers == servers


@pytest.mark.parametrize(
    "server",
    [
        "http://host:4222",
        "localhost:4222",
        "host",
        "nats://",
        "nats://host:notaport",
        "nats://host:99999",
        "nats://ho st:4222",
        "nats://host:4222\n",
        "",
    ],
)
def test_bad_server_is_reported_at_its_index(server: str) -> None:
    assert paths_of({"nats": {"servers": ["nats://ok:4222", server]}}) == ["nats.servers.1"]


def test_servers_must_not_be_empty() -> None:
    assert paths_of({"nats": {"servers": []}}) == ["nats.servers"]


def test_user_and_password_together() -> None:
    nats = NatsConfig(user="bot", password=SecretStr("pw"))
    assert nats.password is not None
    assert nats.password.get_secret_value() == "pw"
    assert paths_of({"nats": {"user": "bot"}}) == ["nats.password"]
    assert paths_of({"nats": {"password": "pw"}}) == ["nats.user"]


def test_token_alone() -> None:
    nats = NatsConfig(token=SecretStr("tok"))
    assert nats.token is not None
    assert nats.token.get_secret_value() == "tok"
    assert paths_of({"nats": {"token": "tok", "user": "u", "password": "p"}}) == ["nats.token"]
    assert paths_of({"nats": {"token": "tok", "user": "u"}}) == ["nats.token"]


@pytest.mark.parametrize(
    "field", ["user", "password", "token", "creds_file", "nkey_seed_file", "name"]
)
def test_nats_strings_must_not_be_empty(field: str) -> None:
    error = error_of({"nats": {field: ""}})
    assert ("nats." + field, "must not be empty") in error.errors


def test_creds_and_nkey_files_are_accepted_without_checking_existence() -> None:
    nats = NatsConfig(creds_file="/nonexistent/bot.creds", nkey_seed_file="/nonexistent/seed")
    assert nats.creds_file == "/nonexistent/bot.creds"


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [
        ("max_reconnect_attempts", -2, -1),
        ("connect_timeout", 0, 0.5),
        ("reconnect_wait", -1, 0.1),
        ("pending_bytes", 0, 1),
        ("sub_pending_msgs_limit", 0, 1),
        ("sub_pending_bytes_limit", 0, 1),
        ("ping_interval", 0, 1),
        ("max_outstanding_pings", 0, 1),
    ],
)
def test_nats_numeric_bounds(field: str, bad: float, good: float) -> None:
    assert paths_of({"nats": {field: bad}}) == [f"nats.{field}"]
    assert getattr(KrytenConfig.from_dict({"nats": {field: good}}).nats, field) == good


def test_tls_cert_and_key_together() -> None:
    assert TlsConfig(ca_file="ca.pem").ca_file == "ca.pem"
    assert TlsConfig(cert_file="c.pem", key_file="k.pem").key_file == "k.pem"
    assert paths_of({"nats": {"tls": {"cert_file": "c.pem"}}}) == ["nats.tls.key_file"]
    assert paths_of({"nats": {"tls": {"key_file": "k.pem"}}}) == ["nats.tls.cert_file"]


# --- channels ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["lounge", "My_Channel-2", "a", "x" * 30],
)
def test_good_channel_names(name: str) -> None:
    assert ChannelConfig(domain="cytu.be", channel=name).channel == name


@pytest.mark.parametrize(
    "name",
    ["", "two words", "a.b", "a*", "a>", "x" * 31, "tab\there", "new\nline", "nul\x00", "é", "a/b"],
)
def test_bad_channel_names_are_errors_naming_the_field(name: str) -> None:
    error = error_of(
        {
            "channels": [
                {"domain": "cytu.be", "channel": "ok"},
                {"domain": "cytu.be", "channel": name},
            ]
        }
    )
    assert [path for path, _ in error.errors] == ["channels.1.channel"]
    assert "channels.1.channel: " in str(error)
    assert "valid CyTube channel name" in str(error)


@given(st.text(max_size=40))
def test_channel_accepted_iff_valid_cytube_name(name: str) -> None:
    try:
        ChannelConfig(domain="cytu.be", channel=name)
    except KrytenValidationError:
        assert not is_valid_channel_name(name)
    else:
        assert is_valid_channel_name(name)
        assert not any(ch in name for ch in ".*> \t\r\n\x00")


@pytest.mark.parametrize("domain", ["cytu.be", "localhost", "sync.example.com", "localhost:8080"])
def test_good_domains(domain: str) -> None:
    assert ChannelConfig(domain=domain, channel="lounge").domain == domain


@pytest.mark.parametrize(
    "domain",
    ["", "https://cytu.be", "cytu.be/r/lounge", "cy tu.be", "cytu..be", ".cytu.be", "*", "a>b"],
)
def test_bad_domains(domain: str) -> None:
    assert paths_of({"channels": [{"domain": domain, "channel": "lounge"}]}) == [
        "channels.0.domain"
    ]


@pytest.mark.parametrize("actor", ["bots:Greeter", "my.bots.actors:Greeter", "m:Outer.Inner"])
def test_good_actor_paths(actor: str) -> None:
    assert ChannelConfig(domain="cytu.be", channel="c", actor=actor).actor == actor
    assert KrytenConfig(actor=actor).actor == actor


@pytest.mark.parametrize(
    "actor", ["", "Greeter", "bots:", ":Greeter", "bots:Greeter:x", "my bots:G"]
)
def test_bad_actor_paths(actor: str) -> None:
    assert paths_of(
        {"actor": actor, "channels": [{"domain": "d.io", "channel": "c", "actor": actor}]}
    ) == [
        "channels.0.actor",
        "actor",
    ]


def test_channels_unique_by_domain_and_name_ignoring_case() -> None:
    data = {
        "channels": [
            {"domain": "cytu.be", "channel": "lounge"},
            {"domain": "CYTU.be", "channel": "Lounge"},
        ]
    }
    error = error_of(data)
    assert [path for path, _ in error.errors] == ["channels.1.channel"]
    assert "channels.0" in error.errors[0][1]


def test_seed_profile_allows_one_name_on_two_domains() -> None:
    channels = [
        {"domain": "cytu.be", "channel": "lounge"},
        {"domain": "other.tv", "channel": "lounge"},
    ]
    config = KrytenConfig.from_dict({"channels": channels})
    assert [c.domain for c in config.channels] == ["cytu.be", "other.tv"]


def test_kryten_robot_profile_rejects_one_name_on_two_domains() -> None:
    channels = [
        {"domain": "cytu.be", "channel": "movies"},
        {"domain": "cytu.be", "channel": "lounge"},
        {"domain": "other.tv", "channel": "LOUNGE"},
    ]
    error = error_of({"profile": "kryten-robot", "channels": channels})
    assert [path for path, _ in error.errors] == ["channels.2.channel"]
    assert "no domain" in str(error)
    ok = [{"domain": "cytu.be", "channel": "lounge"}, {"domain": "other.tv", "channel": "movies"}]
    assert len(KrytenConfig.from_dict({"profile": "kryten-robot", "channels": ok}).channels) == 2


# --- runtime sections ---------------------------------------------------------------


@pytest.mark.parametrize("overflow", ["drop_newest", "drop_oldest", "reject", "block"])
def test_overflow_policies(overflow: str) -> None:
    assert KrytenConfig.from_dict({"mailbox": {"overflow": overflow}}).mailbox.overflow == overflow


def test_mailbox_bounds() -> None:
    assert paths_of({"mailbox": {"capacity": 0, "overflow": "drop_all"}}) == [
        "mailbox.capacity",
        "mailbox.overflow",
    ]


@pytest.mark.parametrize("strategy", ["one_for_one", "one_for_all", "rest_for_one"])
def test_strategies(strategy: str) -> None:
    config = KrytenConfig.from_dict({"supervision": {"strategy": strategy}})
    assert config.supervision.strategy == strategy


@pytest.mark.parametrize("jitter", [0, 0.5, 0.99])
def test_jitter_in_unit_interval(jitter: float) -> None:
    assert SupervisionConfig(jitter=jitter).jitter == jitter


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("jitter", -0.01),
        ("jitter", 1),  # the runtime's backoff needs jitter < 1
        ("jitter", 1.01),
        ("within_seconds", 0),
        ("min_backoff", 0),
        ("max_backoff", -1),
        ("reset_after", 0),
        ("max_restarts", -1),
        ("strategy", "one_for_some"),
    ],
)
def test_bad_supervision(field: str, value: object) -> None:
    assert paths_of({"supervision": {field: value}}) == [f"supervision.{field}"]


def test_max_backoff_at_least_min_backoff() -> None:
    assert paths_of({"supervision": {"min_backoff": 5, "max_backoff": 1}}) == [
        "supervision.max_backoff"
    ]
    assert SupervisionConfig(max_restarts=0).max_restarts == 0


def test_tracing() -> None:
    tracing = TracingConfig(enabled=True, endpoint="http://collector:4318/")
    assert tracing.traces_endpoint == "http://collector:4318/v1/traces"
    grpc = TracingConfig(endpoint="https://collector:4317", protocol="grpc")
    assert grpc.traces_endpoint == "https://collector:4317"
    assert TracingConfig().traces_endpoint is None
    for ratio in (0, 1):
        assert TracingConfig(sample_ratio=ratio).sample_ratio == ratio


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sample_ratio", 1.5),
        ("sample_ratio", -0.1),
        ("protocol", "http/json"),
        ("endpoint", "collector:4318"),
        ("endpoint", "ftp://collector"),
        ("endpoint", ""),
        ("service_name", ""),
    ],
)
def test_bad_tracing(field: str, value: object) -> None:
    assert paths_of({"tracing": {field: value}}) == [f"tracing.{field}"]


def test_effective_service_name() -> None:
    assert KrytenConfig(service_name="bot-1").effective_service_name == "bot-1"
    config = KrytenConfig(service_name="bot-1", tracing=TracingConfig(service_name="traced"))
    assert config.effective_service_name == "traced"


# --- top level ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["kryten-actors", "bot_1", "A"])
def test_good_service_names(name: str) -> None:
    assert KrytenConfig(service_name=name).service_name == name


@pytest.mark.parametrize("name", ["", "my bot", "bot.1", "bot*", "bøt"])
def test_bad_service_names(name: str) -> None:
    assert paths_of({"service_name": name}) == ["service_name"]


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("retry_attempts", 0),
        ("retry_initial_backoff", 0),
        ("handler_timeout", -1),
        ("shutdown_timeout", 0),
        ("command_timeout", 0),
        ("max_event_bytes", 0),
        ("chat_max_length", 0),
        ("profile", "robot"),
        ("spawn_unknown_channels", "perhaps"),
    ],
)
def test_bad_top_level_values(field: str, bad: object) -> None:
    assert paths_of({field: bad}) == [field]


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_durations_rejected(value: float) -> None:
    assert paths_of({"handler_timeout": value, "nats": {"connect_timeout": value}}) == [
        "nats.connect_timeout",
        "handler_timeout",
    ]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"chanels": []}, "chanels"),
        ({"nats": {"server": ["nats://x"]}}, "nats.server"),
        ({"nats": {"tls": {"ca": "x"}}}, "nats.tls.ca"),
        ({"channels": [{"domain": "d.io", "channel": "c", "name": "x"}]}, "channels.0.name"),
        ({"mailbox": {"size": 3}}, "mailbox.size"),
        ({"supervision": {"backoff": 3}}, "supervision.backoff"),
        ({"tracing": {"url": "x"}}, "tracing.url"),
        ({"metrics": {"port": 9000}}, "metrics.port"),
    ],
)
def test_unknown_keys_rejected_with_their_path(data: dict[str, Any], path: str) -> None:
    error = error_of(data)
    assert error.errors == [(path, "unknown key; remove it or fix its spelling")]
    assert f"{path}: unknown key" in str(error)


def test_every_error_is_reported_together() -> None:
    error = error_of(
        {
            "nats": {"servers": ["http://x"], "connect_timeout": 0},
            "channels": [
                {"domain": "cytu.be", "channel": "ok"},
                {"domain": "cytu.be", "channel": "bad name"},
            ],
            "mailbox": {"capacity": -5},
            "supervision": {"jitter": 3},
            "tracing": {"sample_ratio": 2},
            "retry_attempts": 0,
            "typo": True,
        }
    )
    expected = [
        "nats.servers.0",
        "nats.connect_timeout",
        "channels.1.channel",
        "retry_attempts",
        "mailbox.capacity",
        "supervision.jitter",
        "tracing.sample_ratio",
        "typo",
    ]
    assert [path for path, _ in error.errors] == expected
    message = str(error)
    assert "8 errors" in message
    for path in expected:
        assert f"\n  {path}: " in message


def test_numbers_from_yaml_strings_are_coerced() -> None:
    config = KrytenConfig.from_dict(
        {"channels": [{"domain": "cytu.be", "channel": 42}], "handler_timeout": "2.5"}
    )
    assert config.channels[0].channel == "42"
    assert config.handler_timeout == 2.5
