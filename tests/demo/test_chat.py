"""CyTube's text rendering, checked against what CyTube sent in the capture."""

from __future__ import annotations

import pytest

from kryten_actors.demo.chat import content_hash, render_chat, sanitize_motd, sanitize_text
from tests.fixture_data import load_jsonl

CAPTURED = [r["body"]["payload"] for r in load_jsonl("events.jsonl")]


@pytest.mark.parametrize(
    ("typed", "index"),
    [
        ("<b>x</b> & \"q\" 'a' (p)", 32),
        ("a link https://example.com/page?q=1&r=2 here", 37),
        (">greentext line", 36),
        ("/me waves at everyone", 34),
    ],
)
def test_chat_lines_render_as_captured(typed: str, index: int) -> None:
    msg, meta = render_chat(typed)
    assert msg == CAPTURED[index]["msg"]
    assert meta == CAPTURED[index]["meta"]


def test_poll_text_escapes_quotes_too() -> None:
    assert sanitize_text('E2E poll: <b>best</b> & "colour"?') == CAPTURED[227]["title"]


def test_motd_loses_scripts_and_handlers() -> None:
    typed = (
        "<h3>E2E MOTD</h3> <b>bold</b> & <script>alert(1)</script> "
        '<a href="https://example.com" onclick="x()">l</a>'
    )
    assert sanitize_motd(typed) == CAPTURED[204]


def test_css_hash_is_the_captured_one() -> None:
    assert content_hash("") == CAPTURED[9]["cssHash"]
    assert content_hash(CAPTURED[205]["css"]) == CAPTURED[205]["cssHash"]
