"""A nats-server never outlives its owner, and its work folder goes at the next start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kryten_actors.transport.server import remove_stale_workdirs


def folder(root: Path, name: str, owner: str | None) -> Path:
    path = root / name
    path.mkdir()
    if owner is not None:
        (path / "owner.pid").write_text(owner, encoding="utf-8")
    return path


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


def test_only_folders_of_dead_owners_are_removed(tmp_path: Path) -> None:
    gone = folder(tmp_path, "kryten-nats-gone", str(dead_pid()))
    mine = folder(tmp_path, "kryten-nats-mine", str(os.getpid()))
    unowned = folder(tmp_path, "kryten-nats-unowned", None)
    garbled = folder(tmp_path, "kryten-nats-garbled", "not a pid")
    other = folder(tmp_path, "someone-else", str(dead_pid()))

    assert remove_stale_workdirs(tmp_path) == [gone]

    assert not gone.exists()
    assert mine.exists()
    assert unowned.exists()
    assert garbled.exists()
    assert other.exists()
