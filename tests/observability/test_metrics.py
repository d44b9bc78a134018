"""Bot metrics as a real OTLP receiver decodes them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from kryten_actors.config import KrytenConfig
from kryten_actors.observability.settings import resolve_settings
from kryten_actors.observability.tracing import OtelInstrumentation
from tests.observability.conftest import MakeInstrumentation
from tests.observability.otlp_receiver import OtlpGrpcReceiver, OtlpHttpReceiver, OtlpStore


class Boom(RuntimeError):
    pass


def _process(instr: Any, channel: str = "lounge", event_name: str = "chatMsg") -> Any:
    return instr.process(
        subject=f"kryten.events.cytube.{channel}.{event_name.lower()}",
        event_name=event_name,
        channel=channel,
        domain="cytu.be",
        correlation_id="5f0c6a1e-8d2b-4c3f-9a7e-1b2c3d4e5f60",
        actor=f"/bot/{channel}",
        headers=None,
        wait_seconds=0.0,
    )


def _send(instr: Any, action: str = "chat") -> Any:
    return instr.send(
        subject="kryten.robot.command",
        action=action,
        channel="lounge",
        domain="cytu.be",
        correlation_id="",
        headers={},
    )


def _points(store: OtlpStore, name: str) -> list[tuple[dict[str, Any], float]]:
    # Cumulative temporality: the last export holds the totals.
    return store.wait_for_metric(name)[-1].points()


async def _drive(instr: Any) -> None:
    instr.bind_mailbox_depth(lambda: {"/bot/lounge": 3, "/bot/movies": 4})
    for channel in ("lounge", "movies"):
        instr.record_received(event_name="chatMsg", channel=channel)
        with _process(instr, channel):
            pass
    with pytest.raises(Boom), _process(instr):
        raise Boom
    with _send(instr):
        pass
    with pytest.raises(Boom), _send(instr, "kick"):
        raise Boom
    instr.record_drop(event_name="chatMsg", reason="mailbox_full", channel="lounge")
    instr.record_restart(actor="/bot/lounge", error_type="Boom")
    instr.record_publish_retry()
    instr.record_publish_retry()
    await instr.flush()


async def test_metrics_reach_the_receiver_without_channel_labels(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation(tracing=False, metrics={"enabled": True})
    await _drive(instr)
    store = otlp_receiver.store
    assert store.spans == []
    assert _points(store, "kryten.events.received") == [({"cytube.event": "chatMsg"}, 2)]
    processed = {
        attrs["kryten.outcome"]: n for attrs, n in _points(store, "kryten.events.processed")
    }
    assert processed == {"ok": 2, "error": 1}
    [(attrs, count)] = _points(store, "kryten.handler.duration")
    assert (attrs, count) == ({"cytube.event": "chatMsg"}, 3)
    assert _points(store, "kryten.events.dropped") == [
        ({"cytube.event": "chatMsg", "kryten.drop.reason": "mailbox_full"}, 1)
    ]
    assert _points(store, "kryten.mailbox.depth") == [({}, 7)]
    assert _points(store, "kryten.actor.restarts") == [({"error.type": "Boom"}, 1)]
    assert _points(store, "kryten.commands.sent") == [({"cytube.command": "chat"}, 1)]
    assert _points(store, "kryten.commands.failed") == [({"cytube.command": "kick"}, 1)]
    assert _points(store, "kryten.publish.retries") == [({}, 2)]
    assert store.wait_for_metric("kryten.events.received")[0].resource["service.name"] == (
        "kryten-actors"
    )


async def test_channel_label_adds_channel_and_actor(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation(tracing=False, metrics={"enabled": True, "channel_label": True})
    await _drive(instr)
    store = otlp_receiver.store
    received = sorted(
        attrs["cytube.channel"] for attrs, _ in _points(store, "kryten.events.received")
    )
    assert received == ["lounge", "movies"]
    depths = {attrs["kryten.actor"]: n for attrs, n in _points(store, "kryten.mailbox.depth")}
    assert depths == {"/bot/lounge": 3, "/bot/movies": 4}
    assert _points(store, "kryten.actor.restarts") == [
        ({"error.type": "Boom", "kryten.actor": "/bot/lounge"}, 1)
    ]


async def test_spans_and_metrics_together_over_grpc(
    otlp_grpc_receiver: OtlpGrpcReceiver, make_instrumentation: MakeInstrumentation
) -> None:
    # The receiver is requested first so it outlives the instrumentation's shutdown.
    instr = make_instrumentation(
        endpoint=otlp_grpc_receiver.base_url, protocol="grpc", metrics={"enabled": True}
    )
    with _process(instr):
        pass
    await instr.flush()
    store = otlp_grpc_receiver.store
    assert [s.name for s in store.spans] == ["process kryten.events.cytube.{channel}.{event}"]
    assert _points(store, "kryten.events.processed") == [
        ({"cytube.event": "chatMsg", "kryten.outcome": "ok"}, 1)
    ]


@pytest.mark.parametrize("span_worker", [False, True], ids=["in-process", "span-worker"])
async def test_spans_the_collector_refuses_are_a_metric(
    otlp_receiver: OtlpHttpReceiver, span_worker: bool
) -> None:
    config = KrytenConfig(
        tracing={"enabled": True, "endpoint": otlp_receiver.base_url, "span_worker": span_worker},
        metrics={"enabled": True},
    )
    settings = resolve_settings(config, env={})
    # spans go where the collector answers 404; metrics reach the receiver
    refused = dataclasses.replace(settings, traces_endpoint=f"{otlp_receiver.base_url}/refuses")
    instr = OtelInstrumentation(refused)
    try:
        for _ in range(3):
            with _process(instr):
                pass
        await instr.flush()  # spans first, then metrics: the metric reads their losses
        points = _points(otlp_receiver.store, "kryten.spans.lost")
        lost = {attrs["kryten.drop.reason"]: n for attrs, n in points}
        assert lost == {"queue_full": 0, "export_failed": 3}
        assert otlp_receiver.store.spans == []
    finally:
        await instr.shutdown()


async def test_without_tracing_no_span_losses_are_reported(
    make_instrumentation: MakeInstrumentation, otlp_receiver: OtlpHttpReceiver
) -> None:
    instr = make_instrumentation(tracing=False, metrics={"enabled": True})
    await _drive(instr)
    assert otlp_receiver.store.wait_for_metric("kryten.events.received")
    assert "kryten.spans.lost" not in {m.name for m in otlp_receiver.store.metrics}
