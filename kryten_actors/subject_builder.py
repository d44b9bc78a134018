"""Compatibility with kryten-py: ``from kryten_actors.subject_builder import parse_subject``.

kryten-py kept its subject helpers in ``subject_builder``; kryten-actors keeps them in
:mod:`kryten_actors.protocol.subjects` (the ``seed`` profile's functions, plus one
:class:`~kryten_actors.protocol.subjects.SubjectScheme` per profile). This module
re-exports the functions, so snippets written for kryten-py run unchanged::

    >>> from kryten_actors.subject_builder import build_subject, parse_subject
    >>> build_subject("cytu.be", "lounge", "chatMsg")
    'cytube.events.cytu.be.lounge.chatmsg'
    >>> parse_subject("cytube.events.cytu.be.lounge.chatmsg")
    {'domain': 'cytu.be', 'channel': 'lounge', 'event': 'chatmsg'}
"""

from __future__ import annotations

from kryten_actors.protocol.subjects import (
    build_command_subject,
    build_event_subject,
    build_subject,
    normalize_domain,
    parse_subject,
    sanitize_token,
    scheme_for,
)

__all__ = [
    "build_command_subject",
    "build_event_subject",
    "build_subject",
    "normalize_domain",
    "parse_subject",
    "sanitize_token",
    "scheme_for",
]
