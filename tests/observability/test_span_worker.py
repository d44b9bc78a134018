"""``tracing.span_worker``: spans recorded in the bot, built and exported by a worker process.

The span contents (IDs, parents, attributes, errors, links) are checked for both modes
by ``test_tracing.py`` and ``test_bot_tracing.py``; these tests cover what only the
worker has: the user's span API on a relayed span, values that cannot cross, a full
queue, a worker that dies, signals, and that nothing outlives the bot.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.proto.trace.v1.trace_pb2 import Status
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import StatusCode

from kryten_actors.config import KrytenConfig
from kryten_actors.observability.relay_spans import RelaySpan, RelayTracer
from kryten_actors.observability.settings import TelemetrySettings, resolve_settings
from kryten_actors.observability.span_relay import SpanRelay
from tests.observability.conftest import MakeInstrumentation
from tests.observability.otlp_receiver import OtlpHttpReceiver
from tests.polling import wait_until

SUBJECT = "kryten.events.cytube.lounge.chatmsg"
CID = "5f0c6a1e-8d2b-4c3f-9a7e-1b2c3d4e5f60"


def _settings(endpoint: str) -> TelemetrySettings:
    config = KrytenConfig(tracing={"enabled": True, "endpoint": endpoint, "span_worker": True})
    return resolve_settings(config, env={})


@pytest.fixture
def relay_for(otlp_receiver: OtlpHttpReceiver) -> Iterator[type[SpanRelay]]:
    """``relay_for(**options)``: a SpanRelay to ``otlp_receiver``, shut down afterwards."""
    made: list[SpanRelay] = []

    class _Relay(SpanRelay):
        def __init__(self, **options: float) -> None:
            super().__init__(_settings(otlp_receiver.base_url), **options)  # type: ignore[arg-type]
            made.append(self)

    yield _Relay
    for relay in made:
        relay.shutdown()


def _tracer(relay: SpanRelay) -> RelayTracer:
    return RelayTracer(relay.submit, ALWAYS_ON, RandomIdGenerator())


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not yet reaped, does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


async def _kill_worker(relay: SpanRelay) -> int:
    """SIGKILL the relay's worker and wait until it is reaped; its process ID."""
    pid = relay.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    # Until every thread of the worker is gone it may still read: wait until it is reaped.
    await wait_until(lambda: relay.worker_pid is None, within=10, what="the worker to die")
    return pid


