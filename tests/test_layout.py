"""Structural rules of STYLE.md: module size, layer imports, the public façade."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import kryten_actors

PACKAGE = Path(kryten_actors.__file__).parent
MAX_LINES = 400

# layer -> the project layers it may import (besides itself and `errors`)
ALLOWED: dict[str, set[str]] = {
    "runtime": set(),
    "protocol": set(),
    "subject_builder": {"protocol.subjects"},  # kryten-py's module name, re-exported
    "config": {"protocol.subjects"},
    "transport": {"config", "protocol.subjects"},
    "observability": {"config", "runtime", "transport.base"},
    "bot": {"config", "runtime", "protocol", "transport", "observability"},
    "testing": {"bot", "protocol", "transport", "config", "runtime", "observability"},
    "demo": {"bot", "protocol", "transport", "config", "runtime", "observability"},
    "dashboard": {"bot", "config", "protocol", "transport", "runtime", "observability"},
    "cli": {
        "bot",
        "protocol",
        "transport",
        "config",
        "runtime",
        "observability",
        "demo",
        "dashboard",
    },
}
# third-party imports a layer may use (top-level distribution module names)
THIRD_PARTY: dict[str, set[str]] = {
    "runtime": {"aiojobs"},
    "protocol": {"pydantic", "pydantic_core"},
    "config": {"pydantic", "pydantic_core", "yaml"},
}
NEVER_IMPORTED = {"cli", "demo", "testing", "dashboard"}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_is_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines; split it (limit {MAX_LINES})"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layer_rules(path: Path) -> None:
    layer = _layer(path)
    if layer in {"__init__", "errors", "__main__"}:
        return
    allowed = ALLOWED.get(layer)
    for name in _imports(path):
        if not name.startswith("kryten_actors"):
            top = name.split(".")[0]
            if layer in THIRD_PARTY and importlib.util.find_spec(top) is not None:
                origin = importlib.util.find_spec(top)
                is_stdlib = origin is not None and "site-packages" not in str(origin.origin)
                assert is_stdlib or top in THIRD_PARTY[layer], (
                    f"{path.relative_to(PACKAGE)} imports {name}; layer {layer!r} may only "
                    f"use the standard library and {sorted(THIRD_PARTY[layer])}"
                )
            if top == "nats":
                assert path.relative_to(PACKAGE).as_posix().startswith("transport/nats"), (
                    f"{path.relative_to(PACKAGE)} imports nats; only transport/nats*.py may"
                )
            continue
        assert name != "kryten_actors", f"{path.name}: import siblings, not the package façade"
        target = name.removeprefix("kryten_actors.")
        target_layer = target.split(".")[0]
        if target_layer in {layer, "errors"}:
            continue
        assert target_layer not in NEVER_IMPORTED or target_layer in (allowed or set()), (
            f"{path.name} imports {name}"
        )
        assert allowed is not None, f"unknown layer {layer!r} for {path}"
        assert any(
            target == a or target.startswith(a + ".") or target_layer == a for a in allowed
        ), f"{path.relative_to(PACKAGE)} (layer {layer!r}) may not import {name}"


def test_public_all_is_sorted_and_importable() -> None:
    names = list(kryten_actors.__all__)
    assert names == sorted(names), "keep kryten_actors.__all__ sorted"
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(kryten_actors, name) is not None, name


def test_py_typed_ships() -> None:
    assert (PACKAGE / "py.typed").exists()
