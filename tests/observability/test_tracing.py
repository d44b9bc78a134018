"""OtelInstrumentation spans as a real OTLP receiver decodes them."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace as trace_api
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kryten_actors.config import KrytenConfig
from kryten_actors.observability.instrumentation import (
    Instrumentation,
    NoInstrumentation,
    TracingStatus,
)
from kryten_actors.observability.providers import resource_for
from kryten_actors.observability.sampling import RandomBitsRatioSampler
from kryten_actors.observability.settings import resolve_settings
from kryten_actors.observability.tracing import OtelInstrumentation, instrumentation_from_config
from tests.observability.conftest import MakeInstrumentation
from tests.observability.otlp_receiver import OtlpGrpcReceiver, OtlpHttpReceiver


@pytest.fixture(params=[False, True], ids=["in-process", "span-worker"])
def make_instrumentation(
    request: pytest.FixtureRequest, make_instrumentation: MakeInstrumentation
) -> MakeInstrumentation:
    """Every test here runs twice: spans built in the bot, and in the span worker."""
    return functools.partial(make_instrumentation, span_worker=request.param)


CID = "5f0c6a1e-8d2b-4c3f-9a7e-1b2c3d4e5f60"
SUBJECT = "kryten.events.cytube.lounge.chatmsg"
# The attribute keys docs/tracing.md documents per span (errors add ``error.type``).
PROCESS_KEYS = {
    "messaging.system",
    "messaging.destination.name",
    "messaging.operation.type",
    "messaging.message.id",
    "cytube.channel",
    "cytube.domain",
    "cytube.event",
    "kryten.mailbox.wait_ms",
}
SEND_KEYS = {
    "messaging.system",
    "messaging.destination.name",
    "messaging.operation.type",
    "messaging.message.conversation_id",
    "cytube.channel",
    "cytube.domain",
    "cytube.command",
}


def _process(instr: Instrumentation, **overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "subject": SUBJECT,
        "event_name": "chatMsg",
        "channel": "lounge",
        "domain": "cytu.be",
        "correlation_id": CID,
        "actor": "/bot/cytu.be/lounge",
        "headers": None,
        "wait_seconds": 0.25,
    }
    kwargs.update(overrides)
    return instr.process(**kwargs)


def _send(instr: Instrumentation, headers: dict[str, str], **overrides: Any) -> Any:
    kwargs: dict[str, Any] = {
        "subject": "kryten.robot.command",
        "action": "chat",
        "channel": "lounge",
        "domain": "cytu.be",
        "correlation_id": CID,
        "headers": headers,
    }
    kwargs.update(overrides)
    return instr.send(**kwargs)


class Boom(RuntimeError):
    pass


async def test_process_span_trace_id_is_the_correlation_uuid(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation(service_name="greeter-bot")
    with _process(instr):
        pass
    await instr.flush()
    # flush() exported already: no waiting, though the batch delay is 5 s.
    [span] = otlp_receiver.store.spans
    assert span.trace_id == uuid.UUID(CID).hex
    assert span.parent_span_id == ""
    assert span.name == "process kryten.events.cytube.{channel}.{event}"
    assert span.span.kind == Span.SPAN_KIND_CONSUMER
    assert span.resource["service.name"] == "greeter-bot"
    assert span.scope == "kryten_actors"
    attrs = span.attributes
    assert attrs == attrs | {
        "messaging.system": "nats",
        "messaging.destination.name": SUBJECT,
        "messaging.operation.type": "process",
        "messaging.message.id": CID,
        "cytube.channel": "lounge",
        "cytube.domain": "cytu.be",
        "cytube.event": "chatMsg",
    }
    assert attrs["kryten.mailbox.wait_ms"] == pytest.approx(250.0)
    # exactly the keys docs/tracing.md lists for a process span: each costs the span
    assert set(attrs) == PROCESS_KEYS
    assert otlp_receiver.store.paths == ["/v1/traces"]


async def test_send_span_is_child_of_process_span_and_named_by_traceparent(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation()
    headers: dict[str, str] = {"Kryten-Source": "test"}
    with _process(instr), _send(instr, headers):
        pass
    await instr.flush()
    store = otlp_receiver.store
    process = store.span_named("process ")
    send = store.span_named("send ")
    assert send.name == "send kryten.robot.command"
    assert send.span.kind == Span.SPAN_KIND_PRODUCER
    assert send.trace_id == process.trace_id == uuid.UUID(CID).hex
    assert send.parent_span_id == process.span_id
    assert headers["traceparent"] == f"00-{send.trace_id}-{send.span_id}-01"
    assert headers["Kryten-Source"] == "test"
    attrs = send.attributes
    assert set(attrs) == SEND_KEYS
    assert attrs["messaging.operation.type"] == "send"
    assert attrs["messaging.destination.name"] == "kryten.robot.command"
    assert attrs["messaging.message.conversation_id"] == CID
    assert attrs["cytube.command"] == "chat"


async def test_send_outside_a_handler_is_a_root_span_in_the_correlation_trace(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation()
    headers: dict[str, str] = {}
    with _send(instr, headers, subject="cytube.commands.lounge.chat"):
        pass
    await instr.flush()
    [send] = otlp_receiver.store.spans
    assert send.name == "send cytube.commands.{channel}.{action}"
    assert send.parent_span_id == ""
    assert send.trace_id == uuid.UUID(CID).hex
    assert headers["traceparent"] == f"00-{send.trace_id}-{send.span_id}-01"


async def test_handler_exception_sets_error_status_and_records_it(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation()
    with pytest.raises(Boom, match="handler broke"), _process(instr):
        raise Boom("handler broke")
    await instr.flush()
    [span] = otlp_receiver.store.spans
    assert span.span.status.code == Status.STATUS_CODE_ERROR
    assert "handler broke" in span.span.status.message
    assert span.attributes["error.type"] == "Boom"
    [event] = span.span.events
    assert event.name == "exception"
    event_attrs = {kv.key: kv.value.string_value for kv in event.attributes}
    assert event_attrs["exception.type"].endswith("Boom")
    assert event_attrs["exception.message"] == "handler broke"


async def test_incoming_traceparent_is_continued_and_linked(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation()
    remote_trace = "0af7651916cd43dd8448eb211c80319c"
    remote_span = "b7ad6b7169203331"
    incoming = {"Traceparent": f"00-{remote_trace}-{remote_span}-01", "tracestate": "x=1"}
    with _process(instr, headers=incoming):
        pass
    await instr.flush()
    [span] = otlp_receiver.store.spans
    assert span.trace_id == remote_trace
    assert span.parent_span_id == remote_span
    [link] = span.span.links
    assert link.trace_id.hex() == remote_trace
    assert link.span_id.hex() == remote_span
    assert span.span.trace_state == "x=1"
    assert span.attributes["messaging.message.id"] == CID


@pytest.mark.parametrize(
    "correlation_id",
    ["", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "5f0c6a1e-8d2b-4c3f"],
)
async def test_unusable_correlation_id_gets_a_fresh_trace(
    make_instrumentation: MakeInstrumentation,
    otlp_receiver: OtlpHttpReceiver,
    correlation_id: str,
) -> None:
    instr = make_instrumentation()
    with _process(instr, correlation_id=correlation_id):
        pass
    with _process(instr, correlation_id=correlation_id, headers={"traceparent": "garbage"}):
        pass
    await instr.flush()
    first, second = otlp_receiver.store.spans
    for span in (first, second):
        assert span.parent_span_id == ""
        assert int(span.trace_id, 16) != 0
    assert first.trace_id != second.trace_id


async def test_headers_without_a_valid_traceparent_leave_the_correlation_trace(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation()
    with _process(instr, headers={"Kryten-Source": "bridge"}):
        pass
    with _process(instr, headers={"traceparent": "00-garbage"}):
        pass
    await instr.flush()
    for span in otlp_receiver.store.spans:
        assert span.parent_span_id == ""
        assert span.trace_id == uuid.UUID(CID).hex
        assert not span.span.links
        assert set(span.attributes) == PROCESS_KEYS


async def test_process_span_is_a_root_even_inside_another_span(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation()
    with _send(instr, {}, correlation_id=str(uuid.uuid4())), _process(instr):
        pass
    await instr.flush()
    process = otlp_receiver.store.span_named("process ")
    assert process.parent_span_id == ""
    assert process.trace_id == uuid.UUID(CID).hex


async def test_notable_adds_an_event_to_the_current_span(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation()
    instr.notable("kryten.dead_letter", {"reason": "ignored: no span"})
    with _process(instr):
        instr.notable("kryten.mailbox.drop", {"kryten.drop.reason": "mailbox_full", "n": 3})
    await instr.flush()
    [span] = otlp_receiver.store.spans
    [event] = span.span.events
    assert event.name == "kryten.mailbox.drop"
    assert {kv.key for kv in event.attributes} == {"kryten.drop.reason", "n"}


async def test_spans_export_over_grpc(
    otlp_grpc_receiver: OtlpGrpcReceiver, make_instrumentation: MakeInstrumentation
) -> None:
    # The receiver is requested first so it outlives the instrumentation's shutdown.
    instr = make_instrumentation(endpoint=otlp_grpc_receiver.base_url, protocol="grpc")
    headers: dict[str, str] = {}
    with _process(instr), _send(instr, headers):
        pass
    await instr.flush()
    store = otlp_grpc_receiver.store
    process, send = store.span_named("process "), store.span_named("send ")
    assert process.trace_id == uuid.UUID(CID).hex
    assert send.parent_span_id == process.span_id
    assert store.paths == ["grpc:traces"]


async def test_sampling_keeps_the_configured_share_of_correlation_traces(
    otlp_receiver: OtlpHttpReceiver,
) -> None:
    # A v4 UUID's low 64 bits are always >= 2**63; the SDK's TraceIdRatioBased would
    # sample none of them at 0.3. The 56-bit rule samples about 30 %.
    cfg = KrytenConfig(
        tracing={"enabled": True, "endpoint": otlp_receiver.base_url, "sample_ratio": 0.3}
    )
    instr = OtelInstrumentation(resolve_settings(cfg, env={}))
    try:
        total = 1000
        for _ in range(total):
            with _process(instr, correlation_id=str(uuid.uuid4())):
                pass
        await instr.flush()
    finally:
        await instr.shutdown()
    share = len(otlp_receiver.store.spans) / total
    assert 0.22 < share < 0.38


async def test_sampled_traces_stay_whole_and_unsampled_ones_leave_nothing(
    otlp_receiver: OtlpHttpReceiver,
) -> None:
    # The process span skips unsampled roots before building anything; the command sent
    # in the handler must then be dropped too (same trace ID, same sampler), and a
    # sampled event must keep its process → send pair.
    cfg = KrytenConfig(
        tracing={"enabled": True, "endpoint": otlp_receiver.base_url, "sample_ratio": 0.5}
    )
    instr = OtelInstrumentation(resolve_settings(cfg, env={}))
    sent_flags: dict[str, str] = {}
    try:
        for _ in range(200):
            cid = str(uuid.uuid4())
            headers: dict[str, str] = {}
            with _process(instr, correlation_id=cid), _send(instr, headers, correlation_id=cid):
                pass
            sent_flags[uuid.UUID(cid).hex] = headers["traceparent"].rsplit("-", 1)[1]
        await instr.flush()
    finally:
        await instr.shutdown()
    by_trace: dict[str, set[str]] = {}
    for span in otlp_receiver.store.spans:
        by_trace.setdefault(span.trace_id, set()).add(span.name.split(" ")[0])
    assert 60 < len(by_trace) < 140  # about half of 200
    assert all(kinds == {"process", "send"} for kinds in by_trace.values())
    for trace, flags in sent_flags.items():
        assert (flags == "01") == (trace in by_trace), trace


@pytest.fixture
def installed_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """A user's SDK TracerProvider as the global one (patched: globals are set-once)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace_api, "get_tracer_provider", lambda: provider)
    yield exporter
    provider.shutdown()


