"""Settings of the bot's own logging and of where its dead letters go."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator

__all__ = ["LogFormat", "LogLevelName"]

LogFormat = Literal["text", "json"]
"""``text``: one readable line per record; ``json``: one JSON object per line."""


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


LogLevelName = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], BeforeValidator(_upper)
]
"""A logging level by name, in any case (``debug`` is ``DEBUG``)."""
