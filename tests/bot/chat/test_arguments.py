"""Chat command arguments: words, quoting, conversions, and no input ever raising past a usage."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kryten_actors.bot.chat.arguments import ArgumentError, Signature, split_words
from kryten_actors.bot.tracked import ChannelUser


class Colour(enum.Enum):
    RED = "r"
    GREEN = "g"


USERS: Mapping[str, ChannelUser] = {"alice": ChannelUser("Alice", 1.0)}


class _Users(dict[str, ChannelUser]):
    """The tracked userlist's case-insensitive lookup, for the parser alone."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


LIST = _Users(USERS)


async def everything(
    self: object,
    ctx: object,
    word: str,
    count: int,
    ratio: float,
    flag: bool,
    mode: Literal["fast", "slow"],
    colour: Colour,
    who: ChannelUser,
    maybe: int | None = None,
    *,
    rest: str = "",
) -> None: ...


async def roll(self: object, ctx: object, dice: str = "1d6", *, comment: str = "") -> None: ...


async def two(self: object, ctx: object, a: int, b: str = "x") -> None: ...


SIGNATURES = [Signature.of(f) for f in (everything, roll, two)]


def test_words_quotes_and_offsets() -> None:
    assert split_words('a  "b c" d') == [("a", 1), ("b c", 8), ("d", 10)]
    assert split_words(r'"say \"hi\"" x') == [('say "hi"', 12), ("x", 14)]
    assert split_words("   ") == []
    assert split_words("a b c", limit=2) == [("a", 1), ("b", 3)]
    with pytest.raises(ArgumentError, match="quote is never closed"):
        split_words('a "b')


def test_every_supported_annotation_converts() -> None:
    args, kwargs = SIGNATURES[0].parse('hello 3 2.5 yes SLOW green @alice 7 and "the" rest', LIST)
    assert args == ["hello", 3, 2.5, True, "slow", Colour.GREEN, USERS["alice"], 7]
    assert kwargs == {"rest": 'and "the" rest'}  # the rest of the line stays as typed


def test_defaults_optionals_and_rest_of_line() -> None:
    assert SIGNATURES[1].parse("", LIST) == (["1d6"], {"comment": ""})
    assert SIGNATURES[1].parse("2d20   for  luck ", LIST) == (["2d20"], {"comment": "for  luck"})
    assert SIGNATURES[1].parse('"3d4" "quoted rest"', LIST) == (
        ["3d4"],
        {"comment": '"quoted rest"'},
    )
    assert SIGNATURES[1].usage() == "[dice=1d6] [comment…]"
    assert SIGNATURES[0].usage().startswith("<word> <count:number> <ratio:number> <flag:yes|no>")
    assert "<colour:red|green> <who:user> [maybe:number] [rest…]" in SIGNATURES[0].usage()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a is missing"),
        ("x", "a: expected a whole number, got 'x'"),
        ("1 b c", "too many arguments ('c' is extra)"),
        ('1 "open', "quote is never closed"),
    ],
)
def test_bad_input_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ArgumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SIGNATURES[2].parse(text, LIST)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("w 1 nan yes fast red alice", "finite"),
        ("w 1 1 maybe fast red alice", "yes or no"),
        ("w 1 1 yes medium red alice", "fast|slow"),
        ("w 1 1 yes fast blue alice", "red|green"),
        ("w 1 1 yes fast red bob", "'bob' is not in the channel"),
    ],
)
def test_conversions_refuse_with_the_choices(text: str, message: str) -> None:
    with pytest.raises(ArgumentError, match=message):
        SIGNATURES[0].parse(text, LIST)


def test_unparseable_signatures_are_type_errors_at_declaration() -> None:
    async def star(self: object, ctx: object, *words: str) -> None: ...

    async def listy(self: object, ctx: object, words: list[str]) -> None: ...

    async def rest_int(self: object, ctx: object, *, n: int) -> None: ...

    async def no_ctx(self: object) -> None: ...

    with pytest.raises(TypeError, match=r"\*words is not supported"):
        Signature.of(star)
    with pytest.raises(TypeError, match="cannot parse a chat argument as list"):
        Signature.of(listy)
    with pytest.raises(TypeError, match="must be a str"):
        Signature.of(rest_int)
    with pytest.raises(TypeError, match=r"\(self, ctx"):
        Signature.of(no_ctx)


@given(text=st.text(max_size=200), which=st.sampled_from(range(len(SIGNATURES))))
def test_no_input_raises_anything_but_an_argument_error(text: str, which: int) -> None:
    signature = SIGNATURES[which]
    try:
        args, _ = signature.parse(text, LIST)
    except ArgumentError as error:
        message = str(error)
    else:
        positional = [p for p in signature.parameters if not p.rest]
        assert len(args) == len(positional)
        return
    assert message  # a usage reply always has something to say
    assert "\n" not in message  # and says it in one line


@given(
    words=st.lists(st.text(min_size=1).filter(lambda w: '"' not in w and "\\" not in w), max_size=6)
)
def test_quoted_words_come_back_as_written(words: list[str]) -> None:
    text = " ".join(f'"{word}"' for word in words)
    assert [word for word, _ in split_words(text)] == words
