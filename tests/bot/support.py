"""Shared pieces of the bot tests: a journal of handled events, recording actors, fixtures data."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, cast

from kryten_actors import ChannelActor, ChatMessageEvent, RawEvent, on
from kryten_actors.protocol.subjects import scheme_for
from kryten_actors.transport.base import InboundMessage


@dataclass
class Seen:
    """One event as a handler saw it."""

    handler: str
    key: str
    event_type: type[RawEvent]
    event: RawEvent


@dataclass
class Journal:
    """Everything recording actors saw, shared across channels and restarts."""

    seen: list[Seen] = field(default_factory=list)

    def add(self, handler: str, actor: ChannelActor, event: RawEvent) -> None:
        self.seen.append(Seen(handler, f"{actor.domain}/{actor.channel}", type(event), event))

    def for_key(self, key: str, handler: str | None = None) -> list[Seen]:
        return [s for s in self.seen if s.key == key and (handler is None or s.handler == handler)]

    def messages(self, key: str, handler: str = "chat") -> list[str]:
        """Chat texts a channel's handler saw, in order."""
        return [
            s.event.message
            for s in self.for_key(key, handler)
            if isinstance(s.event, ChatMessageEvent)
        ]


class RecordingActor(ChannelActor):
    """Records chat lines (``chat``) and every event (``all``) into its class's journal."""

    journal: ClassVar[Journal]

    @on("CHATMSG")
    async def chat(self, event: ChatMessageEvent) -> None:
        self.journal.add("chat", self, event)

    @on("*")
    async def everything(self, event: RawEvent) -> None:
        self.journal.add("all", self, event)


A = TypeVar("A", bound=ChannelActor)


def variant(base: type[A], **attributes: Any) -> type[A]:
    """A subclass of ``base`` with fresh class attributes (so tests share no state)."""
    return cast("type[A]", type(f"Test{base.__name__}", (base,), attributes))


def recording(
    journal: Journal, base: type[RecordingActor] = RecordingActor
) -> type[RecordingActor]:
    """A subclass of ``base`` writing to ``journal``."""
    return variant(base, journal=journal)


def envelope(
    profile: str,
    event_name: str,
    payload: Any,
    *,
    domain: str = "cytu.be",
    channel: str = "lounge",
) -> tuple[str, bytes]:
    """Subject and body exactly as the bridge publishes them."""
    event = RawEvent(event_name=event_name, payload=payload, channel=channel, domain=domain)
    return scheme_for(profile).event_subject(domain, channel, event_name), event.to_bytes()


def chat(
    profile: str,
    text: str,
    *,
    user: str = "alice",
    domain: str = "cytu.be",
    channel: str = "lounge",
) -> tuple[str, bytes]:
    """A chatMsg envelope."""
    payload = {"username": user, "msg": text, "meta": {}, "time": int(time.time() * 1000)}
    return envelope(profile, "chatMsg", payload, domain=domain, channel=channel)


class Collector:
    """An independent subscriber's handler: records every message it receives."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []

    async def __call__(self, message: InboundMessage) -> None:
        self.messages.append(message)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(m.data) for m in self.messages]

    def __len__(self) -> int:
        return len(self.messages)
