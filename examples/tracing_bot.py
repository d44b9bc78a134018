"""A bot whose every event becomes an OpenTelemetry trace, exported over OTLP.

Point it at Jaeger (``docker compose up jaeger`` gives OTLP on 4317/4318) and each
chat line becomes a trace whose ID is the event's correlation ID; the command the bot
sends in reply is a child span (``send …``) of the event's ``process …`` span. See
docs/tracing.md.

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 NATS_URL=nats://127.0.0.1:4222 \\
        KRYTEN_PROFILE=kryten-robot uv run python examples/tracing_bot.py
"""

from __future__ import annotations

import asyncio
import os

from kryten_actors import Bot, ChannelActor, ChatMessageEvent, on


class TracedGreeter(ChannelActor):
    """Answers ``!hi``; each answer is a span inside the event's trace."""

    @on("chatMsg")
    async def greet(self, event: ChatMessageEvent) -> None:
        if event.message.strip() == "!hi" and event.username != self.username:
            await self.send_chat(f"hi {event.username} (trace {event.correlation_id})")


def make_config() -> dict[str, object]:
    """Tracing on, exporting to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default: local Jaeger)."""
    channels = os.environ.get("CYTUBE_CHANNELS", "cytu.be/lounge")
    return {
        "profile": os.environ.get("KRYTEN_PROFILE", "kryten-robot"),
        "service_name": "tracing-bot",
        "nats": {"servers": [os.environ.get("NATS_URL", "nats://127.0.0.1:4222")]},
        "channels": [
            {"domain": d, "channel": c}
            for d, _, c in (i.partition("/") for i in channels.split(","))
        ],
        "tracing": {
            "enabled": True,
            "endpoint": os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            "protocol": "http/protobuf",
        },
    }


if __name__ == "__main__":
    asyncio.run(Bot(make_config(), actor=TracedGreeter).run())
