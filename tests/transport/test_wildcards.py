from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kryten_actors.errors import KrytenValidationError
from kryten_actors.transport.wildcards import (
    is_valid_subject,
    require_valid_subject,
    subject_matches,
)

tokens = st.text(alphabet="abcXYZ019_-$", min_size=1, max_size=4)
subjects = st.lists(tokens, min_size=1, max_size=6).map(".".join)


def reference_matches(pattern: str, subject: str) -> bool:
    """An independent regex translation of the NATS rules."""
    parts = pattern.split(".")
    regex = []
    for index, part in enumerate(parts):
        if part == ">" and index == len(parts) - 1:
            regex.append(r"[^.]+(?:\.[^.]+)*")
        elif part == "*":
            regex.append(r"[^.]+")
        else:
            regex.append(re.escape(part))
    return re.fullmatch(r"\.".join(regex), subject) is not None


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("a.b.c", "a.b.c", True),
        ("a.b.c", "a.b", False),
        ("a.*.c", "a.x.c", True),
        ("a.*.c", "a.x.y.c", False),
        ("a.*", "a", False),
        ("a.>", "a.b", True),
        ("a.>", "a.b.c.d", True),
        ("a.>", "a", False),
        (">", "a", True),
        ("*", "a.b", False),
        ("*.>", "a.b", True),
        ("kryten.events.cytube.*.chatmsg", "kryten.events.cytube.lounge.chatmsg", True),
        ("a.>.c", "a.b.c", False),  # '>' only as the last token
        ("a..b", "a..b", False),
        ("a.b", "a.*", False),  # published subjects are literal
    ],
)
def test_examples(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


@given(subjects)
def test_a_subject_matches_itself(subject: str) -> None:
    assert subject_matches(subject, subject)


@given(st.lists(tokens, min_size=1, max_size=6), st.data())
def test_star_replaces_any_one_token(parts: list[str], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(parts) - 1))
    pattern = ".".join([*parts[:index], "*", *parts[index + 1 :]])
    assert subject_matches(pattern, ".".join(parts))
    assert not subject_matches(pattern, ".".join([*parts, "extra"]))


@given(st.lists(tokens, min_size=1, max_size=6), st.data())
def test_gt_replaces_one_or_more_trailing_tokens(parts: list[str], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(parts) - 1))
    pattern = ".".join([*parts[:index], ">"])
    assert subject_matches(pattern, ".".join(parts))
    if index > 0:  # the prefix alone lacks the one-or-more trailing tokens
        assert not subject_matches(pattern, ".".join(parts[:index]))


@given(
    st.lists(st.one_of(tokens, st.just("*")), min_size=1, max_size=5),
    st.booleans(),
    subjects,
)
def test_agrees_with_a_regex_reference(parts: list[str], tail: bool, subject: str) -> None:
    pattern = ".".join([*parts, ">"] if tail else parts)
    assert subject_matches(pattern, subject) == reference_matches(pattern, subject)


@pytest.mark.parametrize("bad", ["", "a..b", ".a", "a.", "a b", "a.\tb", "a.>.b"])
def test_malformed_subjects_are_rejected(bad: str) -> None:
    assert not is_valid_subject(bad, wildcards=True)
    with pytest.raises(KrytenValidationError, match="invalid subject"):
        require_valid_subject(bad, wildcards=True)


def test_wildcards_are_not_literal_subjects() -> None:
    assert is_valid_subject("a.*.>", wildcards=True)
    assert not is_valid_subject("a.*")
    with pytest.raises(KrytenValidationError, match="without whitespace or wildcards"):
        require_valid_subject("a.>")
