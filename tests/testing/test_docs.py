"""Every example test in docs/testing.md runs, as a user's test file, and passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
