"""End to end: a Bot on a real nats-server exports its spans to a real OTLP receiver.

A separate connection plays the bridge: it publishes bridge-identical envelopes and
records (and, in the kryten-robot profile, answers) the commands the bot sends. The
assertions are on the decoded OTLP export and on the headers of the published
command, never on the instrumentation's internals.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Final

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from kryten_actors import (
    Bot,
    ChannelActor,
    ChatMessageEvent,
    NatsConfig,
    RawEvent,
    TracingHealth,
    on,
)
from kryten_actors.protocol.subjects import ROBOT_COMMAND_SUBJECT, scheme_for
from kryten_actors.transport.base import InboundMessage, RetryPolicy
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.server import NatsServer
from tests.observability.otlp_receiver import (
    OtlpGrpcReceiver,
    OtlpHttpReceiver,
    OtlpStore,
    ReceivedSpan,
    attributes,
)

DOMAIN: Final = "cytu.be"
CHANNEL: Final = "lounge"
CID: Final = "3d1f4c2a-9b8e-4f7d-a6c5-0e1d2c3b4a59"
FAILING_CID: Final = "c0ffee00-1234-4abc-8def-00112233aa55"
# A remote caller's span context (W3C): another service already started the trace.
REMOTE_TRACE: Final = "4bf92f3577b34da6a3ce929d0e0e4736"
REMOTE_SPAN: Final = "00f067aa0ba902b7"
WAIT: Final = 15.0  # generous: other suites may run concurrently
ROBOT_REPLY: Final = (
    b'{"service": "robot", "command": "say", "success": true, "data": {"success": true}}'
)

COMMAND_SUBJECTS: Final = {"seed": "cytube.commands.>", "kryten-robot": ROBOT_COMMAND_SUBJECT}
SEND_SPAN_NAMES: Final = {
    "seed": "send cytube.commands.{channel}.{action}",
    "kryten-robot": "send kryten.robot.command",
}
COMMAND_NAMES: Final = {"seed": "sendChat", "kryten-robot": "say"}
PROCESS_SPAN_NAMES: Final = {
    "seed": "process cytube.events.{domain}.{channel}.{event}",
    "kryten-robot": "process kryten.events.cytube.{channel}.{event}",
}


class Boom(RuntimeError):
    """What the handler raises on ``!boom``."""


class PongActor(ChannelActor):
    """Answers every chat line with one command; raises on ``!boom``."""

    @on("chatMsg")
    async def answer(self, event: ChatMessageEvent) -> None:
        if event.message == "!boom":
            raise Boom("handler exploded on purpose")
        await self.send_chat(f"pong {event.message}")


@dataclass
class FakeBridgeEnd:
    """The bridge's side of the bus: publishes events, records (and answers) commands."""

    transport: NatsTransport
    profile: str
    commands: asyncio.Queue[InboundMessage] = field(default_factory=asyncio.Queue)

    async def on_command(self, message: InboundMessage) -> None:
        self.commands.put_nowait(message)
        if message.reply:
            await self.transport.publish(message.reply, ROBOT_REPLY)

    async def publish_chat(
        self, text: str, correlation_id: str, headers: dict[str, str] | None = None
    ) -> str:
        """Publish a chatMsg envelope as the bridge would; returns its subject."""
        event = RawEvent(
            event_name="chatMsg",
            payload={"username": "alice", "msg": text, "meta": {}, "time": int(time.time() * 1000)},
            channel=CHANNEL,
            domain=DOMAIN,
            correlation_id=correlation_id,
        )
        subject = scheme_for(self.profile).event_subject(DOMAIN, CHANNEL, "chatMsg")
        await self.transport.publish(subject, event.to_bytes(), headers=headers)
        return subject

    async def next_command(self) -> InboundMessage:
        async with asyncio.timeout(WAIT):
            return await self.commands.get()


