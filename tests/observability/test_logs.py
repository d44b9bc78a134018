"""Logging: context on every record, text and JSON formats, levels, repeated warnings."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest

from kryten_actors.errors import KrytenValidationError
from kryten_actors.observability.logs import (
    CONTEXT_FIELDS,
    ContextFilter,
    JsonFormatter,
    RepeatedWarnings,
    TextFormatter,
    configure_logging,
    reset_log_context,
    resolve_level,
    set_log_context,
)

CID = "6f9619ff-8b86-d011-b42d-00cf4fc964ff"


def record(message: str = "hello %s", *args: object) -> logging.LogRecord:
    return logging.LogRecord("kryten_actors.test", logging.INFO, __file__, 10, message, args, None)


def formatted(formatter: logging.Formatter, rec: logging.LogRecord) -> str:
    ContextFilter().filter(rec)
    return formatter.format(rec)


def test_json_record_outside_a_handler_has_every_key_null() -> None:
    line = json.loads(formatted(JsonFormatter(), record("hello %s", "world")))
    assert line["message"] == "hello world"
    assert line["level"] == "INFO"
    assert line["logger"] == "kryten_actors.test"
    assert line["time"].endswith("+00:00")
    for name in CONTEXT_FIELDS:
        assert name in line
        assert line[name] is None


def test_json_record_inside_a_handler_names_channel_actor_event_and_trace() -> None:
    token = set_log_context(("cytu.be/lounge", "/root/cytu.be:lounge", "chatMsg", CID))
    try:
        line = json.loads(formatted(JsonFormatter(), record()))
    finally:
        reset_log_context(token)
    assert line["channel"] == "cytu.be/lounge"
    assert line["actor"] == "/root/cytu.be:lounge"
    assert line["event"] == "chatMsg"
    assert line["correlation_id"] == CID
    # the trace a root span of this correlation ID gets (observability.correlation)
    assert line["trace_id"] == f"{uuid.UUID(CID).int:032x}"


def test_json_record_carries_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        import sys  # noqa: PLC0415

        rec.exc_info = sys.exc_info()
    line = json.loads(formatted(JsonFormatter(), rec))
    assert "ValueError: boom" in line["exception"]


def test_text_record_shows_the_context_in_brackets() -> None:
    token = set_log_context(("cytu.be/lounge", "/root/cytu.be:lounge", "chatMsg", CID))
    try:
        text = formatted(TextFormatter(), record("hello %s", "you"))
    finally:
        reset_log_context(token)
    assert f"kryten_actors.test [cytu.be/lounge chatMsg cid={CID}]: hello you" in text
    assert ": hello you" in formatted(TextFormatter(), record("hello %s", "you"))
    assert "[" not in formatted(TextFormatter(), record("plain"))


def test_a_field_the_record_already_has_is_kept() -> None:
    rec = record()
    rec.actor = "/root/router"
    token = set_log_context(("cytu.be/lounge", "/root/cytu.be:lounge", None, None))
    try:
        ContextFilter().filter(rec)
    finally:
        reset_log_context(token)
    assert rec.actor == "/root/router"  # type: ignore[attr-defined]
    assert rec.channel == "cytu.be/lounge"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("given", "env", "configured", "expected"),
    [
        ("debug", "ERROR", "WARNING", logging.DEBUG),
        (None, "error", "WARNING", logging.ERROR),
        (None, "", "warning", logging.WARNING),
        (None, "", None, logging.INFO),
        (logging.DEBUG, "", None, logging.DEBUG),
    ],
)
def test_level_precedence_option_then_environment_then_config(
    given: str | int | None, env: str, configured: str | None, expected: int
) -> None:
    assert resolve_level(given, configured, env={"KRYTEN_LOG_LEVEL": env}) == expected


def test_a_bad_level_names_where_it_came_from() -> None:
    with pytest.raises(KrytenValidationError, match="KRYTEN_LOG_LEVEL: 'loud' is not a log level"):
        resolve_level(None, env={"KRYTEN_LOG_LEVEL": "loud"})


@contextlib.contextmanager
def bare_root() -> Iterator[logging.Logger]:
    """The root logger without pytest's handlers (added around each test's call), restored."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    root.handlers.clear()
    try:
        yield root
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved
        root.setLevel(level)


def test_configure_logging_installs_once_and_only_when_the_app_did_not() -> None:
    with bare_root() as root:
        check_configure_logging(root)


def check_configure_logging(bare_root: logging.Logger) -> None:
    stream = io.StringIO()
    assert configure_logging("warning", "json", stream=stream)
    assert bare_root.level == logging.WARNING
    logging.getLogger("kryten_actors.test").warning("seen %d", 1)
    logging.getLogger("kryten_actors.test").info("not seen")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["seen 1"]
    # called again it replaces its own handler instead of adding a second one
    assert configure_logging("info", "text", stream=stream)
    assert len(bare_root.handlers) == 1
    # an application's own handler wins
    bare_root.handlers.clear()
    bare_root.addHandler(logging.NullHandler())
    assert not configure_logging("debug", stream=stream)
    assert bare_root.level == logging.INFO


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def emit(logger: logging.Logger, count: int, line: int = 42) -> None:
    for n in range(count):
        rec = logger.makeRecord(logger.name, logging.WARNING, "x.py", line, "bad %d", (n,), None)
        logger.handle(rec)


@pytest.fixture
def limited() -> Iterator[tuple[logging.Logger, RepeatedWarnings, list[str], FakeClock]]:
    clock = FakeClock()
    limiter = RepeatedWarnings(window=60, burst=3, clock=clock)
    logger = logging.getLogger("kryten_actors.test.repeated")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Collect()
    logger.addHandler(handler)
    logger.addFilter(limiter)
    yield logger, limiter, seen, clock
    logger.removeFilter(limiter)
    logger.removeHandler(handler)
    logger.propagate = True
    logger.setLevel(logging.NOTSET)


def test_a_flood_writes_the_burst_then_counts(
    limited: tuple[logging.Logger, RepeatedWarnings, list[str], FakeClock],
) -> None:
    logger, limiter, seen, clock = limited
    emit(logger, 2000)
    assert seen == ["bad 0", "bad 1", "bad 2"]
    clock.now = 61
    emit(logger, 1)
    assert seen[3] == "bad 0 (… and 1,997 more like this in the last 61 s)"
    assert limiter.flush() == 0  # nothing held back since


def test_flush_writes_the_pending_summary(
    limited: tuple[logging.Logger, RepeatedWarnings, list[str], FakeClock],
) -> None:
    logger, limiter, seen, clock = limited
    emit(logger, 10)
    clock.now = 5
    assert limiter.flush() == 1
    assert seen[-1] == "… and 7 more like this in the last 5 s; the last: bad 9"


def test_call_sites_and_levels_below_warning_are_apart(
    limited: tuple[logging.Logger, RepeatedWarnings, list[str], FakeClock],
) -> None:
    logger, _, seen, _ = limited
    emit(logger, 5, line=1)
    emit(logger, 5, line=2)
    for n in range(5):
        logger.info("info %d", n)
    assert len(seen) == 3 + 3 + 5
