"""The code blocks of README.md and docs/*.md, for the tests that run them."""

from __future__ import annotations

import ast
import re
import shlex
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOC_URL = "nats://127.0.0.1:4222"
"""The server every snippet names; tests replace it with their own server's URL."""

# a fence, possibly indented inside a list item; the body is dedented
_FENCE = re.compile(r"^( *)```([\w-]*)[^\n]*\n(.*?)^\1```[ \t]*$", re.MULTILINE | re.DOTALL)
_SHELLS = {"bash", "sh", "shell", "console"}


@dataclass(frozen=True)
class Snippet:
    """One fenced block: the document, the line its fence opens on, language and text."""

    doc: Path
    line: int
    lang: str
    text: str

    @property
    def name(self) -> str:
        return f"{self.doc.name}:{self.line}"

    @property
    def is_shell(self) -> bool:
        return self.lang in _SHELLS


def snippets(lang: str | None = None) -> list[Snippet]:
    """Every block of every document (of ``lang`` only, when given)."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            _, language, body = match.groups()
            line = text.count("\n", 0, match.start()) + 1
            found.append(Snippet(doc, line, language, textwrap.dedent(body)))
    return [s for s in found if lang is None or s.lang == lang]


def find(doc: str, starts_with: str, lang: str | None = None) -> Snippet:
    """The one block of ``doc`` whose text starts with ``starts_with``."""
    matches = [
        s for s in snippets(lang) if s.doc.name == doc and s.text.lstrip().startswith(starts_with)
    ]
    assert len(matches) == 1, f"{doc}: {len(matches)} blocks start with {starts_with!r}"
    return matches[0]


def parse_python(snippet: Snippet) -> ast.Module:
    """The block as a module; a fragment (``return``, ``await`` in a method body,
    ``self``) is parsed as the body of an ``async def`` method."""
    try:
        tree = ast.parse(snippet.text, filename=snippet.name)
        compile(tree, snippet.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        wrapped = "async def _fragment(self, event):\n" + textwrap.indent(snippet.text, "    ")
        return ast.parse(wrapped, filename=snippet.name)
    return tree


def steps(snippet: Snippet) -> list[tuple[dict[str, str], list[str]]]:
    """The commands of a shell block as ``(environment, arguments)``: continuation lines
    joined, comments dropped, ``VAR=value`` prefixes moved into the environment and
    ``uv run [--frozen]`` removed (the tests run inside the project's environment)."""
    joined = snippet.text.replace("\\\n", " ")
    result = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        env = {}
        while words and (match := re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", words[0])):
            env[match.group(1)] = match.group(2)
            words = words[1:]
        if words[:2] == ["uv", "run"]:
            words = [w for w in words[2:] if w != "--frozen"]
        if words:
            result.append((env, words))
    return result


def commands(snippet: Snippet) -> list[list[str]]:
    """The argument lists of a shell block's commands (see :func:`steps`)."""
    return [words for _, words in steps(snippet)]
