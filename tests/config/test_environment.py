"""``${VAR}`` / ``${VAR:-default}`` substitution before validation."""

from __future__ import annotations

import pytest

from kryten_actors.config import KrytenConfig
from kryten_actors.config.environment import substitute_environment
from kryten_actors.errors import KrytenValidationError


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "KA_USER",
        "KA_PASSWORD",
        "KA_DOMAIN",
        "KA_CHANNEL",
        "KA_TIMEOUT",
        "KA_EMPTY",
        "KA_MISSING",
    ):
        monkeypatch.delenv(name, raising=False)


def test_variables_in_nested_values_and_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KA_USER", "bot")
    monkeypatch.setenv("KA_PASSWORD", "pw-from-env")
    monkeypatch.setenv("KA_DOMAIN", "cytu.be")
    config = KrytenConfig.from_dict(
        {
            "nats": {
                "servers": ["nats://${KA_DOMAIN}:4222", "tls://backup.${KA_DOMAIN}:4222"],
                "user": "${KA_USER}",
                "password": "${KA_PASSWORD}",
            },
            "channels": [{"domain": "${KA_DOMAIN}", "channel": "${KA_CHANNEL:-lounge}"}],
        }
    )
    assert config.nats.servers == ["nats://cytu.be:4222", "tls://backup.cytu.be:4222"]
    assert config.nats.user == "bot"
    assert config.nats.password is not None
    assert config.nats.password.get_secret_value() == "pw-from-env"
    assert (config.channels[0].domain, config.channels[0].channel) == ("cytu.be", "lounge")


def test_default_used_when_unset_or_empty_and_value_wins_when_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KA_EMPTY", "")
    assert substitute_environment("${KA_MISSING:-a}/${KA_EMPTY:-b}") == "a/b"
    assert substitute_environment("${KA_MISSING:-}") == ""
    monkeypatch.setenv("KA_CHANNEL", "movies")
    assert substitute_environment("${KA_CHANNEL:-lounge}") == "movies"


def test_numbers_and_booleans_from_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KA_TIMEOUT", "7.5")
    config = KrytenConfig.from_dict(
        {
            "nats": {"connect_timeout": "${KA_TIMEOUT}"},
            "retry_attempts": "${KA_MISSING:-5}",
            "metrics": {"enabled": "${KA_MISSING:-true}"},
        }
    )
    assert config.nats.connect_timeout == 7.5
    assert config.retry_attempts == 5
    assert config.metrics.enabled is True


def test_escape_and_text_around_references() -> None:
    environ = {"A": "1"}
    assert substitute_environment("x${A}y$${A}z", environ) == "x1y${A}z"
    assert substitute_environment("$A and $ and {A}", environ) == "$A and $ and {A}"


def test_keys_and_non_strings_untouched() -> None:
    data = {"${A}": [1, 2.5, True, None, ("${A}",)]}
    assert substitute_environment(data, {"A": "v"}) == {"${A}": [1, 2.5, True, None, ["v"]]}


def test_missing_variable_names_variable_and_field_path() -> None:
    with pytest.raises(KrytenValidationError) as info:
        KrytenConfig.from_dict({"nats": {"user": "bot", "password": "${KA_MISSING}"}})
    error = info.value
    assert [path for path, _ in error.errors] == ["nats.password"]
    assert "KA_MISSING" in error.errors[0][1]
    assert "nats.password: environment variable KA_MISSING is not set" in str(error)


def test_every_missing_variable_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KA_USER", "bot")
    with pytest.raises(KrytenValidationError) as info:
        KrytenConfig.from_dict(
            {
                "nats": {"user": "${KA_USER}", "servers": ["nats://a", "nats://${KA_MISSING}"]},
                "channels": [{"domain": "${KA_DOMAIN}", "channel": "c"}],
            }
        )
    assert [path for path, _ in info.value.errors] == ["nats.servers.1", "channels.0.domain"]
    assert "KA_MISSING" in info.value.errors[0][1]
    assert "KA_DOMAIN" in info.value.errors[1][1]


@pytest.mark.parametrize("text", ["${", "${1ABC}", "${A-B}", "${A:default}", "pre ${A"])
def test_malformed_reference_is_an_error(text: str) -> None:
    with pytest.raises(KrytenValidationError) as info:
        KrytenConfig.from_dict({"service_name": text})
    assert info.value.errors[0][0] == "service_name"
    assert "malformed" in info.value.errors[0][1]


def test_substituted_secret_never_in_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KA_PASSWORD", "hunter2-from-env")
    with pytest.raises(KrytenValidationError) as info:
        # A password without user: invalid, and the value came from the environment.
        KrytenConfig.from_dict(
            {"nats": {"password": "${KA_PASSWORD}"}, "service_name": "${KA_PASSWORD}!"}
        )
    text = str(info.value) + repr(info.value) + repr(info.value.errors)
    assert "hunter2" not in text
    assert {path for path, _ in info.value.errors} == {"nats.user", "service_name"}
