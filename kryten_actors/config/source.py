"""Reading a configuration file (JSON or YAML) into plain data.

Every failure — missing file, unreadable bytes, syntax error, duplicate key — becomes a
:class:`KrytenValidationError` whose message gives the file and the line, but never
quotes the file's content (it may hold a password).
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from kryten_actors.config.validation import config_error

__all__ = ["read_json", "read_yaml"]


class _DuplicateKeyError(ValueError):
    pass


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses a key repeated in one mapping.

    PyYAML silently keeps the last of two equal keys; in a config file that hides
    mistakes such as a second ``password:`` line.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        problem = f"cannot read the file ({reason}); check the path and its permissions"
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8"
    raise config_error([(str(path), problem)], f"configuration file {path}")


def read_json(path: str | os.PathLike[str]) -> object:
    """The JSON document in ``path``; raises :class:`KrytenValidationError` on any failure."""
    file = Path(path)
    text = _read_text(file)

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise _DuplicateKeyError(key)
            result[key] = value
        return result

    problem: str
    try:
        return json.loads(text, object_pairs_hook=unique)
    except _DuplicateKeyError as exc:
        problem = f"duplicate key {exc.args[0]!r}; keep only one"
    except json.JSONDecodeError as exc:
        problem = f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    raise config_error([(str(file), problem)], f"configuration file {file}")


def read_yaml(path: str | os.PathLike[str]) -> object:
    """The YAML document in ``path`` (safe loader, duplicate keys refused).

    Raises :class:`KrytenValidationError` on any failure.
    """
    file = Path(path)
    text = _read_text(file)
    problem: str
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        # str(exc) would quote the offending source line, which may hold a secret.
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = f"YAML syntax error{where}: {exc.problem or 'invalid document'}"
    except yaml.YAMLError as exc:
        problem = f"YAML error: {type(exc).__name__}"
    raise config_error([(str(file), problem)], f"configuration file {file}")
