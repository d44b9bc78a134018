"""Chat text as CyTube measures and reads it: length in UTF-16 units, slash commands, splitting.

CyTube (JavaScript) cuts chat and PM text at ``max-chat-message-length`` (320) with
``String.substring``, so lengths count UTF-16 code units: an emoji outside the BMP
counts 2. A line starting with ``/`` followed by a registered word (``/ban``, ``/kick``,
``/clear``, ``/afk``, ``/me``…) is run as a command with the sender's rank; text meant
to be shown verbatim gets an invisible U+2060 WORD JOINER in front, which CyTube does
not treat as a command (verified on CyTube 3.86: the person in the channel sees the
text as written).
"""

from __future__ import annotations

from typing import Final

__all__ = ["VERBATIM_PREFIX", "split_chat", "utf16_length", "verbatim"]

VERBATIM_PREFIX: Final = "\u2060"
"""WORD JOINER: zero width, invisible; keeps a leading ``/`` from being a command."""


def utf16_length(text: str) -> int:
    """Length of ``text`` as JavaScript counts it (UTF-16 code units)."""
    if text.isascii():
        return len(text)  # the common case, without encoding anything
    # a lone surrogate (JSON allows one) is one unit, as in JavaScript
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def verbatim(text: str) -> str:
    """``text`` made safe to show as chat: a leading ``/`` cannot run a command."""
    return VERBATIM_PREFIX + text if text.startswith("/") else text


def split_chat(text: str, limit: int) -> list[str]:
    """Split ``text`` into lines of at most ``limit`` UTF-16 units, at word boundaries.

    Whitespace between words is where lines break (and is dropped there); a word
    longer than a whole line is cut, never lost. Newlines break lines too (CyTube
    would turn them into spaces). Blank lines are left out: CyTube drops them.
    """
    if limit < 2:
        msg = f"limit must be at least 2 UTF-16 units, got {limit}"
        raise ValueError(msg)
    lines: list[str] = []
    for paragraph in text.splitlines():
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if utf16_length(candidate) <= limit:
                current = candidate
                continue
            if current:
                lines.append(current)
            *full, current = _cut(word, limit)
            lines.extend(full)
        if current:
            lines.append(current)
    return lines


def _cut(word: str, limit: int) -> list[str]:
    """``word`` cut into pieces of at most ``limit`` UTF-16 units (never splitting a pair)."""
    pieces: list[str] = []
    piece, size = "", 0
    for ch in word:
        width = 2 if ord(ch) > 0xFFFF else 1
        if size + width > limit:
            pieces.append(piece)
            piece, size = "", 0
        piece += ch
        size += width
    pieces.append(piece)
    return pieces
