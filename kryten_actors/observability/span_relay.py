"""The bot's end of the span worker: batches of span records down a pipe to a process.

:class:`SpanRelay` starts ``python -m kryten_actors.observability.span_worker`` (a plain
subprocess, not ``multiprocessing``: nothing of the bot's ``__main__`` runs again there)
when the first sampled span ends — an instrumentation that never samples one starts no
thread and no process — and sends it the telemetry settings, then batches of
:data:`SpanRecord`. Frames on the worker's stdin are a 4-byte big-endian length and a
``marshal`` body (only ints, strings, floats, bools, None, tuples, lists and dicts
cross: an attribute value of any other type is dropped with a warning, as the SDK drops
it). The worker answers flush requests on its stdout.

Threads, both stopped by :meth:`SpanRelay.shutdown`: a writer that sends a batch when
``batch_size`` records wait, ``delay`` seconds after the first of a partial batch, or
on flush; a reader of the worker's answers. :meth:`submit` — called on the event loop
when a sampled span ends — only appends to a list under a lock. More than
``max_queue`` records waiting (the worker cannot keep up, or died) are dropped and
counted, like the SDK's batch processor does. A worker that dies is started again at
the next batch (at most once per ``restart_after`` seconds); the batch it lost is
counted as dropped. :meth:`SpanRelay.losses` adds what the workers reported losing
themselves (their export queue full, their exporter failing) to the relay's own.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from typing import Any, Final

from kryten_actors.observability.relay_spans import SpanRecord
from kryten_actors.observability.settings import TelemetrySettings
from kryten_actors.observability.span_losses import EXPORT_FAILED, QUEUE_FULL, SpanLosses, merged

__all__ = ["AFTER_SHUTDOWN", "UNENCODABLE", "WORKER_LOST", "SpanRelay", "frame"]

logger = logging.getLogger(__name__)

_WORKER: Final = "kryten_actors.observability.span_worker"
# Reasons the relay itself loses a span (besides QUEUE_FULL, its own queue):
UNENCODABLE: Final = "unencodable"  # a record marshal cannot write, attributes aside
WORKER_LOST: Final = "worker_lost"  # no worker took the batch (died, cannot start)
AFTER_SHUTDOWN: Final = "after_shutdown"  # ended after the relay was shut down


def frame(message: Any) -> bytes:
    """``message`` as one frame of the worker's stdin (raises ``ValueError`` for a
    value ``marshal`` cannot write)."""
    body = marshal.dumps(message)
    return len(body).to_bytes(4, "big") + body


class SpanRelay:
    """Span records to a worker process that builds and exports them (see the module)."""

    def __init__(
        self,
        settings: TelemetrySettings,
        *,
        batch_size: int = 512,
        max_queue: int = 8192,
        delay: float = 1.0,
        restart_after: float = 5.0,
    ) -> None:
        self._settings = settings
        self._batch_size = batch_size
        self._max_queue = max_queue
        self._delay = delay
        self._restart_after = restart_after
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: list[SpanRecord] = []
        self._flush_asked = 0
        self._flush_sent = 0
        self._flush_answered = 0
        self._flush_ok = True
        self._closing = False
        self._dropped = SpanLosses()  # by reason: never handed to a worker
        self._worker_losses: list[tuple[int, int]] = []  # per worker: (queue full, failed)
        self.worker_cpu_seconds = 0.0
        """CPU time the current worker reported at its last flush answer."""
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._writer: threading.Thread | None = None
        self._started_at: float | None = None  # when the last worker was started

    @property
    def dropped(self) -> int:
        """Span records never handed to a worker (queue full, unencodable, worker lost)."""
        return self._dropped.total

    def losses(self) -> dict[str, int]:
        """Spans lost by reason: the relay's own and what its workers reported (a
        worker reports after each batch in which they changed, and at each flush)."""
        with self._lock:
            workers = {
                QUEUE_FULL: sum(full for full, _ in self._worker_losses),
                EXPORT_FAILED: sum(failed for _, failed in self._worker_losses),
            }
            return {k: v for k, v in merged(self._dropped.counts(), workers).items() if v}

    @property
    def worker_pid(self) -> int | None:
        """The current worker's process ID (None while none runs)."""
        process = self._process
        return None if process is None or process.poll() is not None else process.pid

    # --- the event loop's side ---------------------------------------------------------
    def submit(self, record: SpanRecord) -> None:
        """Queue one ended span's record (never blocks on the worker)."""
        with self._lock:
            pending = self._pending
            if len(pending) >= self._max_queue or self._closing:
                if self._closing:
                    self._count_dropped(1, AFTER_SHUTDOWN, "the relay was shut down")
                else:
                    self._count_dropped(1, QUEUE_FULL, "the queue is full")
                return
            pending.append(record)
            if self._writer is None:
                self._start_writer()
            elif len(pending) == 1 or len(pending) >= self._batch_size:
                self._wake.notify()

    def flush(self, timeout_millis: int = 30_000) -> bool:
        """Block until every record submitted so far was exported by the worker (its
        batch processor flushed); False on timeout or a lost worker."""
        deadline = time.monotonic() + timeout_millis / 1000
        with self._wake:
            writer = self._writer
            if writer is None or not writer.is_alive():
                # never started (no span was ever submitted) or shut down: nothing more
                # will be sent, so done if nothing waits
                return not self._pending
            self._flush_asked += 1
            token = self._flush_asked
            self._wake.notify_all()
            while self._flush_answered < token:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(left)
            return self._flush_ok

    def shutdown(self, timeout: float = 10.0) -> None:
        """Send what is queued, let the worker export it and exit; stop both threads."""
        with self._wake:
            self._closing = True
            self._wake.notify_all()
            writer = self._writer
        if writer is not None:
            writer.join(timeout)
        process = self._process
        if process is not None:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "span worker %d did not exit in %.0f s: killed", process.pid, timeout
                )
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(timeout)
        _close_pipes(process)
        if lost := self.losses():
            logger.warning("span relay: spans lost in all, by reason: %s", lost)

    # --- the writer thread -------------------------------------------------------------
    def _start_writer(self) -> None:
        """Start the writer (with the lock held): it starts the worker when it first
        has something to send, so an instrumentation that never samples a span starts
        neither."""
        self._writer = threading.Thread(target=self._write_loop, name="kryten-span-relay")
        self._writer.daemon = True
        self._writer.start()

    def _write_loop(self) -> None:
        try:
            self._send_until_closed()
        except Exception:
            logger.exception("span relay's writer failed; later spans are dropped")
            with self._wake:  # submit() counts what comes, flush() answers False at once
                self._closing = True
                self._flush_ok = False
                self._flush_answered = sys.maxsize
                self._wake.notify_all()

    def _send_until_closed(self) -> None:
        while True:
            with self._wake:
                first_at: float | None = None
                while not self._ready_to_send():
                    now = time.monotonic()
                    if self._pending and first_at is None:
                        first_at = now
                    if first_at is not None and now - first_at >= self._delay:
                        break
                    self._wake.wait(None if first_at is None else self._delay)
                batch, self._pending = self._pending, []
                flush = self._flush_asked
                closing = self._closing
            if batch:
                self._send_batch(batch)
            if flush > self._flush_sent:
                self._send_flush(flush)
            if closing:
                self._close_worker()
                return

    def _ready_to_send(self) -> bool:
        return (
            len(self._pending) >= self._batch_size
            or self._flush_asked > self._flush_sent
            or self._closing
        )

    def _send_batch(self, batch: list[SpanRecord]) -> None:
        try:
            data = frame(("spans", batch))
        except ValueError:
            # Some attribute value is not plain data: the SDK would drop it with a warning,
            # so drop just those values, with one warning.
            logger.warning("span attributes whose values are not plain data were dropped")
            plain = [record for record in map(_plain, batch) if _encodable(record)]
            with self._lock:
                self._count_dropped(
                    len(batch) - len(plain), UNENCODABLE, "a span record is not plain data"
                )
            batch = plain
            data = frame(("spans", plain))
        if not self._write(data):
            with self._lock:
                self._count_dropped(len(batch), WORKER_LOST, "the span worker is gone")

    def _send_flush(self, token: int) -> None:
        process = self._live_worker()
        with self._wake:
            # Marked sent before the write: if this worker dies from here on, its reader
            # answers the token (False); a token no worker got is answered here.
            self._flush_sent = token
        if process is None or not self._write(frame(("flush", token)), process):
            with self._wake:
                self._flush_answered = max(self._flush_answered, token)
                self._flush_ok = False
                self._wake.notify_all()

    def _live_worker(self) -> subprocess.Popen[bytes] | None:
        """The running worker; a new one if it exited (at most once per ``restart_after``)."""
        process = self._process
        if process is not None and process.poll() is None:
            return process
        started = self._started_at
        if started is not None and time.monotonic() - started < self._restart_after:
            return None
        if process is not None:
            logger.error("span worker exited (code %s); starting another", _code(process))
            _close_pipes(process)
        self._start_worker()
        return self._process

    def _write(self, data: bytes, process: subprocess.Popen[bytes] | None = None) -> bool:
        process = process or self._live_worker()
        if process is None:
            return False
        stdin = process.stdin
        assert stdin is not None
        try:
            stdin.write(data)
            stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return True

    def _close_worker(self) -> None:
        process = self._process
        if process is not None and process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the worker's cue to flush and exit

    # --- the worker process and its answers --------------------------------------------
    def _start_worker(self) -> None:
        self._started_at = time.monotonic()
        try:
            process = subprocess.Popen(  # noqa: S603 -- our own module, our interpreter
                [sys.executable, "-m", _WORKER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        except OSError:
            logger.exception("span worker could not be started; spans are dropped")
            self._process = None
            return
        assert process.stdin is not None
        with contextlib.suppress(OSError):  # a worker dead already: the next write says so
            process.stdin.write(frame(("settings", asdict(self._settings))))
            process.stdin.flush()
        self._process = process
        assert process.stdout is not None
        self._reader = threading.Thread(
            target=self._read_answers, args=(process,), name="kryten-span-answers"
        )
        self._reader.daemon = True
        self._reader.start()

    def _read_answers(self, process: subprocess.Popen[bytes]) -> None:
        answers = process.stdout
        assert answers is not None
        with self._lock:  # this worker's own slot: a worker's counts start at zero
            slot = len(self._worker_losses)
            self._worker_losses.append((0, 0))
        for line in answers:
            try:
                fields = line.split()
                if fields[0] == b"losses":
                    lost = int(fields[1]), int(fields[2])
                    with self._lock:
                        self._worker_losses[slot] = lost
                    continue
                token, ok, cpu, full, failed = fields
                answered, cpu_seconds = int(token), float(cpu)
                lost = int(full), int(failed)
            except (ValueError, IndexError):
                continue  # not an answer (something printed before the worker took fd 1)
            with self._wake:
                self._flush_answered = max(self._flush_answered, answered)
                self._flush_ok = ok == b"1"
                self.worker_cpu_seconds = cpu_seconds
                self._worker_losses[slot] = lost
                self._wake.notify_all()
        with self._wake:  # the worker is gone: no flush waits for it any longer
            if not self._closing:
                logger.error(
                    "span worker %d ended unexpectedly: spans it had not exported are lost",
                    process.pid,
                )
            if process is self._process:  # (not when a new worker has taken over)
                self._flush_answered = max(self._flush_answered, self._flush_sent)
                self._flush_ok = False
                self._wake.notify_all()

    def _count_dropped(self, count: int, reason: str, why: str) -> None:
        """Count ``count`` records lost for ``reason`` (with the lock held; the first
        loss of each reason is logged with ``why``)."""
        if count > 0 and reason not in self._dropped.counts():
            logger.warning("span relay dropped %d span(s): %s (counted from now on)", count, why)
        self._dropped.add(reason, count)


def _encodable(value: Any) -> bool:
    try:
        marshal.dumps(value)
    except ValueError:
        return False
    return True


def _kept(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in attributes.items() if _encodable(value)}


def _plain(record: SpanRecord) -> SpanRecord:
    """``record`` without the attribute values ``marshal`` cannot write."""
    if _encodable(record):
        return record
    *head, attributes, events, links, status = record
    return (
        *head,
        _kept(attributes),
        [(name, _kept(values), when) for name, values, when in events],
        [(*link[:5], _kept(link[5])) for link in links],
        status,
    )


def _close_pipes(process: subprocess.Popen[bytes] | None) -> None:
    if process is None:
        return
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def _code(process: subprocess.Popen[bytes] | None) -> int | None:
    return None if process is None else process.returncode