@pytest.mark.parametrize("span_worker", [False, True], ids=["in-process", "span-worker"])
async def test_an_installed_tracer_provider_is_used_and_left_running(
    installed_provider: InMemorySpanExporter, span_worker: bool
) -> None:
    # tracing.span_worker does not apply: the application's processors run where it put them
    cfg = KrytenConfig(tracing={"enabled": True, "span_worker": span_worker})
    instr = instrumentation_from_config(cfg, env={})
    with _process(instr):
        pass
    # its processors are the application's: nothing is counted for them here
    assert instr.tracing_status() == TracingStatus("application", {})
    await instr.shutdown()
    [span] = installed_provider.get_finished_spans()
    assert span.context.trace_id == uuid.UUID(CID).int
    # Not shut down by kryten-actors: the application's spans still export.
    with trace_api.get_tracer_provider().get_tracer("app").start_as_current_span("after"):
        pass
    assert [s.name for s in installed_provider.get_finished_spans()][-1] == "after"


async def test_no_instrumentation_is_a_no_op() -> None:
    instr: Instrumentation = NoInstrumentation()
    assert instr.enabled is False
    headers: dict[str, str] = {}
    with _process(instr), _send(instr, headers):
        instr.notable("x", {})
    instr.record_received(event_name="chatMsg", channel="lounge")
    instr.record_drop(event_name="chatMsg", reason="mailbox_full")
    instr.record_restart(actor="/a", error_type="Boom")
    instr.record_publish_retry()
    instr.bind_mailbox_depth(dict)
    await instr.flush()
    await instr.shutdown()
    assert headers == {}