@pytest.fixture(autouse=True)
def _clean_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer ``OTEL_*`` variable leaks in; the batch delay is made huge so only a
    forced flush (not the timer) can get spans out while a test runs."""
    for name in [n for n in os.environ if n.startswith("OTEL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")


@pytest.fixture(params=["seed", "kryten-robot"])
def profile(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def bridge(nats_server: NatsServer, profile: str) -> AsyncIterator[FakeBridgeEnd]:
    transport = NatsTransport(NatsConfig(servers=[nats_server.url]), retry=RetryPolicy(attempts=1))
    await transport.connect()
    end = FakeBridgeEnd(transport, profile)
    await transport.subscribe(COMMAND_SUBJECTS[profile], end.on_command)
    yield end
    await transport.close()


def traced_bot(
    server: NatsServer,
    profile: str,
    endpoint: str,
    protocol: str,
    *,
    enabled: bool = True,
    span_worker: bool = False,
) -> Bot:
    """A bot that builds its own instrumentation (``instrumentation_from_config``)."""
    return Bot(
        {
            "profile": profile,
            "service_name": "traced-test-bot",
            "nats": {"servers": [server.url]},
            "channels": [{"domain": DOMAIN, "channel": CHANNEL}],
            "shutdown_timeout": 5.0,
            "command_timeout": 5.0,
            "supervision": {"min_backoff": 0.01, "max_backoff": 0.05, "jitter": 0.0},
            "tracing": {
                "enabled": enabled,
                "endpoint": endpoint,
                "protocol": protocol,
                "span_worker": span_worker,
            },
            # start-up probes would add traces of their own to the ones asserted here
            "bridge": {"probe_on_start": False},
        },
        actor=PongActor,
    )


def dead_letter_seen(bot: Bot) -> asyncio.Event:
    """Set once an event reaches dead letters (a handler ran and raised)."""
    seen = asyncio.Event()
    bot.system.dead_letters.subscribe(lambda _letter: seen.set())
    return seen


def spans_of_trace(store: OtlpStore, trace_id: str) -> dict[str, ReceivedSpan]:
    """The received spans of one trace by kind ('process' / 'send'); one of each at most."""
    found: dict[str, ReceivedSpan] = {}
    for span in store.spans:
        if span.trace_id != trace_id:
            continue
        kind = span.name.split(" ", 1)[0]
        assert kind not in found, f"two {kind} spans in trace {trace_id}"
        found[kind] = span
    return found


@pytest.mark.parametrize("span_worker", [False, True], ids=["in-process", "span-worker"])
async def test_event_becomes_trace_with_process_and_send_spans(
    nats_server: NatsServer,
    otlp_receiver: OtlpHttpReceiver,
    bridge: FakeBridgeEnd,
    profile: str,
    span_worker: bool,
) -> None:
    bot = traced_bot(
        nats_server, profile, otlp_receiver.base_url, "http/protobuf", span_worker=span_worker
    )
    async with bot:
        subject = await bridge.publish_chat("hello", CID)
        command = await bridge.next_command()
        failed_event = dead_letter_seen(bot)
        await bridge.publish_chat("!boom", FAILING_CID)
        async with asyncio.timeout(WAIT):
            await failed_event.wait()
        actor_ref = bot.system.root.child(f"{DOMAIN}:{CHANNEL}")
        assert actor_ref is not None
        actor_path = actor_ref.path
        # Nothing is exported before the bot stops: the batch delay is 600 s.
        assert otlp_receiver.store.spans == []
    # Leaving `async with bot` force-flushed: every span is here without waiting.
    store = otlp_receiver.store
    mode = "span_worker" if span_worker else "in_process"
    assert bot.health().tracing == TracingHealth(mode=mode, spans_lost=0, lost={})
    assert bot.health_summary().tracing == bot.health().tracing

    trace_id = uuid.UUID(CID).hex  # the UUID's 128 bits: its hex without dashes
    spans = spans_of_trace(store, trace_id)
    process, send = spans["process"], spans["send"]

    assert process.name == PROCESS_SPAN_NAMES[profile]
    assert process.span.kind == Span.SPAN_KIND_CONSUMER
    assert process.parent_span_id == ""  # a genuine root, no fabricated parent
    assert process.resource["service.name"] == "traced-test-bot"
    attrs = process.attributes
    assert attrs == attrs | {
        "messaging.system": "nats",
        "messaging.destination.name": subject,
        "messaging.operation.type": "process",
        "messaging.message.id": CID,
        "cytube.channel": CHANNEL,
        "cytube.domain": DOMAIN,
        "cytube.event": "chatMsg",
    }
    # the actor is not an attribute: its path is /root/{cytube.domain}:{cytube.channel}
    assert "kryten.actor" not in attrs
    assert actor_path == f"/root/{attrs['cytube.domain']}:{attrs['cytube.channel']}"
    assert attrs["kryten.mailbox.wait_ms"] >= 0.0
    assert process.span.status.code != Status.STATUS_CODE_ERROR

    assert send.name == SEND_SPAN_NAMES[profile]
    assert send.span.kind == Span.SPAN_KIND_PRODUCER
    assert send.parent_span_id == process.span_id
    send_attrs = send.attributes
    assert send_attrs == send_attrs | {
        "messaging.system": "nats",
        "messaging.destination.name": command.subject,
        "messaging.operation.type": "send",
        "messaging.message.conversation_id": CID,
        "cytube.channel": CHANNEL,
        "cytube.domain": DOMAIN,
        "cytube.command": COMMAND_NAMES[profile],
    }
    # The send span lies within the process span.
    assert process.span.start_time_unix_nano <= send.span.start_time_unix_nano
    assert send.span.end_time_unix_nano <= process.span.end_time_unix_nano

    # The command on the wire names the send span and carries the correlation ID.
    assert command.headers is not None
    assert command.headers["traceparent"] == f"00-{trace_id}-{send.span_id}-01"
    body = json.loads(command.data)
    sent_cid = body["correlation_id"] if profile == "seed" else body["meta"]["request_id"]
    assert sent_cid == CID

    failed = spans_of_trace(store, uuid.UUID(FAILING_CID).hex)
    assert set(failed) == {"process"}  # it raised before sending anything
    failing = failed["process"]
    assert failing.span.status.code == Status.STATUS_CODE_ERROR
    assert "handler exploded on purpose" in failing.span.status.message
    assert failing.attributes["messaging.message.id"] == FAILING_CID
    assert failing.attributes["error.type"] == "Boom"
    [exception] = [e for e in failing.span.events if e.name == "exception"]
    exc_attrs = attributes(exception.attributes)
    assert exc_attrs["exception.type"].endswith("Boom")
    assert exc_attrs["exception.message"] == "handler exploded on purpose"
    assert "Traceback" in exc_attrs["exception.stacktrace"]


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
async def test_incoming_traceparent_is_continued_and_linked(
    nats_server: NatsServer,
    otlp_receiver: OtlpHttpReceiver,
    otlp_grpc_receiver: OtlpGrpcReceiver,
    bridge: FakeBridgeEnd,
    profile: str,
    protocol: str,
) -> None:
    receiver = otlp_receiver if protocol == "http/protobuf" else otlp_grpc_receiver
    bot = traced_bot(nats_server, profile, receiver.base_url, protocol)
    remote = {"traceparent": f"00-{REMOTE_TRACE}-{REMOTE_SPAN}-01", "tracestate": "vendor=abc"}
    async with bot:
        await bridge.publish_chat("hello", CID, headers=remote)
        command = await bridge.next_command()
    store = receiver.store
    assert spans_of_trace(store, uuid.UUID(CID).hex) == {}  # the header wins over the ID
    spans = spans_of_trace(store, REMOTE_TRACE)
    process, send = spans["process"], spans["send"]

    assert process.parent_span_id == REMOTE_SPAN
    [link] = process.span.links
    assert (link.trace_id.hex(), link.span_id.hex()) == (REMOTE_TRACE, REMOTE_SPAN)
    assert process.attributes["messaging.message.id"] == CID
    assert process.span.trace_state == "vendor=abc"
    assert send.parent_span_id == process.span_id
    assert send.attributes["messaging.message.conversation_id"] == CID

    assert command.headers is not None
    assert command.headers["traceparent"] == f"00-{REMOTE_TRACE}-{send.span_id}-01"
    assert command.headers["tracestate"] == "vendor=abc"


async def test_untraced_bot_exports_nothing_and_sends_no_trace_headers(
    nats_server: NatsServer,
    otlp_receiver: OtlpHttpReceiver,
    bridge: FakeBridgeEnd,
    profile: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An explicit `enabled: false` beats OTEL_EXPORTER_OTLP_ENDPOINT in the environment.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_receiver.base_url)
    bot = traced_bot(nats_server, profile, otlp_receiver.base_url, "http/protobuf", enabled=False)
    assert not bot.instrumentation.enabled
    async with bot:
        await bridge.publish_chat("hello", CID)
        command = await bridge.next_command()
    assert "traceparent" not in (command.headers or {})
    assert otlp_receiver.store.spans == []
