"""Tracing, metrics, logging and health reporting for kryten-actors.

The names load on first use: importing this package does not import the OpenTelemetry
SDK or its exporters, which only an enabled ``tracing``/``metrics`` config needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from kryten_actors.observability.instrumentation import (
        Instrumentation,
        NoInstrumentation,
        instrumentation_from_config,
    )
    from kryten_actors.observability.logs import configure_logging
    from kryten_actors.observability.tracing import OtelInstrumentation

_MODULE_OF: Final = {
    "Instrumentation": "kryten_actors.observability.instrumentation",
    "NoInstrumentation": "kryten_actors.observability.instrumentation",
    "OtelInstrumentation": "kryten_actors.observability.tracing",
    "configure_logging": "kryten_actors.observability.logs",
    "instrumentation_from_config": "kryten_actors.observability.instrumentation",
}


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'kryten_actors.observability' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Instrumentation",
    "NoInstrumentation",
    "OtelInstrumentation",
    "configure_logging",
    "instrumentation_from_config",
]
