"""Chat text as CyTube measures it: UTF-16 lengths, splitting, a leading ``/`` neutralised."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kryten_actors.protocol.chat_commands import SendChat
from kryten_actors.protocol.chat_text import (
    VERBATIM_PREFIX,
    split_chat,
    utf16_length,
    verbatim,
)

# words from a small alphabet with emoji (2 UTF-16 units), slashes and odd whitespace
_CHARS = st.sampled_from(list("ab/!é😀𝄞 \t\n\u3000\u2028x"))
TEXT = st.text(_CHARS, max_size=300)
LIMIT = st.integers(min_value=2, max_value=40)


def _ink(text: str) -> str:
    """The text without its whitespace: what splitting must keep, in order."""
    return "".join(text.split())


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("", 0),
        ("abc", 3),
        ("é", 1),
        ("😀", 2),
        ("a😀b", 4),
        ("𝄞𝄞", 4),
        ("\u2060/x", 3),
        ("a\ud800b", 3),  # a lone surrogate, as JSON may carry one: one unit in JavaScript
    ],
)
def test_utf16_length_counts_as_javascript_does(text: str, units: int) -> None:
    assert utf16_length(text) == units


@given(st.text())
def test_utf16_length_counts_one_unit_per_bmp_character_and_two_above(text: str) -> None:
    assert utf16_length(text) == sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


@given(TEXT, LIMIT)
def test_split_never_exceeds_the_limit_in_utf16_units(text: str, limit: int) -> None:
    assert all(utf16_length(line) <= limit for line in split_chat(text, limit))


@given(TEXT, LIMIT)
def test_split_loses_nothing_but_the_whitespace_it_breaks_at(text: str, limit: int) -> None:
    lines = split_chat(text, limit)
    assert "".join(_ink(line) for line in lines) == _ink(text)
    assert all(line.strip() and line == line.strip() for line in lines)


@given(TEXT, LIMIT)
def test_split_lines_rejoined_give_the_words_back_when_every_word_fits(
    text: str, limit: int
) -> None:
    words = text.split()
    lines = split_chat(text, limit)
    if all(utf16_length(word) <= limit for word in words):
        assert " ".join(lines).split() == words
    else:  # a word longer than a line is cut into pieces that may share lines with others
        assert all(utf16_length(line) <= limit for line in lines)


def test_split_breaks_at_word_boundaries_and_cuts_only_overlong_words() -> None:
    assert split_chat("aaa bbb ccc", 7) == ["aaa bbb", "ccc"]
    assert split_chat("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert split_chat("😀😀😀", 3) == ["😀", "😀", "😀"]  # never half a surrogate pair
    assert split_chat("one\n\n two", 320) == ["one", "two"]  # blank lines dropped
    assert split_chat(" \n\t ", 320) == []


def test_split_refuses_a_limit_too_small_for_a_surrogate_pair() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        split_chat("x", 1)


@given(st.text(min_size=1, max_size=200).filter(str.strip))
def test_a_leading_slash_is_always_neutralised(message: str) -> None:
    line = SendChat(message=message).text
    assert not line.startswith("/")
    assert line == verbatim(message)
    assert line in (message, VERBATIM_PREFIX + message)
    assert SendChat(**SendChat.fields_of(line)).text == line


@given(st.text(min_size=1, max_size=200).filter(str.strip))
def test_as_command_sends_the_text_as_it_is(message: str) -> None:
    command = SendChat(message=message, as_command=True)
    assert command.text == message
    assert command.is_chat_command == message.startswith("/")


def test_verbatim_leaves_other_text_alone() -> None:
    assert verbatim("hello /ban") == "hello /ban"
    assert verbatim(" /ban x") == " /ban x"  # CyTube checks only the very first character
    assert verbatim("/ban x") == VERBATIM_PREFIX + "/ban x"
    assert SendChat(message="waves", action="me").text == "/me waves"
