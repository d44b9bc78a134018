"""Tracing, metrics and health reporting for kryten-actors."""

from kryten_actors.observability.instrumentation import Instrumentation, NoInstrumentation
from kryten_actors.observability.tracing import OtelInstrumentation, instrumentation_from_config

__all__ = [
    "Instrumentation",
    "NoInstrumentation",
    "OtelInstrumentation",
    "instrumentation_from_config",
]
