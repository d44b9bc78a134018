"""Saying a chat line as a user through a running simulated bridge (``kryten-actors say``).

The simulated bridge answers requests on ``kryten.demo.say.{channel}`` whose body is
``{"user": "you", "text": "!roll"}``: the user joins the channel if absent, then says
the line, exactly as a CyTube user would (the bridge publishes the ``chatMsg``). The
reply is ``{"ok": true, "bot": "KrytenBot", "chat_subject": "…"}`` — the bot account's
name and the subject its answers arrive on — or ``{"ok": false, "error": "…"}``.

Only the simulated bridge listens there; a real kryten-robot bridge never does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from kryten_actors.errors import KrytenValidationError

if TYPE_CHECKING:
    from kryten_actors.demo.bridge import SimulatedBridge
    from kryten_actors.transport.base import InboundMessage, Transport

__all__ = [
    "SAY_PREFIX",
    "SayReply",
    "answer_say",
    "ask_to_say",
    "say_request",
    "say_subject",
]

SAY_PREFIX: Final = "kryten.demo.say"
MAX_TEXT: Final = 320
_USER = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


def say_subject(channel: str) -> str:
    """Where the simulated bridge takes lines for ``channel``."""
    return f"{SAY_PREFIX}.{channel.lower()}"


def say_request(user: str, text: str) -> bytes:
    """The request body; raises :class:`KrytenValidationError` for a bad user or text."""
    if not _USER.fullmatch(user):
        msg = f"user {user!r} is not a CyTube user name; use 1-20 letters, digits, '_' or '-'"
        raise KrytenValidationError(msg, [("user", "invalid")])
    if not text.strip():
        raise KrytenValidationError("say what? the text is empty", [("text", "empty")])
    if len(text) > MAX_TEXT:
        msg = f"the text has {len(text)} characters; CyTube takes at most {MAX_TEXT}"
        raise KrytenValidationError(msg, [("text", "too long")])
    return json.dumps({"user": user, "text": text}).encode()


@dataclass(frozen=True, slots=True)
class SayReply:
    """The bridge's answer: the bot account's name and where its chat lines arrive."""

    bot: str
    chat_subject: str


def _reply(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


async def answer_say(bridge: SimulatedBridge, message: InboundMessage) -> None:
    """The bridge's handler of a say request (see the module docstring)."""
    channel = message.subject.rsplit(".", 1)[-1]
    try:
        body = json.loads(message.data)
        user, text = body["user"], body["text"]
        say_request(user, text)  # the same checks as the client's
        reply = await bridge.say(channel, user, text)
        answer: dict[str, Any] = {"ok": True, "bot": reply.bot, "chat_subject": reply.chat_subject}
    except (ValueError, KeyError, TypeError) as exc:  # KrytenValidationError is a ValueError
        answer = {"ok": False, "error": str(exc)}
    if message.reply:
        await bridge.transport.publish(message.reply, _reply(answer))


async def ask_to_say(
    transport: Transport,
    channel: str,
    user: str,
    text: str,
    *,
    timeout: float,  # noqa: ASYNC109 - the CLI's deadline for the bridge's answer
) -> SayReply:
    """Ask the simulated bridge to say ``text`` as ``user`` in ``channel``.

    Raises :class:`KrytenValidationError` when the bridge refuses (an unknown channel),
    and the transport's errors (``PublishError`` when no bridge listens,
    ``KrytenTimeoutError``) otherwise.
    """
    reply = await transport.request(say_subject(channel), say_request(user, text), timeout=timeout)
    try:
        answer = json.loads(reply.data)
    except ValueError as exc:
        raise KrytenValidationError(
            f"the bridge answered something that is not JSON: {exc}"
        ) from exc
    if not isinstance(answer, dict) or not answer.get("ok"):
        error = answer.get("error") if isinstance(answer, dict) else answer
        raise KrytenValidationError(f"the bridge refused: {error}", [("channel", str(error))])
    return SayReply(bot=str(answer["bot"]), chat_subject=str(answer["chat_subject"]))
