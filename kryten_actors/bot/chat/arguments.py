"""Chat command arguments: split a line into words, convert them by the handler's annotations.

A handler's signature is its grammar::

    async def roll(self, ctx, dice: str = "1d6", times: int = 1, *, comment: str = "")

Positional parameters take one word each (``"two words"`` in double quotes is one
word, ``\\"`` a literal quote); a keyword-only ``str`` parameter takes the rest of the
line, as typed. Supported annotations: ``str``, ``int``, ``float``, ``bool``,
``Literal[...]``, an ``Enum``, :class:`~kryten_actors.bot.tracked.ChannelUser` (a user
who must be in the channel's userlist) and ``X | None``. Whatever the input, parsing
either returns the arguments or raises :class:`ArgumentError`, whose text is meant for
the chat.
"""

from __future__ import annotations

import enum
import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, Union

from kryten_actors.bot.tracked import ChannelUser

__all__ = ["ArgumentError", "Parameter", "Signature", "split_words"]

_REQUIRED: Final = inspect.Parameter.empty
_TRUE: Final = frozenset({"yes", "y", "true", "on", "1"})
_FALSE: Final = frozenset({"no", "n", "false", "off", "0"})

Converter = Callable[[str, Mapping[str, ChannelUser]], Any]


class ArgumentError(ValueError):
    """The words do not fit the command's parameters; ``str()`` says which and why."""


def split_words(text: str, limit: int | None = None) -> list[tuple[str, int]]:
    """The words of ``text`` (at most ``limit``) with the offset just past each one.

    ``"a b"`` is one word; inside quotes ``\\"`` is a quote and ``\\\\`` a backslash.
    Raises :class:`ArgumentError` for a quote that is never closed.
    """
    words: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n and (limit is None or len(words) < limit):
        if text[i].isspace():
            i += 1
            continue
        if text[i] == '"':
            i += 1
            chars: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\':
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise ArgumentError('a quote is never closed; end it with another "')
            i += 1
            words.append(("".join(chars), i))
            continue
        start = i
        while i < n and not text[i].isspace():
            i += 1
        words.append((text[start:i], i))
    return words


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of a command: its name, how to convert a word, its default."""

    name: str
    convert: Converter
    kind: str  # what the usage line calls it: "number", "user", "a|b" ...
    default: Any = _REQUIRED
    rest: bool = False

    @property
    def required(self) -> bool:
        """True when the parameter has no default."""
        return self.default is _REQUIRED

    def usage(self) -> str:
        """``<dice>``, ``[times=1]``, ``[comment…]`` — how the help shows it."""
        label = self.name if self.kind == "text" else f"{self.name}:{self.kind}"
        if self.rest:
            return f"<{label}…>" if self.required else f"[{label}…]"
        if self.required:
            return f"<{label}>"
        if self.default is None or self.default == "":
            return f"[{label}]"
        shown = self.default.name if isinstance(self.default, enum.Enum) else self.default
        return f"[{label}={shown}]"


class Signature:
    """The parameters of one command handler, read from its signature (after ``ctx``)."""

    __slots__ = ("parameters",)

    def __init__(self, parameters: tuple[Parameter, ...]) -> None:
        self.parameters = parameters

    @classmethod
    def of(cls, func: Callable[..., Any], localns: Mapping[str, Any] | None = None) -> Signature:
        """Read ``func``'s parameters; ``TypeError`` names a parameter that cannot be parsed."""
        where = getattr(func, "__qualname__", repr(func))
        try:
            hints = typing.get_type_hints(func, localns=dict(localns or {}))
        except NameError as exc:
            raise TypeError(
                f"{where}: cannot resolve an annotation ({exc}); import the type at run "
                "time (not under TYPE_CHECKING) or define it before the class"
            ) from exc
        params = list(inspect.signature(func).parameters.values())
        if len(params) < 2 or params[1].kind not in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        ):
            raise TypeError(f"{where}: a command takes (self, ctx, ...) as its first parameters")
        parsed: list[Parameter] = []
        for p in params[2:]:
            if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                raise TypeError(
                    f"{where}: *{p.name} is not supported; take the rest of the line with "
                    f"a keyword-only str parameter (..., *, {p.name}: str = '')"
                )
            rest = p.kind is inspect.Parameter.KEYWORD_ONLY
            if rest and any(q.rest for q in parsed):
                raise TypeError(f"{where}: only one keyword-only parameter can take the rest")
            annotation = hints.get(p.name, str)
            if rest and annotation not in (str, str | None):
                raise TypeError(f"{where}: the rest of the line ({p.name}) must be a str")
            convert, kind = converter_for(annotation, f"{where}({p.name})")
            parsed.append(Parameter(p.name, convert, kind, p.default, rest))
        return cls(tuple(parsed))

    def usage(self) -> str:
        """The parameters as the help shows them, e.g. ``<who:user> [reason…]``."""
        return " ".join(p.usage() for p in self.parameters)

    def parse(
        self, text: str, users: Mapping[str, ChannelUser]
    ) -> tuple[list[Any], dict[str, Any]]:
        """Positional and keyword arguments for the handler, or :class:`ArgumentError`."""
        positional = [p for p in self.parameters if not p.rest]
        rest = next((p for p in self.parameters if p.rest), None)
        # with a rest parameter only the leading words are split: the rest stays as typed
        words = split_words(text, None if rest is None else len(positional))
        args: list[Any] = []
        end = 0
        for index, param in enumerate(positional):
            if index >= len(words):
                if param.required:
                    raise ArgumentError(f"{param.name} is missing")
                args.append(param.default)
                continue
            word, end = words[index]
            args.append(_convert(param, word, users))
        kwargs: dict[str, Any] = {}
        if rest is not None:
            remainder = text[end:].strip() if len(words) >= len(positional) else ""
            if not remainder and rest.required:
                raise ArgumentError(f"{rest.name} is missing")
            kwargs[rest.name] = remainder if remainder else rest.default
        elif len(words) > len(positional):
            raise ArgumentError(f"too many arguments ({words[len(positional)][0]!r} is extra)")
        return args, kwargs


