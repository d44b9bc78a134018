"""The generated help: every line within the chat limit, every command listed, none split."""

from __future__ import annotations

import dataclasses
import itertools

from hypothesis import given
from hypothesis import strategies as st

from kryten_actors.bot.chat import CommandContext, command
from kryten_actors.bot.chat.command import MARK, CommandSpec
from kryten_actors.bot.chat.help import command_help, command_list


@command("template")
async def template(self: object, ctx: CommandContext, dice: str = "1d6") -> None:
    """Roll dice, e.g. !roll 2d6; a long enough docstring to need cutting at small limits."""


SPEC: CommandSpec = getattr(template, MARK)
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)


@given(names=st.lists(NAMES, unique=True, max_size=40), limit=st.integers(40, 400))
def test_the_list_fits_the_limit_and_lists_every_command(names: list[str], limit: int) -> None:
    specs = [dataclasses.replace(SPEC, name=name) for name in names]
    lines = command_list(specs, "!", limit)
    assert all(len(line) <= limit for line in lines)
    listed = " ".join(lines).removeprefix("commands: ").split(" — ")[0]
    if names:
        assert [word.strip(",") for word in listed.split()] == [f"!{n}" for n in names]
        # as few lines as fit: no line could have taken the next one's first name
        for line, following in itertools.pairwise(lines):
            first = following.split(",")[0].split(" — ")[0]
            comma = 0 if first == f"!{names[-1]}" else 1
            assert len(line) + 1 + len(first) + comma > limit


@given(limit=st.integers(10, 400), prefix=st.sampled_from(["!", "$", ".."]))
def test_one_command_help_is_one_line_within_the_limit(limit: int, prefix: str) -> None:
    text = command_help(SPEC, prefix, limit)
    assert len(text) <= limit
    assert "\n" not in text
    assert text.startswith(f"{prefix}template"[: limit - 1])  # cut with an ellipsis