async def test_the_span_api_in_a_handler_reaches_the_export(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation(span_worker=True)
    with instr.process(
        subject=SUBJECT,
        event_name="chatMsg",
        channel="lounge",
        domain="cytu.be",
        correlation_id=CID,
        actor="/root/cytu.be:lounge",
        headers=None,
        wait_seconds=0.0,
    ):
        span = trace_api.get_current_span()
        assert isinstance(span, RelaySpan)
        assert span.is_recording()
        span.set_attribute("bot.answer", 42)
        scores = [1, 2]
        span.set_attributes({"bot.mood": "fine", "bot.scores": scores})
        scores.append(3)  # after the call: not in the span, as with the SDK
        span.add_event("thought", {"about": "tea"})
        span.update_name("process greeting")
        span.set_status(StatusCode.OK)
        span.set_status(StatusCode.ERROR, "ignored: OK is final")
    assert not span.is_recording()
    span.set_attribute("after.end", True)  # recorded nowhere, like the SDK's span
    await instr.flush()
    [received] = otlp_receiver.store.spans
    assert received.name == "process greeting"
    assert received.trace_id == uuid.UUID(CID).hex
    assert received.attributes["bot.answer"] == 42
    assert received.attributes["bot.mood"] == "fine"
    assert received.attributes["bot.scores"] == [1, 2]
    assert "after.end" not in received.attributes
    [event] = received.span.events
    assert event.name == "thought"
    assert received.span.status.code == Status.STATUS_CODE_OK


async def test_a_value_that_is_not_plain_data_is_dropped_not_the_span(
    relay_for: type[SpanRelay], otlp_receiver: OtlpHttpReceiver
) -> None:
    relay = relay_for()
    tracer = _tracer(relay)
    odd = tracer.start_span("odd", attributes={"kept": "yes"})
    odd.set_attribute("dropped", object())  # type: ignore[arg-type]
    odd.add_event("with an odd value", {"also.dropped": object(), "fine": 1})  # type: ignore[dict-item]
    odd.end()
    tracer.start_span("plain").end()
    assert relay.flush()
    spans = {span.name: span for span in otlp_receiver.store.spans}
    assert set(spans) == {"odd", "plain"}
    assert spans["odd"].attributes == {"kept": "yes"}
    [event] = spans["odd"].span.events
    assert [pair.key for pair in event.attributes] == ["fine"]
    assert relay.dropped == 0


async def test_start_as_current_span_and_add_link_work_on_the_relay_tracer(
    relay_for: type[SpanRelay], otlp_receiver: OtlpHttpReceiver
) -> None:
    relay = relay_for()
    tracer = _tracer(relay)
    with tracer.start_as_current_span("outer") as outer:
        inner = tracer.start_span("inner")
        inner.add_link(outer.get_span_context(), {"why": "test"})
        inner.add_link(trace_api.INVALID_SPAN_CONTEXT)  # ignored, as by the SDK
        inner.end()
        with pytest.raises(ValueError, match="inside"), tracer.start_as_current_span("failing"):
            raise ValueError("raised inside")
    assert relay.flush()
    spans = {span.name: span for span in otlp_receiver.store.spans}
    assert spans["inner"].parent_span_id == spans["outer"].span_id
    assert spans["failing"].parent_span_id == spans["outer"].span_id
    [link] = spans["inner"].span.links
    assert link.span_id.hex() == spans["outer"].span_id
    assert spans["failing"].span.status.code == Status.STATUS_CODE_ERROR
    assert [event.name for event in spans["failing"].span.events] == ["exception"]


async def test_nothing_starts_until_a_span_is_sampled(relay_for: type[SpanRelay]) -> None:
    before = set(threading.enumerate())
    relay = relay_for()
    assert relay.flush()  # nothing to export
    assert relay.worker_pid is None
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("kryten-")]


async def test_spans_beyond_the_queue_are_dropped_and_counted(
    relay_for: type[SpanRelay], otlp_receiver: OtlpHttpReceiver
) -> None:
    # Nothing is sent before the flush: the batch is large and its delay long.
    relay = relay_for(max_queue=3, batch_size=1000, delay=600.0)
    tracer = _tracer(relay)
    for number in range(5):
        tracer.start_span(f"span {number}").end()
    assert relay.dropped == 2
    assert relay.losses() == {"queue_full": 2}
    assert relay.flush()
    assert sorted(span.name for span in otlp_receiver.store.spans) == [
        "span 0",
        "span 1",
        "span 2",
    ]


async def test_a_worker_that_dies_is_replaced(
    relay_for: type[SpanRelay], otlp_receiver: OtlpHttpReceiver
) -> None:
    relay = relay_for(restart_after=0.0)
    tracer = _tracer(relay)
    tracer.start_span("before").end()
    assert relay.flush()
    first = await _kill_worker(relay)
    tracer.start_span("after").end()
    assert relay.flush()
    assert relay.worker_pid not in {None, first}
    assert sorted(span.name for span in otlp_receiver.store.spans) == ["after", "before"]


async def test_a_worker_that_dies_again_soon_is_not_restarted_and_its_spans_are_counted(
    relay_for: type[SpanRelay], otlp_receiver: OtlpHttpReceiver
) -> None:
    relay = relay_for(restart_after=600.0)  # started less than 600 s ago: no new one
    tracer = _tracer(relay)
    tracer.start_span("exported").end()
    assert relay.flush()
    await _kill_worker(relay)
    tracer.start_span("lost").end()
    assert not relay.flush()
    assert relay.losses() == {"worker_lost": 1}
    assert [span.name for span in otlp_receiver.store.spans] == ["exported"]


