"""Finding processes a CLI subprocess left behind (no psutil: /proc is enough on Linux)."""

from __future__ import annotations

import socket
from pathlib import Path


def session_members(session_id: int) -> list[int]:
    """Pids of live processes whose session id is ``session_id``.

    A child started with ``start_new_session=True`` leads a session of its own; everything
    it spawns stays in that session even after the leader exits, so a leftover
    ``nats-server`` shows up here.
    """
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text(encoding="utf-8", errors="replace")
        except OSError:  # the process ended while we looked
            continue
        # "pid (comm) state ppid pgrp session ...": comm may contain spaces and ')'
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[3]) == session_id and (fields[0] != "Z" or _threads_left(stat.parent)):
            members.append(int(stat.parent.name))
    return members


def _threads_left(proc: Path) -> bool:
    """True when a zombie's other threads still run.

    A multi-threaded process (nats-server is Go) shows its leader as a zombie as soon as
    the leader thread exits; its other threads, and the sockets they share, can outlive
    it for a moment — it is not gone until they are.
    """
    try:
        return sum(1 for _ in (proc / "task").iterdir()) > 1
    except OSError:  # reaped while we looked
        return False


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    """True when something listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0
