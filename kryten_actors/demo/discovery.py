"""Where a running demo can be found: a small JSON file in the temp folder.

``kryten-actors demo`` writes it once everything is up and removes it on the way out;
``kryten-actors say`` (and anyone else) reads it to find the demo's NATS URL without
being told. A file left by a demo that was killed names a process that is gone, and
:func:`read_demo_info` ignores it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["DemoInfo", "demo_info_path", "read_demo_info", "remove_demo_info", "write_demo_info"]


@dataclass(frozen=True, slots=True)
class DemoInfo:
    """A running demo: its NATS URL, profile, channels and the bot account's name."""

    url: str
    profile: str
    domain: str
    channels: tuple[str, ...]
    bot_name: str
    service_name: str
    pid: int


def demo_info_path() -> Path:
    """``$TMPDIR/kryten-actors-demo-{uid}.json`` (one per user)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"kryten-actors-demo-{uid}.json"


def write_demo_info(info: DemoInfo, path: Path | None = None) -> Path:
    """Write ``info`` atomically; returns the path."""
    target = path or demo_info_path()
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(asdict(info)), encoding="utf-8")
    partial.replace(target)
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_demo_info(path: Path | None = None) -> DemoInfo | None:
    """The running demo's info, or None when none runs (no file, unreadable, or stale)."""
    try:
        data = json.loads((path or demo_info_path()).read_text(encoding="utf-8"))
        info = DemoInfo(**{**data, "channels": tuple(data["channels"])})
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return info if _alive(info.pid) else None


def remove_demo_info(path: Path | None = None) -> None:
    """Remove the file if it is this process's own."""
    target = path or demo_info_path()
    with contextlib.suppress(OSError, ValueError):
        if json.loads(target.read_text(encoding="utf-8")).get("pid") == os.getpid():
            target.unlink()
