"""NATS subject wildcard semantics, as pure functions.

Subjects are ``.``-separated non-empty tokens without whitespace. In a subscription
pattern ``*`` matches exactly one token and ``>`` (only as the last token) matches
one or more trailing tokens.
"""

from __future__ import annotations

from kryten_actors.errors import KrytenValidationError

__all__ = ["is_valid_subject", "require_valid_subject", "subject_matches"]

_FORBIDDEN = frozenset(" \t\r\n")


def is_valid_subject(subject: str, *, wildcards: bool = False) -> bool:
    """Whether ``subject`` is well formed; ``wildcards`` allows ``*`` and a final ``>``."""
    if not subject:
        return False
    tokens = subject.split(".")
    for index, part in enumerate(tokens):
        if not part or any(ch in _FORBIDDEN for ch in part):
            return False
        if part in {"*", ">"}:
            if not wildcards:
                return False
            if part == ">" and index != len(tokens) - 1:
                return False
    return True


def require_valid_subject(subject: str, *, wildcards: bool = False) -> None:
    """Raise :class:`KrytenValidationError` naming the rule when ``subject`` is malformed."""
    if not is_valid_subject(subject, wildcards=wildcards):
        rule = (
            "non-empty '.'-separated tokens without whitespace; '*' for one token, "
            "'>' only as the last token"
            if wildcards
            else "non-empty '.'-separated tokens without whitespace or wildcards"
        )
        msg = f"invalid subject {subject!r}: use {rule}"
        raise KrytenValidationError(msg, errors=[("subject", rule)])


def subject_matches(pattern: str, subject: str) -> bool:
    """Whether the literal ``subject`` is delivered to a subscription on ``pattern``.

    Malformed patterns or subjects never match.
    """
    if not is_valid_subject(pattern, wildcards=True) or not is_valid_subject(subject):
        return False
    pattern_tokens = pattern.split(".")
    subject_tokens = subject.split(".")
    for index, part in enumerate(pattern_tokens):
        if part == ">":
            return len(subject_tokens) > index
        if index >= len(subject_tokens):
            return False
        if part not in {"*", subject_tokens[index]}:
            return False
    return len(pattern_tokens) == len(subject_tokens)
