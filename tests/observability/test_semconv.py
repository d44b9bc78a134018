"""Span names use subject templates, never literal subjects."""

from __future__ import annotations

import pytest

from kryten_actors.observability.semconv import process_span_name, send_span_name


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        ("kryten.events.cytube.lounge.chatmsg", "process kryten.events.cytube.{channel}.{event}"),
        (
            "cytube.events.cytu.be.lounge.chatMsg",
            "process cytube.events.{domain}.{channel}.{event}",
        ),
        ("custom.bus.lounge.chatMsg", "process custom.bus.{channel}.{event}"),
        ("short.subject", "process short.subject"),
    ],
)
def test_process_span_name(subject: str, name: str) -> None:
    assert process_span_name(subject) == name


@pytest.mark.parametrize(
    ("subject", "name"),
    [
        ("kryten.robot.command", "send kryten.robot.command"),
        ("cytube.commands.lounge.chat", "send cytube.commands.{channel}.{action}"),
        ("custom.cmd.lounge.chat", "send custom.cmd.{channel}.{action}"),
    ],
)
def test_send_span_name(subject: str, name: str) -> None:
    assert send_span_name(subject) == name
