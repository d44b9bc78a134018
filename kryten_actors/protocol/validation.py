"""Turning pydantic's ``ValidationError`` into the project's :class:`KrytenValidationError`."""

from __future__ import annotations

from pydantic import ValidationError

from kryten_actors.errors import KrytenValidationError

__all__ = ["error_paths", "to_kryten_error"]


def error_paths(exc: ValidationError) -> list[tuple[str, str]]:
    """``(dotted.field.path, message)`` for every problem pydantic found."""
    return [
        (".".join(str(part) for part in err["loc"]) or "(value)", _plain(err["msg"]))
        for err in exc.errors(include_url=False)
    ]


def _plain(message: str) -> str:
    # pydantic prefixes errors raised by validators; the rule text reads better without it.
    return message.removeprefix("Value error, ")


def to_kryten_error(exc: ValidationError, *, what: str, hint: str) -> KrytenValidationError:
    """A :class:`KrytenValidationError` listing every field and rule that failed.

    ``what`` names the thing being validated (``"SendChat"``); ``hint`` says what to do.
    """
    errors = error_paths(exc)
    listed = "; ".join(f"{path}: {msg}" for path, msg in errors)
    return KrytenValidationError(f"invalid {what}: {listed}. {hint}", errors)