async def test_a_worker_that_cannot_start_drops_and_counts_every_span(
    relay_for: type[SpanRelay], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    relay = relay_for()
    assert relay.worker_pid is None
    tracer = _tracer(relay)
    tracer.start_span("nowhere to go").end()
    assert not relay.flush(timeout_millis=5_000)
    await wait_until(lambda: relay.dropped == 1, within=10, what="the span to be counted")
    assert relay.losses() == {"worker_lost": 1}


async def test_the_worker_ignores_ctrl_c_and_exits_when_shut_down(
    relay_for: type[SpanRelay], otlp_receiver: OtlpHttpReceiver
) -> None:
    relay = relay_for()
    tracer = _tracer(relay)
    tracer.start_span("first").end()
    assert relay.flush()  # the worker is up, its signal handlers set
    pid = relay.worker_pid
    assert pid is not None
    os.kill(pid, signal.SIGINT)  # what a terminal's Ctrl-C sends the whole group
    os.kill(pid, signal.SIGTERM)  # what a service manager's stop sends the whole group
    tracer.start_span("second").end()
    assert relay.flush()
    assert relay.worker_pid == pid
    tracer.start_span("last, exported by the shutdown").end()
    relay.shutdown()
    assert not _alive(pid)
    assert relay.worker_pid is None
    names = sorted(span.name for span in otlp_receiver.store.spans)
    assert names == ["first", "last, exported by the shutdown", "second"]


async def test_the_worker_exits_with_the_bot_and_has_no_secret_on_its_command_line(
    otlp_receiver: OtlpHttpReceiver, tmp_path: Path
) -> None:
    base = otlp_receiver.base_url.replace("http://", "http://bot:s3cret-token@")
    script = tmp_path / "bot.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, sys
            from kryten_actors.config import KrytenConfig
            from kryten_actors.observability.settings import resolve_settings
            from kryten_actors.observability.span_relay import SpanRelay
            config = KrytenConfig(tracing={{"enabled": True, "endpoint": {base!r}}})
            relay = SpanRelay(resolve_settings(config, env={{}}))
            relay.submit(("a span", 1, 1, 1, None, 1, 2, {{}}, [], [], None))
            assert relay.flush()
            print(relay.worker_pid, flush=True)
            sys.stdin.readline()
            os._exit(1)  # dies without shutting anything down
            """
        )
    )
    bot = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert bot.stdout is not None
    assert bot.stdin is not None
    async with asyncio.timeout(30):
        pid = int(await bot.stdout.readline())
    command_line = await asyncio.to_thread(Path(f"/proc/{pid}/cmdline").read_bytes)
    assert b"s3cret" not in command_line
    assert command_line.split(b"\0")[1:3] == [b"-m", b"kryten_actors.observability.span_worker"]
    bot.stdin.write(b"\n")
    await bot.stdin.drain()
    assert await asyncio.wait_for(bot.wait(), 30) == 1
    await wait_until(lambda: not _alive(pid), within=30, what="the orphaned worker to exit")


async def test_the_worker_reports_what_its_exporter_lost_without_a_flush(
    relay_for: type[SpanRelay], otlp_receiver: OtlpHttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker inherits the environment: its batch processor exports every span at once.
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1")
    relay = SpanRelay(_settings(f"{otlp_receiver.base_url}/refuses"), delay=0.05)
    try:
        tracer = _tracer(relay)

        def one_more_then_look() -> bool:
            # The worker reports after a batch of records in which its count changed, so
            # each look sends one more span behind the ones its exporter gave up.
            tracer.start_span("refused").end()
            return relay.losses().get("export_failed", 0) >= 1

        await wait_until(one_more_then_look, within=30, what="the worker's report")
        assert set(relay.losses()) == {"export_failed"}
        assert not otlp_receiver.store.spans
    finally:
        relay.shutdown()
