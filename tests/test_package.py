"""The package as released: one version, a lazy façade, the kryten-py compatibility names."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import kryten_actors

ROOT = Path(__file__).parents[1]
HEAVY = ("nats", "opentelemetry", "pydantic", "yaml", "rich", "aiojobs", "tenacity")


def project_version() -> str:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    value: str = data["project"]["version"]
    return value


def test_the_version_comes_from_the_metadata() -> None:
    assert kryten_actors.__version__ == version("kryten-actors") == project_version()


def test_the_version_is_written_in_pyproject_only() -> None:
    pattern = re.compile(r"""(__version__|\bversion)\s*[:=]\s*["']\d+\.\d+""")
    for path in (ROOT / "kryten_actors").rglob("*.py"):
        assert not pattern.search(path.read_text(encoding="utf-8")), path


def test_the_changelog_has_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert re.search(
        rf"^## \[{re.escape(project_version())}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M
    )


def test_the_license_is_the_one_the_metadata_names() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return done.stdout.strip()


def test_import_loads_no_dependency() -> None:
    code = f"import sys, kryten_actors; print([m for m in {HEAVY!r} if m in sys.modules])"
    assert run_python(code) == "[]"


def test_the_cli_version_loads_no_dependency() -> None:
    code = (
        "import sys\nfrom kryten_actors.cli.main import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = run_python(code).splitlines()
    assert out == [version("kryten-actors"), "[]"]


def test_a_bot_without_tracing_loads_no_opentelemetry_sdk() -> None:
    code = (
        "import sys\nfrom kryten_actors import Bot, ChannelActor\n"
        "Bot({'channels': [{'domain': 'cytu.be', 'channel': 'x'}]}, actor=ChannelActor)\n"
        "print([m for m in sys.modules if m.startswith('opentelemetry.sdk')])"
    )
    assert run_python(code) == "[]"


def _exports_in_type_checking_block() -> dict[str, tuple[str, ...]]:
    tree = ast.parse((ROOT / "kryten_actors" / "__init__.py").read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If))
    found: dict[str, tuple[str, ...]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom)
        assert node.module
        found[node.module] = tuple(alias.name for alias in node.names)
    return found


def test_the_lazy_table_matches_the_typed_imports_and_all() -> None:
    exports: dict[str, tuple[str, ...]] = kryten_actors._EXPORTS
    assert exports == _exports_in_type_checking_block()
    names = sorted(name for group in exports.values() for name in group)
    assert names == sorted(kryten_actors.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        _ = kryten_actors.NoSuchThing  # type: ignore[attr-defined]


def test_star_import_gives_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from kryten_actors import *", namespace)
    assert set(kryten_actors.__all__) <= set(namespace)


def test_subject_builder_is_kryten_pys_module_name() -> None:
    from kryten_actors.subject_builder import (  # noqa: PLC0415
        build_command_subject,
        build_subject,
        parse_subject,
    )

    subject = build_subject("cytu.be", "lounge", "chatMsg")
    assert subject == "cytube.events.cytu.be.lounge.chatmsg"
    assert parse_subject(subject) == {"domain": "cytu.be", "channel": "lounge", "event": "chatmsg"}
    assert build_command_subject("lounge", "sendChat") == "cytube.commands.lounge.sendchat"
