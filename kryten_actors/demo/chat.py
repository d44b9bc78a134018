"""How CyTube 3.86 renders text before sending it: chat lines, poll text, MOTD, CSS hashes.

The rules follow the capture in ``tests/fixtures/events.jsonl``: a chat ``msg`` has ``&``,
``<`` and ``>`` escaped (quotes and parentheses pass), links become anchors, and the chat
commands ``/me``, ``/sp``, ``/shout``, ``/d`` and a leading ``>`` set ``meta`` classes; poll
titles and options are escaped fully (quotes and parentheses too).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any, Final

__all__ = [
    "content_hash",
    "epoch_ms",
    "escape_chat",
    "render_chat",
    "sanitize_motd",
    "sanitize_text",
]

_LINK: Final = re.compile(r"https?://[^\s<>\"]+")
_SCRIPT: Final = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_EVENT_ATTRIBUTE: Final = re.compile(r"\s+on[a-z]+=\"[^\"]*\"", re.IGNORECASE)
_BARE_AMPERSAND: Final = re.compile(r"&(?!(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);)")
_FULL_ESCAPES: Final = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#39;",
        "(": "&#40;",
        ")": "&#41;",
    }
)
_SPECIAL_COMMANDS: Final[dict[str, dict[str, Any]]] = {
    "/me ": {"addClass": "action", "action": True},
    "/sp ": {"addClass": "spoiler"},
    "/shout ": {"addClass": "shout", "addClassToNameAndTimestamp": True, "forceShowName": True},
    "/d ": {"addClass": "drink", "forceShowName": True},
}


def epoch_ms() -> int:
    """Now, in epoch milliseconds (CyTube's ``time`` and poll ``timestamp``)."""
    return time.time_ns() // 1_000_000


def escape_chat(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` as CyTube does for chat and PMs."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _linkify(escaped: str) -> str:
    def anchor(match: re.Match[str]) -> str:
        url = match.group(0)
        return f'<a href="{url}" target="_blank" rel="noopener noreferrer">{url}</a>'

    return _LINK.sub(anchor, escaped)


def render_chat(text: str) -> tuple[str, dict[str, Any]]:
    """The ``(msg, meta)`` CyTube broadcasts for a chat line a user typed.

    ``/me``, ``/sp``, ``/shout`` and ``/d`` are stripped and set ``meta`` classes (``/d`` also
    appends `` drink!``); a line starting with ``>`` is greentext.
    """
    meta: dict[str, Any] = {}
    for prefix, classes in _SPECIAL_COMMANDS.items():
        if text.startswith(prefix):
            text = text[len(prefix) :]
            meta = dict(classes)
            if prefix == "/d ":
                text = f"{text} drink!"
            break
    else:
        if text.startswith(">"):
            meta = {"addClass": "greentext"}
    return _linkify(escape_chat(text)), meta


def sanitize_text(text: str) -> str:
    """Escape every HTML-significant character, as CyTube does for poll titles and options."""
    return text.translate(_FULL_ESCAPES)


def sanitize_motd(html: str) -> str:
    """CyTube's MOTD sanitizing, roughly: drops scripts and ``on*=`` handlers, escapes ``&``."""
    cleaned = _EVENT_ATTRIBUTE.sub("", _SCRIPT.sub("", html))
    return _BARE_AMPERSAND.sub("&amp;", cleaned)


def content_hash(text: str) -> str:
    """``cssHash``/``jsHash`` of ``channelCSSJS``: base64 of the MD5 digest."""
    digest = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode("ascii")
