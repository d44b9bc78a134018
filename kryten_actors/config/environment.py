"""``${VAR}`` and ``${VAR:-default}`` substitution in every string value of a raw config.

Rules (applied before validation, to string values only — never to keys):

* ``${VAR}`` is replaced by the environment variable ``VAR``; if it is unset the whole
  load fails, naming the variable and the field path of every place it was used.
* ``${VAR:-default}`` uses ``default`` when ``VAR`` is unset *or empty* (the shell's
  ``:-``). The default cannot contain ``}``.
* ``$${...}`` is an escape for a literal ``${...}``.
* Any other ``${`` is an error (write ``$${`` for a literal one).

Substituted values never appear in error messages, so a password taken from the
environment cannot leak through a failed load.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from kryten_actors.config.validation import config_error, dotted

__all__ = ["substitute_environment"]

_REFERENCE = re.compile(
    r"\$\$\{"
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|\$\{"
)


def substitute_environment(
    data: object, environ: Mapping[str, str] | None = None, *, what: str = "configuration"
) -> object:
    """A copy of ``data`` (nested dicts/lists/scalars) with every reference expanded.

    ``environ`` defaults to :data:`os.environ`. Mappings come back as ``dict`` and
    sequences (other than strings) as ``list``; other values are returned unchanged.

    Raises :class:`KrytenValidationError` listing every missing variable and malformed
    reference with its dotted field path; ``what`` (e.g. ``configuration in bot.yaml``)
    heads the message.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    problems: list[tuple[str, str]] = []
    result = _walk(data, (), env, problems)
    if problems:
        raise config_error(problems, what)
    return result


def _walk(
    value: object,
    path: tuple[str | int, ...],
    env: Mapping[str, str],
    problems: list[tuple[str, str]],
) -> object:
    if isinstance(value, str):
        return _expand(value, dotted(path), env, problems)
    if isinstance(value, Mapping):
        return {key: _walk(item, (*path, str(key)), env, problems) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(item, (*path, index), env, problems) for index, item in enumerate(value)]
    return value


def _expand(text: str, path: str, env: Mapping[str, str], problems: list[tuple[str, str]]) -> str:
    def replace(match: re.Match[str]) -> str:
        reference = match.group(0)
        if reference == "$${":
            return "${"
        name = match.group("name")
        if name is None:
            problems.append(
                (
                    path,
                    "malformed ${...} reference; write ${NAME} or ${NAME:-default} "
                    "(NAME of letters, digits and _), or $${ for a literal '${'",
                )
            )
            return ""
        found = env.get(name)
        default = match.group("default")
        if default is not None and not found:
            return default
        if found is None:
            problems.append(
                (
                    path,
                    f"environment variable {name} is not set; export it, or give a default "
                    f"as ${{{name}:-default}}",
                )
            )
            return ""
        return found

    return _REFERENCE.sub(replace, text)