async def test_otel_instrumentation_satisfies_the_protocol(
    make_instrumentation: MakeInstrumentation,
) -> None:
    def accepts(instr: Instrumentation) -> Mapping[str, bool]:
        return {"enabled": instr.enabled}

    assert accepts(make_instrumentation()) == {"enabled": True}


@pytest.mark.parametrize("ratio", [0.0, 0.01, 0.3, 0.999, 1.0])
async def test_observes_agrees_with_the_sampler_on_every_correlation_id(ratio: float) -> None:
    # observes() skips an event only when the sampler would drop its root span anyway
    # (same trace ID), so skipping never loses a sampled trace nor keeps a dropped one.
    cfg = KrytenConfig(
        tracing={"enabled": True, "endpoint": "http://127.0.0.1:9", "sample_ratio": ratio}
    )
    instr = OtelInstrumentation(resolve_settings(cfg, env={}))
    sampler = RandomBitsRatioSampler(ratio)

    @settings(max_examples=300)
    @given(st.uuids(allow_nil=False), st.booleans())
    def check(value: uuid.UUID, upper: bool) -> None:
        cid = str(value).upper() if upper else str(value)
        kept = sampler.should_sample(None, value.int, "process").decision.is_sampled()
        assert instr.observes(cid, None) is kept

    try:
        check()
        # An ID that gives no trace ID (a random one is drawn) and a traced event are
        # observed: the sampler decides later, or the caller already did. (At ratio 0
        # every root is dropped, so a well-formed nil UUID may be skipped.)
        assert instr.observes("00000000-0000-0000-0000-000000000000", None) is (ratio > 0)
        assert instr.observes("not-a-uuid", None)
        assert instr.observes(CID, {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})
    finally:
        await instr.shutdown()


