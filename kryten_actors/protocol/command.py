"""The :class:`Command` base model: wire names, minimum rank and the two payload shapes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Final, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from kryten_actors.protocol.results import CommandResult
from kryten_actors.protocol.validation import to_kryten_error

__all__ = [
    "DEFAULT_MAX_CHAT_LENGTH",
    "USERNAME_PATTERN",
    "Command",
    "Username",
    "check_username",
    "lower_camel",
]

DEFAULT_MAX_CHAT_LENGTH: Final = 320
"""CyTube truncates chat and PM text longer than this (reference §12)."""

USERNAME_PATTERN: Final = r"^[-A-Za-z0-9_]{1,20}$"
"""CyTube's user-name rule. Checking it keeps a name from smuggling extra words into the chat
commands (``/mute NAME``, ``/unmute NAME``) the bridge builds from it."""

_USERNAME_RE: Final = re.compile(USERNAME_PATTERN)


def check_username(value: str) -> str:
    """``value`` if it is a CyTube user name; ``ValueError`` saying the rule otherwise."""
    if _USERNAME_RE.fullmatch(value) is None:
        msg = "must be a CyTube user name: 1-20 letters, digits, '-' or '_'"
        raise ValueError(msg)
    return value


Username = Annotated[str, AfterValidator(check_username)]
"""A CyTube user name (see :data:`USERNAME_PATTERN`)."""


def lower_camel(method: str) -> str:
    """``send_chat`` → ``sendChat``: the seed's wire action for a Python method name."""
    head, *rest = method.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class Command(BaseModel):
    """One command to the bridge: validated fields plus its wire names, as class data.

    Class attributes every concrete command sets:

    * ``method`` — the seed's Python method name (``send_chat``); ``action`` is derived from it
      as lowerCamel (``sendChat``) and is the seed wire action and the :data:`COMMANDS` key.
    * ``robot_command`` — the kryten-robot command name that works (reference §7/§8).
    * ``min_rank`` — the lowest CyTube rank allowed to run it with default permissions
      (reference §12); the bot refuses to send a command its known rank is below.
    * ``seed_keys`` / ``robot_keys`` — wire key → field name for the seed ``payload`` and the
      kryten-robot ``args`` (empty: every field under its own name). Commands whose wire form
      is not a plain renaming override :meth:`seed_payload` / :meth:`robot_args`.
    * ``robot_only`` — only the kryten-robot profile can send it (state queries).
    * ``top_level_args`` — kryten-robot reads the parameters from the request's top level
      instead of ``args`` (``state.*``).
    * ``result_type`` — the :class:`CommandResult` subclass a reply decodes into.

    Constructing a command with a bad argument raises
    :class:`~kryten_actors.errors.KrytenValidationError` naming the field and the rule.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: ClassVar[str]
    action: ClassVar[str]
    robot_command: ClassVar[str]
    min_rank: ClassVar[float] = 0
    seed_keys: ClassVar[Mapping[str, str]] = {}
    robot_keys: ClassVar[Mapping[str, str]] = {}
    robot_only: ClassVar[bool] = False
    top_level_args: ClassVar[bool] = False
    result_type: ClassVar[type[CommandResult]] = CommandResult

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _invalid(type(self), exc) from None

    # Marks this wrapper as pydantic's own __init__, so model_validate() does not route
    # through it (which would drop the validation context that carries max_chat_length).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "method" in cls.__dict__:
            cls.action = lower_camel(cls.method)

    @classmethod
    def build(
        cls,
        data: Mapping[str, Any],
        *,
        max_chat_length: int = DEFAULT_MAX_CHAT_LENGTH,
    ) -> Self:
        """Validate ``data`` into this command with a configurable chat length limit.

        ``SendChat.build({"message": text}, max_chat_length=500)`` accepts up to 500
        characters; the plain constructor uses CyTube's default of 320. Raises
        :class:`~kryten_actors.errors.KrytenValidationError` naming each bad field.
        """
        try:
            return cls.model_validate(dict(data), context={"max_chat_length": max_chat_length})
        except ValidationError as exc:
            raise _invalid(cls, exc) from None

    def seed_payload(self) -> dict[str, Any]:
        """The seed body's ``payload`` (reference §9 data keys)."""
        return self._mapped(self.seed_keys)

    def robot_args(self) -> dict[str, Any]:
        """The kryten-robot request's ``args`` (reference §7 working keys)."""
        return self._mapped(self.robot_keys)

    def _mapped(self, keys: Mapping[str, str]) -> dict[str, Any]:
        values = self.model_dump()
        if not keys:
            return values
        return {wire: values[field] for wire, field in keys.items()}


def _invalid(cls: type[Command], exc: ValidationError) -> Exception:
    return to_kryten_error(
        exc,
        what=f"{cls.__name__} command",
        hint="Fix the named argument(s); see the command's docstring for the rules.",
    )
