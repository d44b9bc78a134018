"""Loading from YAML/JSON files, mappings and paths; every failure is a KrytenValidationError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import kryten_actors.config
from kryten_actors.config import KrytenConfig, load_config
from kryten_actors.errors import KrytenValidationError

YAML_CONFIG = """\
profile: kryten-robot
service_name: my-bot
nats:
  servers: [nats://127.0.0.1:4222]
  user: bot
  password: pw
channels:
  - {domain: cytu.be, channel: lounge}
  - domain: cytu.be
    channel: movies
    actor: mybot.actors:MovieNight
mailbox: {capacity: 10, overflow: block}
tracing: {enabled: true, endpoint: "http://localhost:4318"}
"""


def _check_loaded(config: KrytenConfig) -> None:
    assert config.profile == "kryten-robot"
    assert config.service_name == "my-bot"
    assert [c.channel for c in config.channels] == ["lounge", "movies"]
    assert config.channels[1].actor == "mybot.actors:MovieNight"
    assert config.mailbox.overflow == "block"
    assert config.tracing.traces_endpoint == "http://localhost:4318/v1/traces"


def _raises(source: object) -> KrytenValidationError:
    with pytest.raises(KrytenValidationError) as info:
        load_config(source)  # type: ignore[arg-type]
    error = info.value
    assert type(error) is KrytenValidationError
    assert error.__cause__ is None
    assert error.__context__ is None
    return error


def test_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text(YAML_CONFIG, encoding="utf-8")
    _check_loaded(KrytenConfig.from_yaml(path))
    _check_loaded(KrytenConfig.from_yaml(str(path)))


def test_from_json(tmp_path: Path) -> None:
    path = tmp_path / "bot.json"
    path.write_text(json.dumps(yaml.safe_load(YAML_CONFIG)), encoding="utf-8")
    _check_loaded(KrytenConfig.from_json(path))


@pytest.mark.parametrize("name", ["bot.yaml", "bot.yml", "BOT.YAML", "bot.json"])
def test_load_config_picks_reader_by_suffix(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    text = json.dumps(yaml.safe_load(YAML_CONFIG)) if name.endswith("json") else YAML_CONFIG
    path.write_text(text, encoding="utf-8")
    _check_loaded(load_config(path))
    _check_loaded(load_config(str(path)))


def test_load_config_from_mapping_and_config() -> None:
    config = load_config({"service_name": "x"})
    assert config.service_name == "x"
    assert load_config(config) is config


def test_empty_yaml_means_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n", encoding="utf-8")
    assert load_config(path) == KrytenConfig()


def test_validation_errors_from_file_name_file_and_paths(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "channels:\n  - {domain: cytu.be, channel: lounge}\n  - {domain: cytu.be, channel: 'a b'}\n"
    )
    error = _raises(path)
    assert error.errors[0][0] == "channels.1.channel"
    assert str(path) in str(error)


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text("x = 1", encoding="utf-8")
    error = _raises(path)
    assert ".yaml" in str(error)


def test_missing_file(tmp_path: Path) -> None:
    error = _raises(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(error)
    assert "cannot read" in str(error)
    with pytest.raises(KrytenValidationError):
        KrytenConfig.from_json(tmp_path / "nope.json")


def test_yaml_syntax_error_gives_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("nats:\n  servers: [nats://x\n  user: bot\n", encoding="utf-8")
    error = _raises(path)
    assert "YAML syntax error at line" in str(error)


def test_json_syntax_error_gives_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "profile": "seed",\n}\n', encoding="utf-8")
    error = _raises(path)
    assert "JSON syntax error at line 3" in str(error)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("dup.yaml", "nats:\n  user: a\n  user: b\n"),
        ("dup.json", '{"profile": "seed", "profile": "kryten-robot"}'),
    ],
)
def test_duplicate_keys_are_errors(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    error = _raises(path)
    assert "duplicate key" in str(error)


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"service_name: caf\xe9\n")
    assert "UTF-8" in str(_raises(path))


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_document_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    assert _raises(path).errors[0][0] == "<config>"


@pytest.mark.parametrize("source", [42, None, ["a"], b"bot.yaml"])
def test_unloadable_sources(source: object) -> None:
    _raises(source)


def test_from_dict_rejects_non_mapping() -> None:
    with pytest.raises(KrytenValidationError):
        KrytenConfig.from_dict(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_docstring_example_is_a_valid_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = kryten_actors.config.__doc__
    assert doc is not None
    block = doc.split("::\n", 1)[1].split("\nRules:", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(
        "\n".join(line.removeprefix("    ") for line in block.splitlines()), encoding="utf-8"
    )
    monkeypatch.setenv("NATS_PASSWORD", "pw")
    monkeypatch.delenv("OTEL_ENDPOINT", raising=False)
    config = load_config(path)
    assert [c.channel for c in config.channels] == ["lounge", "movies"]
    assert config.nats.tls is not None
    assert config.tracing.endpoint == "http://localhost:4318"
