"""``kryten-actors check``: exit codes, masked secrets, every error with its field path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kryten_actors.cli.main import main

GOOD = """\
profile: kryten-robot
service_name: lounge-bot
nats:
  servers: ["nats://bot:${BOT_NATS_PASSWORD}@127.0.0.1:4222"]
  user: bot
  password: ${BOT_NATS_PASSWORD}
channels:
  - {domain: cytu.be, channel: lounge}
"""

BAD = """\
nats:
  servers: ["http://127.0.0.1:4222"]
  connect_timeout: -1
channels:
  - {domain: cytu.be, channel: "my room"}
mailbox: {capacity: 0}
colour: blue
"""


def test_good_config_prints_masked_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "hunter2-very-secret"
    monkeypatch.setenv("BOT_NATS_PASSWORD", secret)
    path = tmp_path / "bot.yaml"
    path.write_text(GOOD, encoding="utf-8")

    assert main(["check", str(path)]) == 0

    out, err = capsys.readouterr()
    assert secret not in out + err
    settings = json.loads(out[out.index("{") :])
    assert settings["profile"] == "kryten-robot"
    assert settings["service_name"] == "lounge-bot"
    assert settings["channels"] == [
        {
            "domain": "cytu.be",
            "channel": "lounge",
            "actor": None,
            "command_prefix": None,
            "settings": {},
        }
    ]
    assert settings["nats"]["user"] == "bot"
    assert settings["nats"]["password"] == "**********"
    assert settings["nats"]["servers"] == ["nats://bot:**********@127.0.0.1:4222"]
    assert settings["supervision"]["max_restarts"] == 10  # defaults are resolved too


def test_bad_config_lists_every_error_with_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bot.json"
    path.write_text(json.dumps({"channels": [{"domain": "cytu.be"}], "retry_attempts": 0}))
    assert main(["check", str(path)]) == 1
    _, err = capsys.readouterr()
    assert "channels.0.channel: required" in err
    assert "retry_attempts:" in err

    path = tmp_path / "bot.yaml"
    path.write_text(BAD, encoding="utf-8")
    assert main(["check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    for field in (
        "nats.servers.0:",
        "nats.connect_timeout:",
        "channels.0.channel:",
        "mailbox.capacity:",
        "colour: unknown key",
    ):
        assert field in err, field
    assert "5 errors" in err


def test_missing_file_and_missing_variable_are_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["check", str(tmp_path / "absent.yaml")]) == 1
    assert "absent.yaml" in capsys.readouterr().err

    monkeypatch.delenv("BOT_NATS_PASSWORD", raising=False)
    path = tmp_path / "bot.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["check", str(path)]) == 1
    assert "BOT_NATS_PASSWORD" in capsys.readouterr().err
