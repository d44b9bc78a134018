"""compose.yaml is consistent with the examples it runs (no Docker engine needed).

The file is parsed with PyYAML (anchors and merge keys resolved as Compose does) and
checked for what ``docker compose up`` relies on: the services and their ports, the
commands naming files that exist, the environment each example reads, and the bot's
telemetry settings as kryten-actors itself resolves them from that environment.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from types import ModuleType
from typing import Any, Final
from urllib.parse import urlsplit

import pytest
import yaml

from kryten_actors.config import KrytenConfig
from kryten_actors.observability.settings import resolve_settings
from kryten_actors.protocol.subjects import scheme_for

ROOT: Final = Path(__file__).resolve().parent.parent
COMPOSE: Final = ROOT / "compose.yaml"
PYTHON_SERVICES: Final = {
    "bridge": "simulated_bridge.py",
    "bot": "multi_channel_bot.py",
    "sharded-bot": "multi_channel_bot.py",
}
# Variables of the container plumbing (uv, Python, OpenTelemetry), not the examples'.
PLUMBING: Final = re.compile(r"^(UV_|PYTHON|OTEL_)")
ENV_READ: Final = re.compile(r"""os\.environ(?:\.get\(|\[)\s*["']([A-Z0-9_]+)["']""")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def env_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as strings (Compose accepts a mapping or KEY=VALUE list)."""
    raw = service.get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: str(value) for key, value in raw.items()}


def published_ports(service: dict[str, Any]) -> set[int]:
    """Container ports published by ``HOST:CONTAINER`` entries."""
    return {int(str(entry).split(":")[-1].split("/")[0]) for entry in service.get("ports", [])}


def command_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"compose_example_{name[:-3]}", ROOT / "examples" / name
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_service_is_there(services: dict[str, dict[str, Any]]) -> None:
    assert {"nats", "jaeger", "bridge", "bot", "nats-box"} <= set(services)
    for name, service in services.items():
        assert "image" in service, f"{name} has no image"
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"


def test_nats_is_the_official_image_with_monitoring(services: dict[str, dict[str, Any]]) -> None:
    nats = services["nats"]
    assert nats["image"].split(":")[0] == "nats"
    command = command_of(nats)
    assert command[command.index("-m") + 1] == "8222"
    assert {4222, 8222} <= published_ports(nats)
    assert "8222" in " ".join(nats["healthcheck"]["test"])


def test_jaeger_takes_otlp_on_both_protocols(services: dict[str, dict[str, Any]]) -> None:
    jaeger = services["jaeger"]
    assert jaeger["image"].split(":")[0] == "jaegertracing/all-in-one"
    assert env_of(jaeger)["COLLECTOR_OTLP_ENABLED"] == "true"
    assert {16686, 4317, 4318} <= published_ports(jaeger)


@pytest.mark.parametrize(("name", "example"), sorted(PYTHON_SERVICES.items()))
def test_python_services_run_the_example_with_uv(
    compose: dict[str, Any], services: dict[str, dict[str, Any]], name: str, example: str
) -> None:
    service = services[name]
    assert "uv" in service["image"]
    assert "python3.11" in service["image"]
    command = command_of(service)
    assert command[:3] == ["uv", "run", "--frozen"]
    script = command[command.index("python") + 1]
    assert script == f"examples/{example}"
    assert (ROOT / script).is_file()

    # The repository is mounted read-only at the working directory ...
    workdir = service["working_dir"]
    assert f".:{workdir}:ro" in service["volumes"]
    # ... so the virtualenv lives outside it, on a named volume declared at the top.
    venv = env_of(service)["UV_PROJECT_ENVIRONMENT"]
    assert not venv.startswith(workdir)
    mounts = {entry.split(":")[1]: entry.split(":")[0] for entry in service["volumes"]}
    assert mounts[venv] in compose["volumes"]


@pytest.mark.parametrize(("name", "example"), sorted(PYTHON_SERVICES.items()))
def test_environment_matches_what_the_example_reads(
    services: dict[str, dict[str, Any]], name: str, example: str
) -> None:
    read = set(ENV_READ.findall((ROOT / "examples" / example).read_text(encoding="utf-8")))
    assert read, f"found no os.environ reads in {example}"
    given = {key for key in env_of(services[name]) if not PLUMBING.match(key)}
    assert given == read, f"{name}: set but unread {given - read}, read but unset {read - given}"


def test_bridge_and_bot_share_bus_profile_and_channels(
    services: dict[str, dict[str, Any]],
) -> None:
    bridge, bot = env_of(services["bridge"]), env_of(services["bot"])
    for key in ("NATS_URL", "KRYTEN_PROFILE", "CYTUBE_CHANNELS"):
        assert bridge[key] == bot[key], key
    scheme_for(bot["KRYTEN_PROFILE"])  # a profile kryten-actors knows
    url = urlsplit(bot["NATS_URL"])
    assert url.scheme == "nats"
    assert url.hostname in services
    assert url.port == 4222


def test_bot_traces_to_jaeger_as_kryten_actors_resolves_it(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = env_of(services["bot"])
    endpoint = urlsplit(env["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert endpoint.hostname == "jaeger"
    assert endpoint.port in published_ports(services["jaeger"])
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    example = load_example(PYTHON_SERVICES["bot"])
    config = KrytenConfig.from_dict(example.make_config())

    settings = resolve_settings(config, env)

    assert settings.tracing
    assert settings.traces_protocol == "http/protobuf"
    assert settings.traces_endpoint == "http://jaeger:4318/v1/traces"
    # The service name Jaeger lists is the one the compose file (and docs) announce.
    assert settings.service_name == env["OTEL_SERVICE_NAME"]
    assert [f"{c.domain}/{c.channel}" for c in config.channels] == env["CYTUBE_CHANNELS"].split(",")


def test_nats_box_reaches_the_server(services: dict[str, dict[str, Any]]) -> None:
    box = services["nats-box"]
    assert box["image"].split(":")[0] == "natsio/nats-box"
    assert urlsplit(env_of(box)["NATS_URL"]).hostname == "nats"


def test_the_sharded_bot_runs_three_members_on_jetstream(
    services: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    sharded = services["sharded-bot"]
    assert sharded["deploy"]["replicas"] == 3
    assert "-js" in command_of(services["nats"])
    env = env_of(sharded)
    for key in ("NATS_URL", "KRYTEN_PROFILE", "CYTUBE_CHANNELS"):
        assert env[key] == env_of(services["bridge"])[key], key
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = KrytenConfig.from_dict(load_example("multi_channel_bot.py").make_config())
    assert config.delivery == "jetstream"
    assert config.jetstream.sharding.enabled
