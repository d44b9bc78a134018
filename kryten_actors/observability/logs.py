"""Logging for bots: who and what every record is about, text or JSON lines, no floods.

:func:`configure_logging` is what ``Bot.run()`` calls when the application has not set
up logging itself (the root logger has no handler), as uvicorn and FastStream do. It
installs one handler on ``stderr`` whose records carry, when logged while a channel
actor handles a message:

``channel``
    ``domain/channel``;
``actor``
    the actor's path (``/root/cytu.be:lounge``);
``event``
    the CyTube event name (``chatMsg``), None in timer callbacks;
``correlation_id`` and ``trace_id``
    the event's correlation UUID and the trace it belongs to (the current span's trace
    when tracing is on, else the trace ID the correlation UUID maps to).

Outside a handler they are None. ``text`` shows them in brackets after the logger name;
``json`` writes one object per line with every key always present.

The level comes from the first of: the ``level`` argument (``--log-level`` of
``kryten-actors run``), ``$KRYTEN_LOG_LEVEL``, the config's ``log_level``, ``INFO``;
any case is accepted.

:class:`RepeatedWarnings` keeps a flood of one warning from flooding the log: past
``burst`` records from one call site within ``window`` seconds, records are counted
instead of written, and the next one written (or :meth:`RepeatedWarnings.flush`, which
``Bot.stop()`` calls) says ``… and 1,995 more like this in the last 60 s``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal, TextIO

from kryten_actors.errors import KrytenValidationError

__all__ = [
    "CONTEXT_FIELDS",
    "LOG_CONTEXT",
    "LOG_LEVEL_ENV",
    "ContextFilter",
    "JsonFormatter",
    "LogContext",
    "RepeatedWarnings",
    "TextFormatter",
    "configure_logging",
    "current_log_context",
    "flush_repeated_warnings",
    "limit_repeated_warnings",
    "reset_log_context",
    "resolve_level",
    "set_log_context",
]

LOG_LEVEL_ENV: Final = "KRYTEN_LOG_LEVEL"
LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CONTEXT_FIELDS: Final = ("channel", "actor", "event", "correlation_id", "trace_id")
"""Attributes :class:`ContextFilter` puts on every record (None outside a handler)."""

LogFormat = Literal["text", "json"]
LogContext = tuple[str, str, str | None, str | None]
"""``(channel, actor path, event name, correlation ID)`` of the message being handled."""

_context: ContextVar[LogContext | None] = ContextVar("kryten_log_context", default=None)
LOG_CONTEXT: Final = _context
"""The context variable :func:`set_log_context` sets (the hot path sets it directly)."""
_HANDLER_NAME: Final = "kryten-actors"
_PACKAGE_LOGGER: Final = "kryten_actors"


def set_log_context(context: LogContext | None) -> Token[LogContext | None]:
    """Make ``context`` what records logged in this task are about; ``reset`` the token after.

    Channel actors call this around each message they handle.
    """
    return _context.set(context)


def reset_log_context(token: Token[LogContext | None]) -> None:
    """Undo :func:`set_log_context`."""
    _context.reset(token)


def current_log_context() -> LogContext | None:
    """What records logged now are about (None outside a handler)."""
    return _context.get()


def _trace_id(correlation_id: str | None) -> str | None:
    # Only when tracing already loaded OpenTelemetry: logging must not import it.
    trace_module = sys.modules.get("opentelemetry.trace")
    if trace_module is not None:
        span_context = trace_module.get_current_span().get_span_context()
        if span_context.is_valid:
            return f"{span_context.trace_id:032x}"
    if not correlation_id:
        return None
    try:
        value = uuid.UUID(correlation_id).int
    except ValueError:
        return None
    # the trace a root span gets from this correlation ID (observability.correlation)
    return f"{value:032x}" if value else None


class ContextFilter(logging.Filter):
    """Adds :data:`CONTEXT_FIELDS` to every record; never drops one.

    A field the record already has (for example ``actor`` from an actor's
    ``context.logger``, or a caller's ``extra``) is kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        channel, actor, event, correlation_id = context or (None, None, None, None)
        values = {
            "channel": channel,
            "actor": actor,
            "event": event,
            "correlation_id": correlation_id,
        }
        for name, value in values.items():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        if getattr(record, "trace_id", None) is None:
            record.trace_id = _trace_id(getattr(record, "correlation_id", None))
        return True


def _context_of(record: logging.LogRecord) -> dict[str, object]:
    return {name: getattr(record, name, None) for name in CONTEXT_FIELDS}


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [channel event cid=…]: message``; the brackets only in a handler."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(kryten_context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        context = _context_of(record)
        parts = [str(context[name]) for name in ("channel", "event") if context[name]]
        if context["correlation_id"]:
            parts.append(f"cid={context['correlation_id']}")
        if not parts and context["actor"]:
            parts.append(str(context["actor"]))
        record.kryten_context = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, every :data:`CONTEXT_FIELDS` key (null when not applicable) and, for
    an exception, ``exception`` (the formatted traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context_of(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def resolve_level(
    level: str | int | None,
    configured: str | None = None,
    *,
    env: Mapping[str, str] = os.environ,
) -> int:
    """The level to log at: ``level``, else ``$KRYTEN_LOG_LEVEL``, else ``configured``,
    else INFO. Names match in any case; raises :class:`KrytenValidationError` naming the
    source of a name that is not a level."""
    if isinstance(level, int):
        return level
    for source, value in (
        ("log level", level),
        (LOG_LEVEL_ENV, env.get(LOG_LEVEL_ENV) or None),
        ("log_level", configured),
    ):
        if value is None:
            continue
        name = value.strip().upper()
        if name not in LEVELS:
            msg = f"{source}: {value!r} is not a log level; use one of {', '.join(LEVELS)}"
            raise KrytenValidationError(msg, [(source, "not a log level")])
        return int(getattr(logging, name))
    return logging.INFO


def configure_logging(
    level: str | int | None = None,
    log_format: LogFormat = "text",
    *,
    configured_level: str | None = None,
    stream: TextIO | None = None,
    force: bool = False,
) -> bool:
    """Log to ``stream`` (stderr) in ``log_format``, unless the application already
    configured logging (the root logger has a handler) and ``force`` is false.

    Returns True when it installed its handler. Also turns on
    :func:`limit_repeated_warnings`. Calling it again replaces its own handler.
    """
    root = logging.getLogger()
    own = [h for h in root.handlers if h.get_name() == _HANDLER_NAME]
    if root.handlers and not own and not force:
        return False
    resolved = resolve_level(level, configured_level)
    for handler in own:
        root.removeHandler(handler)
        handler.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(resolved)
    limit_repeated_warnings()
    return True


@dataclass(slots=True)
class _Window:
    started: float
    written: int = 1
    suppressed: int = 0
    last: tuple[int, str, str] | None = None
    """Level, message and function of the last record held back (not the record: its
    arguments and traceback would stay alive)."""


_SUMMARY_FLAG: Final = "kryten_repeat_summary"


class RepeatedWarnings(logging.Filter):
    """Rate-limits WARNING and above per call site (logger, file, line).

    Within ``window`` seconds of the first record from a call site, the first ``burst``
    are written and the rest counted. The first record written after the window
    ends carries ``(… and N more like this in the last S s)``; :meth:`flush` writes that
    summary for every call site still holding a count. DEBUG and INFO pass untouched.
    """

    def __init__(
        self, *, window: float = 60.0, burst: int = 5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.window = window
        self.burst = burst
        self._clock = clock
        self._windows: dict[tuple[str, str, int], _Window] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, _SUMMARY_FLAG, False):
            return True
        key = (record.name, record.pathname, record.lineno)
        now = self._clock()
        with self._lock:
            current = self._windows.get(key)
            if current is None or now - current.started >= self.window:
                self._windows[key] = _Window(started=now)
                if current is not None and current.suppressed:
                    _append_summary(record, current.suppressed, now - current.started)
                return True
            if current.written < self.burst:
                current.written += 1
                return True
            current.suppressed += 1
            current.last = (record.levelno, record.getMessage(), record.funcName)
            return False

    def flush(self) -> int:
        """Write a summary for every call site with suppressed records; returns how many."""
        now = self._clock()
        with self._lock:
            pending = [(k, w) for k, w in self._windows.items() if w.suppressed and w.last]
            self._windows.clear()
        for (name, pathname, lineno), window in pending:
            assert window.last is not None
            level, message, function = window.last
            text = (
                f"… and {window.suppressed:,} more like this in the last "
                f"{now - window.started:.0f} s; the last: {message}"
            )
            summary = logging.LogRecord(name, level, pathname, lineno, text, None, None, function)
            setattr(summary, _SUMMARY_FLAG, True)
            logging.getLogger(name).handle(summary)
        return len(pending)


def _append_summary(record: logging.LogRecord, count: int, seconds: float) -> None:
    record.msg = (
        f"{record.getMessage()} (… and {count:,} more like this in the last {seconds:.0f} s)"
    )
    record.args = None


_LIMITER: Final = RepeatedWarnings()


def limit_repeated_warnings(names: Iterable[str] | None = None) -> RepeatedWarnings:
    """Attach the process-wide :class:`RepeatedWarnings` to kryten-actors' loggers.

    ``names`` defaults to every logger under ``kryten_actors`` created so far (a logger
    filter only sees records logged on that very logger). Idempotent.
    """
    if names is None:
        manager = logging.Logger.manager
        names = [n for n in manager.loggerDict if n.split(".")[0] == _PACKAGE_LOGGER]
        names.append(_PACKAGE_LOGGER)
    for name in names:
        logger = logging.getLogger(name)
        if _LIMITER not in logger.filters:
            logger.addFilter(_LIMITER)
    return _LIMITER


def flush_repeated_warnings() -> int:
    """Write the pending ``… and N more`` summaries now (``Bot.stop()`` does)."""
    return _LIMITER.flush()
