"""Secrets never reach repr(), str(), logs, display dumps or error messages."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from kryten_actors.cli.main import main
from kryten_actors.config import KrytenConfig, NatsConfig, load_config
from kryten_actors.errors import KrytenValidationError

PASSWORD = "hunter2-password"
TOKEN = "s3cr3t-token"
URL_PASSWORD = "url-pass-123"


def _config() -> KrytenConfig:
    return KrytenConfig.from_dict(
        {
            "nats": {
                "servers": [
                    f"nats://bot:{URL_PASSWORD}@localhost:4222",
                    "tls://tok3n-in-url@h:4222",
                ],
                "user": "bot",
                "password": PASSWORD,
            }
        }
    )


def _assert_clean(text: str) -> None:
    for secret in (PASSWORD, TOKEN, URL_PASSWORD, "tok3n-in-url"):
        assert secret not in text


def test_repr_and_str_mask_secrets() -> None:
    config = _config()
    token_config = NatsConfig(token=SecretStr(TOKEN))
    for text in (
        repr(config),
        str(config),
        repr(config.nats),
        str(config.nats),
        repr(token_config),
    ):
        _assert_clean(text)
    assert "**********" in repr(config.nats)
    assert config.nats.password is not None
    assert config.nats.password.get_secret_value() == PASSWORD
    assert config.nats.servers[0] == f"nats://bot:{URL_PASSWORD}@localhost:4222"


def test_display_dict_masks_and_is_json() -> None:
    shown = _config().display_dict()
    text = json.dumps(shown)
    _assert_clean(text)
    assert shown["nats"]["password"] == "**********"
    assert shown["nats"]["servers"] == [
        "nats://bot:**********@localhost:4222",
        "tls://**********@h:4222",
    ]
    assert (
        KrytenConfig(nats=NatsConfig(token=SecretStr(TOKEN))).display_dict()["nats"]["token"]
        == "**********"
    )
    _assert_clean(_config().model_dump_json())


def test_logging_a_config_does_not_leak(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("kryten_actors.test")
    with caplog.at_level(logging.INFO, logger="kryten_actors.test"):
        logger.info("config %s / %r / %s", _config(), _config(), _config().display_dict())
    _assert_clean(caplog.text)
    assert "**********" in caplog.text


@pytest.mark.parametrize(
    "nats",
    [
        {"password": PASSWORD},  # missing user
        {"user": "bot", "password": PASSWORD, "bogus": PASSWORD},
        {"token": TOKEN, "user": "bot", "password": PASSWORD},
        {"user": "bot", "password": [PASSWORD]},
        {"user": "bot", "password": PASSWORD, "servers": [f"http://bot:{URL_PASSWORD}@h"]},
    ],
)
def test_validation_error_does_not_leak(nats: dict[str, Any]) -> None:
    with pytest.raises(KrytenValidationError) as info:
        KrytenConfig.from_dict({"nats": nats, "retry_attempts": 0})
    error = info.value
    _assert_clean(str(error) + repr(error) + repr(error.errors))
    assert error.__context__ is None
    assert len(error.errors) >= 2


def test_direct_construction_error_does_not_leak() -> None:
    with pytest.raises(KrytenValidationError) as info:
        NatsConfig(password=PASSWORD)  # type: ignore[arg-type]
    _assert_clean(str(info.value))
    assert info.value.__context__ is None


def test_yaml_error_on_a_password_line_does_not_quote_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"nats:\n  user: bot\n  password: {PASSWORD}: [oops\n", encoding="utf-8")
    with pytest.raises(KrytenValidationError) as info:
        load_config(path)
    _assert_clean(str(info.value))
    assert "line 3" in str(info.value)


TRACE_PASSWORD = "otlp-pass-456"


def _traced() -> KrytenConfig:
    return KrytenConfig.from_dict(
        {
            "tracing": {
                "enabled": True,
                "endpoint": f"https://collector:{TRACE_PASSWORD}@otel.example:4318",
            }
        }
    )


def test_tracing_endpoint_credentials_are_masked_everywhere() -> None:
    config = _traced()
    for text in (
        repr(config),
        str(config.tracing),
        json.dumps(config.display_dict()),
        config.model_dump_json(),
        repr(config.model_dump()),
    ):
        assert TRACE_PASSWORD not in text
    assert config.display_dict()["tracing"]["endpoint"] == (
        "https://collector:**********@otel.example:4318"
    )
    # the exporter still gets the real URL
    assert config.tracing.traces_endpoint == (
        f"https://collector:{TRACE_PASSWORD}@otel.example:4318/v1/traces"
    )


def test_a_python_dump_masks_url_passwords_too() -> None:
    dumped = _config().model_dump()
    _assert_clean(repr(dumped))
    assert dumped["nats"]["servers"][0] == "nats://bot:**********@localhost:4222"


def test_check_prints_no_tracing_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(
        "tracing:\n"
        "  enabled: true\n"
        f"  endpoint: https://collector:{TRACE_PASSWORD}@otel.example:4318\n"
        "nats:\n"
        f"  servers: [nats://bot:{URL_PASSWORD}@localhost:4222]\n",
        encoding="utf-8",
    )
    code = main(["check", str(path)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert TRACE_PASSWORD not in out.out + out.err
    assert URL_PASSWORD not in out.out + out.err
    assert "otel.example" in out.out


def test_secret_looking_channel_settings_are_masked_but_reach_the_actor() -> None:
    config = KrytenConfig.from_dict(
        {
            "channels": [
                {
                    "domain": "cytu.be",
                    "channel": "lounge",
                    "settings": {
                        "api_token": TOKEN,
                        "weather": {"Password": PASSWORD, "city": "Oslo"},
                        "quotes": ["hello"],
                    },
                }
            ]
        }
    )
    shown = config.display_dict()["channels"][0]["settings"]
    assert shown == {
        "api_token": "**********",
        "weather": {"Password": "**********", "city": "Oslo"},
        "quotes": ["hello"],
    }
    _assert_clean(repr(config) + repr(config.model_dump()) + config.model_dump_json())
    assert config.channels[0].settings["api_token"] == TOKEN  # what the actor gets
