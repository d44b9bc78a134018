"""The snippets of README.md and docs/ work as written.

Every example test in docs/testing.md runs, as a user's test file, and passes; every
other snippet is checked as far as it can be without a CyTube (see below), and the
programs run against a real nats-server in test_docs_live.py.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from kryten_actors.cli.main import build_parser, main
from kryten_actors.config import KrytenConfig
from tests.testing.doc_snippets import ROOT, Snippet, commands, find, parse_python, snippets
from tests.testing.support import plugin_args

pytest_plugins = ["pytester"]

DOC = Path(__file__).parents[2] / "docs" / "testing.md"
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _example_files() -> list[str]:
    return [b for b in BLOCK.findall(DOC.read_text(encoding="utf-8")) if "def test_" in b]


def test_the_doc_has_examples() -> None:
    assert len(_example_files()) >= 6


def test_every_example_in_the_testing_doc_passes(pytester: pytest.Pytester) -> None:
    files = _example_files()
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(**{f"test_doc_example_{i}": text for i, text in enumerate(files)})
    tests = sum(len(re.findall(r"^(?:async )?def test_", f, re.MULTILINE)) for f in files)

    result = pytester.runpytest(*plugin_args(), "-p", "no:cacheprovider")

    result.assert_outcomes(passed=tests)


# --- every snippet of README.md and docs/ --------------------------------------------------
# Python blocks compile and their imports resolve; configuration YAML loads; every
# `kryten-actors` command line parses; the validation example is what `check` prints.
# The programs (the README's bot, the getting-started walk-through) run for real in
# test_docs_live.py. Commands for other tools (docker, systemctl, nats, uv add) are not
# run here; the install paths are exercised by tests/test_wheel.py.

PYTHON = snippets("python")
YAML = snippets("yaml")
SHELL = [s for s in snippets() if s.is_shell]


def test_the_docs_have_snippets_of_every_kind() -> None:
    assert len(PYTHON) >= 20
    assert len(YAML) >= 5
    assert len(SHELL) >= 10


@pytest.mark.parametrize("snippet", PYTHON, ids=lambda s: s.name)
def test_python_snippet_compiles_and_its_imports_resolve(snippet: Snippet) -> None:
    tree = parse_python(snippet)
    compile(tree, snippet.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            statement = ast.unparse(ast.Module(body=[node], type_ignores=[]))
            exec(statement, {})


def _config_shaped(data: object) -> bool:
    return isinstance(data, dict) and bool(data) and set(data) <= set(KrytenConfig.model_fields)


@pytest.mark.parametrize("snippet", YAML, ids=lambda s: s.name)
def test_yaml_snippet_parses_and_a_config_loads(
    snippet: Snippet, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load(snippet.text)
    if not _config_shaped(data):
        return  # a compose file or another tool's settings: parsing is all there is to check
    for name in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", snippet.text):
        monkeypatch.setenv(name, "doc-placeholder")
    KrytenConfig.from_dict(data, source=snippet.name)


def _cli_lines() -> list[tuple[Snippet, list[str]]]:
    found = []
    for snippet in SHELL:
        for words in commands(snippet):
            if words[0] == "kryten-actors" or words[:3] == ["python", "-m", "kryten_actors.cli"]:
                found.append((snippet, words[1:] if words[0] == "kryten-actors" else words[3:]))
    return found


@pytest.mark.parametrize(
    ("snippet", "argv"), _cli_lines(), ids=lambda v: v.name if isinstance(v, Snippet) else ""
)
def test_cli_command_in_the_docs_parses(snippet: Snippet, argv: list[str]) -> None:
    assert _parse_exit_code(argv) == 0, f"{snippet.name}: `kryten-actors {' '.join(argv)}`"


def _parse_exit_code(argv: list[str]) -> int | str | None:
    """0 when the CLI's parser accepts ``argv`` (argparse exits 2 on a usage error)."""
    sub = next((w for w in argv if not w.startswith("-")), None)
    try:
        build_parser([sub] if sub else []).parse_args(argv)
    except SystemExit as exit_:
        return exit_.code
    return 0


def test_the_cli_lines_are_found_and_a_bad_one_would_fail() -> None:
    assert len(_cli_lines()) >= 8
    assert _parse_exit_code(["demo", "--seconds", "-3"]) == 2
    assert _parse_exit_code(["health", "--no-such-option"]) == 2


def test_the_validation_example_is_what_check_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Validation errors") : doc.index("## Secrets")]
    config = find("configuration.md", 'nats:\n  servers: ["http://', "yaml")
    printed = re.search(
        r"gives \(`kryten-actors check bot.yaml`, exit 1\):\n\n```\n(.*?)```", section, re.S
    )
    assert printed is not None
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.yaml").write_text(config.text, encoding="utf-8")
    assert main(["check", "bot.yaml"]) == 1
    assert capsys.readouterr().err == printed.group(1)
