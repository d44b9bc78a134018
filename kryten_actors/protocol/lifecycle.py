"""kryten-robot's lifecycle messages (reference §11), as the simulated bridges publish them.

``kryten.lifecycle.robot.{startup,connected,disconnected,shutdown}`` carry the process's
identity — ``hostname`` and ``timestamp - uptime_seconds`` (its start) — and, for
``startup``/``connected`` to CyTube, the channel. The bot reads them with
:func:`kryten_actors.bot.bridge.parse_lifecycle`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

__all__ = ["ROBOT_LIFECYCLE_PREFIX", "robot_lifecycle"]

ROBOT_LIFECYCLE_PREFIX: Final = "kryten.lifecycle.robot"
_VERSION: Final = "1.12.6"


def robot_lifecycle(
    kind: str, *, started: datetime, hostname: str, **extra: Any
) -> tuple[str, bytes]:
    """``(subject, body)`` of one lifecycle message of the process that ``started`` then."""
    now = datetime.now(UTC)
    body = {
        "service": "robot",
        "version": _VERSION,
        "hostname": hostname,
        "timestamp": now.isoformat(),
        "uptime_seconds": (now - started).total_seconds(),
        **extra,
    }
    return f"{ROBOT_LIFECYCLE_PREFIX}.{kind}", json.dumps(body).encode("utf-8")