def _convert(param: Parameter, word: str, users: Mapping[str, ChannelUser]) -> Any:
    try:
        return param.convert(word, users)
    except ArgumentError as exc:
        raise ArgumentError(f"{param.name}: {exc}") from None


def _shown(word: str) -> str:
    return repr(word if len(word) <= 30 else word[:29] + "…")


def _to_str(word: str, users: Mapping[str, ChannelUser]) -> str:
    return word


def _to_int(word: str, users: Mapping[str, ChannelUser]) -> int:
    try:
        if len(word) > 30:
            raise ValueError
        return int(word)
    except ValueError:
        raise ArgumentError(f"expected a whole number, got {_shown(word)}") from None


def _to_float(word: str, users: Mapping[str, ChannelUser]) -> float:
    try:
        if len(word) > 60:
            raise ValueError
        value = float(word)
    except ValueError:
        raise ArgumentError(f"expected a number, got {_shown(word)}") from None
    if not math.isfinite(value):
        raise ArgumentError(f"expected a finite number, got {_shown(word)}")
    return value


def _to_bool(word: str, users: Mapping[str, ChannelUser]) -> bool:
    lowered = word.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ArgumentError(f"expected yes or no, got {_shown(word)}")


def _to_user(word: str, users: Mapping[str, ChannelUser]) -> ChannelUser:
    user = users.get(word.lstrip("@"))
    if user is None:
        raise ArgumentError(f"{_shown(word)} is not in the channel")
    return user


def _literal(choices: tuple[Any, ...]) -> Converter:
    table = {str(choice).lower(): choice for choice in choices}

    def convert(word: str, users: Mapping[str, ChannelUser]) -> Any:
        try:
            return table[word.lower()]
        except KeyError:
            raise ArgumentError(f"expected one of {'|'.join(table)}, got {_shown(word)}") from None

    return convert


def _enum(kind: type[enum.Enum]) -> Converter:
    table: dict[str, enum.Enum] = {}
    for member in kind:
        table.setdefault(member.name.lower(), member)
        table.setdefault(str(member.value).lower(), member)

    def convert(word: str, users: Mapping[str, ChannelUser]) -> Any:
        try:
            return table[word.lower()]
        except KeyError:
            names = "|".join(m.name.lower() for m in kind)
            raise ArgumentError(f"expected one of {names}, got {_shown(word)}") from None

    return convert


_SIMPLE: Final[dict[Any, tuple[Converter, str]]] = {
    str: (_to_str, "text"),
    int: (_to_int, "number"),
    float: (_to_float, "number"),
    bool: (_to_bool, "yes|no"),
    ChannelUser: (_to_user, "user"),
}


def converter_for(annotation: Any, where: str) -> tuple[Converter, str]:
    """How to convert a word for ``annotation``, and what the usage line calls it."""
    simple = _SIMPLE.get(annotation)
    if simple is not None:
        return simple
    origin = typing.get_origin(annotation)
    if origin is Literal:
        choices = typing.get_args(annotation)
        return _literal(choices), "|".join(str(c).lower() for c in choices)
    if origin in (Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return converter_for(inner[0], where)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum(annotation), "|".join(m.name.lower() for m in annotation)
    raise TypeError(
        f"{where}: cannot parse a chat argument as {annotation!r}; use str, int, float, "
        "bool, Literal[...], an Enum, ChannelUser or one of them | None"
    )