async def test_spans_share_one_resource_that_hashes_like_the_sdks(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    # The provider's resource caches its hash; it must still equal and hash as the SDK's
    # Resource with the same attributes, or the encoder would split spans by resource.
    instr = make_instrumentation(service_name="hash-once")
    for cid in (CID, str(uuid.uuid4())):
        with _process(instr, correlation_id=cid):
            pass
    await instr.flush()
    [first, second] = otlp_receiver.store.spans
    assert first.resource == second.resource
    assert first.resource["service.name"] == "hash-once"
    assert otlp_receiver.store.paths == ["/v1/traces"]
    resource = resource_for(instr.settings)  # what the provider (or the span worker) has
    plain = Resource(resource.attributes, resource.schema_url)
    assert resource == plain
    assert hash(resource) == hash(plain) == hash(resource)


async def test_spans_the_collector_refuses_are_counted_as_lost(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    refused = make_instrumentation(endpoint=f"{otlp_receiver.base_url}/refuses")  # 404s
    mode = "span_worker" if refused.settings.span_worker else "in_process"
    assert refused.tracing_status() == TracingStatus(mode, {})
    for _ in range(3):
        with _process(refused):
            pass
    await refused.flush()
    assert refused.tracing_status() == TracingStatus(mode, {"export_failed": 3})
    assert not otlp_receiver.store.spans
    await refused.shutdown()  # what was counted stays readable after shutdown
    assert refused.tracing_status() == TracingStatus(mode, {"export_failed": 3})


def test_without_tracing_there_is_no_tracing_status(
    make_instrumentation: MakeInstrumentation,
) -> None:
    assert NoInstrumentation().tracing_status() is None
    metrics_only = make_instrumentation(tracing=False, metrics={"enabled": True})
    assert metrics_only.tracing_status() is None
