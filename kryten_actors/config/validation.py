"""Turning validation failures into one :class:`KrytenValidationError` with dotted paths.

Every configuration error the library reports goes through :func:`config_error`, which
lists each problem as ``dotted.field.path: message`` and never includes the offending
*value* (it may be a password), only the rule it broke.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from kryten_actors.errors import KrytenValidationError

__all__ = ["ROOT_PATH", "config_error", "dotted", "errors_from", "field_error"]

ROOT_PATH = "<config>"
"""The path reported for a problem with the document as a whole."""

_SUBPATH = "subpath"

# Pydantic's wording for the commonest mistakes in a hand-written file, said as what to do.
_MESSAGES = {
    "extra_forbidden": "unknown key; remove it or fix its spelling",
    "missing": "required; add this key",
}
# A value of the wrong type: say what the right form is, with an example ({example}).
_WRONG_TYPE = {
    "list_type": "must be a list, for example {example}",
    "dict_type": "must be a mapping of keys (indented 'key: value' lines), for example {example}",
    "model_type": "must be a mapping of keys (indented 'key: value' lines), for example {example}",
    "model_attributes_type": "must be a mapping of keys, for example {example}",
    "int_type": "must be a whole number, for example {example}",
    "int_parsing": "must be a whole number, for example {example}",
    "int_from_float": "must be a whole number (no fraction), for example {example}",
    "float_type": "must be a number, for example {example}",
    "float_parsing": "must be a number, for example {example}",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text (in YAML, quote a value that looks like a number or a boolean)",
}
# Examples of the right form for fields people get wrong most; others get a generic one.
_EXAMPLES = {
    "nats": "nats: {servers: [nats://127.0.0.1:4222]}",
    "nats.servers": "servers: [nats://127.0.0.1:4222]",
    "channels": "channels: [{domain: cytu.be, channel: lounge}]",
    "channels.*": "- {domain: cytu.be, channel: lounge}",
    "mailbox": "mailbox: {capacity: 1000, overflow: drop_newest}",
    "supervision": "supervision: {max_restarts: 10, within_seconds: 60}",
    "tracing": "tracing: {enabled: true, endpoint: http://localhost:4318}",
    "metrics": "metrics: {enabled: true}",
    "nats.tls": "tls: {ca_file: /etc/nats/ca.pem}",
}
_GENERIC_EXAMPLES = {
    "list_type": "[first, second]",
    "dict_type": "{key: value}",
    "model_type": "{key: value}",
    "model_attributes_type": "{key: value}",
    "int_type": "10",
    "int_parsing": "10",
    "int_from_float": "10",
    "float_type": "2.5",
    "float_parsing": "2.5",
}


def _wrong_type_message(kind: str, loc: Sequence[str | int]) -> str | None:
    template = _WRONG_TYPE.get(kind)
    if template is None:
        return None
    pattern = ".".join("*" if isinstance(part, int) else str(part) for part in loc)
    example = _EXAMPLES.get(pattern) or _GENERIC_EXAMPLES.get(kind, "")
    return template.format(example=example)


def dotted(loc: Iterable[str | int]) -> str:
    """``("channels", 1, "channel")`` → ``"channels.1.channel"``; empty → :data:`ROOT_PATH`."""
    path = ".".join(str(part) for part in loc)
    return path or ROOT_PATH


def field_error(reason: str, *subpath: str | int) -> PydanticCustomError:
    """An error for a model validator to raise that points below the model.

    A model-level validator can only fail at the model's own location; ``subpath`` (for
    example ``2, "channel"``) is appended to it by :func:`errors_from`, so the report
    names the exact field.
    """
    return PydanticCustomError(
        "kryten_config", "{reason}", {"reason": reason, _SUBPATH: dotted(subpath)}
    )


def errors_from(exc: ValidationError) -> list[tuple[str, str]]:
    """``(dotted path, message)`` for every error in ``exc``, inputs left out."""
    result: list[tuple[str, str]] = []
    for error in exc.errors(include_input=False, include_url=False):
        loc: list[str | int] = list(error["loc"])
        ctx = error.get("ctx") or {}
        subpath = ctx.get(_SUBPATH)
        if isinstance(subpath, str) and subpath != ROOT_PATH:
            loc.extend(subpath.split("."))
        message = (
            _MESSAGES.get(error["type"])
            or _wrong_type_message(error["type"], error["loc"])
            or error["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
        )
        if error["type"] == "string_too_short" and ctx.get("min_length") == 1:
            message = "must not be empty"
        result.append((dotted(loc), message))
    return result


def config_error(
    errors: Sequence[tuple[str, str]] | ValidationError, what: str = "configuration"
) -> KrytenValidationError:
    """A :class:`KrytenValidationError` whose message lists every ``path: message`` pair."""
    pairs = errors_from(errors) if isinstance(errors, ValidationError) else list(errors)
    count = f"{len(pairs)} error" + ("" if len(pairs) == 1 else "s")
    lines = [f"invalid {what} ({count}); fix these and try again:"]
    lines.extend(f"  {path}: {message}" for path, message in pairs)
    return KrytenValidationError("\n".join(lines), pairs)
