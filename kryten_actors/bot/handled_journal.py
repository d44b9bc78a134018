"""The correlation IDs of handled JetStream events, in a file that survives the process.

``delivery: jetstream`` acknowledges an event after its handlers finished. A kill -9
loses the acks still queued in the process, so the next process gets those events
again although they were handled. The :class:`HandledJournal` closes that gap on a
host: each handled event's correlation ID is written to a file (one ``write`` system
call, before the ack is queued) right after its handlers return. Data written to a
file is in the kernel's page cache at once, so it survives the killed process (not a
power loss). The next process on the host loads it into its
:class:`DuplicateWindow` and skips what it finds.

The file starts with a header naming the stream *instance* (its name and creation
time): a journal of another stream, or of a stream deleted and created again, is
discarded instead of skipping unrelated events with a reused ID. A lock file next to
it keeps a second live process from sharing it (that process runs without a journal,
with a warning). The file is rewritten from the window when it grows past twice the
window, so it stays bounded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

from kryten_actors.bot.delivery import CORRELATION_ID_PATTERN

if TYPE_CHECKING:
    from kryten_actors.config import KrytenConfig

__all__ = ["DuplicateWindow", "HandledJournal", "journal_path", "open_journal"]

log = logging.getLogger("kryten_actors.bot.jetstream")
_MAGIC = "kryten-actors handled v1"
_ID = re.compile(f"^{CORRELATION_ID_PATTERN}$")


class HandledJournal:
    """An append-only file of correlation IDs, locked to one process (see module doc)."""

    __slots__ = ("_fd", "_lock_fd", "_stream_id", "capacity", "path", "written")

    def __init__(self, path: Path, *, stream_id: str, capacity: int) -> None:
        self.path = path
        self.capacity = capacity
        self._stream_id = stream_id
        self._fd = -1
        self._lock_fd = -1
        #: IDs in the file (what a rewrite compares with ``2 * capacity``)
        self.written = 0

    def __repr__(self) -> str:
        return f"HandledJournal({str(self.path)!r}, written={self.written})"

    def open(self) -> list[str] | None:
        """Lock the journal and return the IDs a previous process left (oldest first).

        None when another live process holds the journal: this one then runs without
        it. IDs of another stream instance are discarded.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(f"{self.path}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(lock_fd)
                return None
        self._lock_fd = lock_fd
        ids = self._read()
        self.rewrite(ids)
        return ids

    def _read(self) -> list[str]:
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return []
        lines = text.split("\n")
        if lines[0] != f"{_MAGIC} {self._stream_id}":
            if text:
                log.info("handled-event journal %s names another stream: discarded", self.path)
            return []
        # a line cut by a crash has no newline after it: ignore it
        ids = [line for line in lines[1:-1] if _ID.match(line)]
        return ids[-self.capacity :]

    def append(self, correlation_id: str) -> None:
        """Record one handled event's ID (one ``write`` call)."""
        os.write(self._fd, f"{correlation_id}\n".encode("ascii"))
        self.written += 1

    @property
    def full(self) -> bool:
        """True when the file holds twice the window: time for :meth:`rewrite`."""
        return self.written >= 2 * self.capacity

    def rewrite(self, ids: Iterable[str]) -> None:
        """Replace the file by a header and ``ids`` (written aside, then renamed)."""
        ids = list(ids)
        temporary = self.path.with_name(self.path.name + ".new")
        body = "".join(f"{i}\n" for i in ids)
        temporary.write_text(f"{_MAGIC} {self._stream_id}\n{body}", encoding="ascii")
        temporary.replace(self.path)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = fd
        self.written = len(ids)

    def close(self) -> None:
        """Close the file and release the lock (the file stays for the next process)."""
        for fd in (self._fd, self._lock_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._fd = self._lock_fd = -1


def open_journal(
    path: Path, *, stream_id: str, capacity: int
) -> tuple[HandledJournal | None, list[str]]:
    """Open the journal at ``path``: (journal, IDs left by the previous process).

    (None, []) when it cannot be used (held by another process, or not writable): the
    bot then only knows the events it handles itself, and says so in a warning.
    """
    journal = HandledJournal(path, stream_id=stream_id, capacity=capacity)
    try:
        ids = journal.open()
    except OSError as exc:
        journal.close()
        log.warning(
            "handled-event journal %s cannot be used (%s): after a crash, events whose "
            "acks were lost are handled again, flagged redelivered",
            path,
            exc.strerror or exc,
        )
        return None, []
    if ids is None:
        log.warning(
            "handled-event journal %s is held by another live process: this one runs "
            "without it (give each process its own jetstream.journal)",
            path,
        )
        return None, []
    if ids:
        log.info("handled-event journal %s: %d handled IDs from a previous run", path, len(ids))
    return journal, ids


class DuplicateWindow:
    """The last ``capacity`` correlation IDs handled (insertion order; oldest leave first).

    With a journal attached, every ID added is also written to it, and the window
    starts with the IDs the previous process left there.
    """

    __slots__ = ("_ids", "capacity", "journal")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        # OrderedDict: dropping the oldest is O(1) (a dict's next(iter()) is not, after
        # many deletions at its front)
        self._ids: OrderedDict[str, None] = OrderedDict()
        self.journal: HandledJournal | None = None

    def __contains__(self, correlation_id: object) -> bool:
        return correlation_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, correlation_id: str) -> None:
        """Remember ``correlation_id``, forgetting the oldest when full."""
        ids = self._ids
        if correlation_id in ids:
            return
        if len(ids) >= self.capacity:
            ids.popitem(last=False)
        ids[correlation_id] = None
        journal = self.journal
        if journal is not None:
            try:
                journal.append(correlation_id)
                if journal.full:
                    journal.rewrite(ids)
            except OSError as exc:  # a full disk must not fail the event: memory only
                log.warning(
                    "handled-event journal %s failed (%s): continuing without it; after a "
                    "crash, events whose acks were lost are handled again, flagged",
                    journal.path,
                    exc.strerror or exc,
                )
                self.detach()

    def attach(self, journal: HandledJournal | None, restored: Iterable[str]) -> None:
        """Start from ``restored`` IDs and write new ones through to ``journal``."""
        for correlation_id in restored:
            self.add(correlation_id)
        self.journal = journal

    def detach(self) -> None:
        """Close the journal (it stays on disk for the next process)."""
        if self.journal is not None:
            self.journal.close()
            self.journal = None


def journal_path(config: KrytenConfig) -> Path | None:
    """Where ``config`` keeps its handled-event journal, or None (``journal: off``,
    ``redelivery: mark``, or sharding without a fixed ``member`` name)."""
    js = config.jetstream
    if js.redelivery != "skip" or js.journal == "off":
        return None
    if isinstance(js.journal, Path):
        return js.journal
    name = config.service_name
    if js.sharding.enabled:
        if js.sharding.member is None:  # a new member name each start: nothing to find
            return None
        name = f"{name}-{js.sharding.member}"
    # both parts are validated tokens ([A-Za-z0-9_-]): safe as a file name
    return Path(tempfile.gettempdir()) / "kryten-actors" / f"{name}.handled"
