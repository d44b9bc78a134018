"""decode_command reads back exactly what the encoders produced."""

from __future__ import annotations

import pytest

from kryten_actors.protocol.commands import SendChat, StateUser, encoder_for
from kryten_actors.protocol.sent_commands import decode_command


@pytest.mark.parametrize(
    ("profile", "action", "payload"),
    [("seed", "sendChat", {"message": "hi"}), ("kryten-robot", "say", {"message": "hi"})],
)
def test_round_trip(profile: str, action: str, payload: dict[str, str]) -> None:
    encoded = encoder_for(profile).encode(
        SendChat(message="hi"), domain="cytu.be", channel="lounge", correlation_id="c1", source="t"
    )
    decoded = decode_command(encoded.subject, encoded.body)
    assert decoded is not None
    assert (decoded.profile, decoded.action, decoded.payload) == (profile, action, payload)
    assert (decoded.channel, decoded.domain, decoded.correlation_id) == ("lounge", "cytu.be", "c1")


def test_state_query_parameters_come_from_the_top_level() -> None:
    encoded = encoder_for("kryten-robot").encode(
        StateUser(username="bob"),
        domain="cytu.be",
        channel="lounge",
        correlation_id="c",
        source="t",
    )
    decoded = decode_command(encoded.subject, encoded.body)
    assert decoded is not None
    assert decoded.payload == {"username": "bob"}


@pytest.mark.parametrize(
    ("subject", "data"),
    [
        ("kryten.events.cytube.lounge.chatmsg", b"{}"),
        ("kryten.robot.command", b"{not json"),
        ("cytube.commands.lounge.sendchat", b"[1, 2]"),
        ("cytube.commands.lounge.sendchat", b"\xff"),
    ],
)
def test_anything_else_is_not_a_command(subject: str, data: bytes) -> None:
    assert decode_command(subject, data) is None
