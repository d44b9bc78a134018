"""How CyTube 3.86 answers each command: the rules :class:`OutcomeWatcher` applies.

Every rule is read off CyTube's source (``src/channel/*.js``) and checked on a real
CyTube + kryten-robot stack; docs/profiles.md has the table. A command without a rule
gets no answer from CyTube that could be told apart from others': its result means
"accepted by the bridge", and the bot checks what it can before sending instead
(unknown uids, absent users). Refusal texts are CyTube's own and start the same way
whatever the variable part (a user name, a regex error).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any, Final

from kryten_actors.bot.outcomes import Judge, OutcomeRule, Verdict
from kryten_actors.protocol.commands import (
    AddFilter,
    AddMedia,
    AssignLeader,
    Ban,
    Command,
    DeleteMedia,
    Kick,
    MoveMedia,
    Mute,
    NewPoll,
    SendChat,
    SendPM,
    SetChannelRank,
    SetTemp,
    ShadowMute,
    Unmute,
    UpdateEmote,
    UpdateFilter,
)
from kryten_actors.protocol.events import RawEvent

__all__ = ["FEEDBACK_EVENTS", "QUEUE_TOO_FAST", "rule_for"]

QUEUE_TOO_FAST: Final = "You are adding videos too quickly"
"""CyTube's ``queueFail`` text when its queue rate limit dropped an add."""

Verdict_ = tuple[str, str] | None


def _field(event: RawEvent, key: str) -> Any:
    payload = event.payload
    if isinstance(payload, dict):
        return payload.get(key)
    return getattr(payload, key, None)


def _text(event: RawEvent) -> str:
    value = _field(event, "msg")
    return value if isinstance(value, str) else ""


def _same(a: object, b: object) -> bool:
    return isinstance(a, str) and isinstance(b, str) and a.lower() == b.lower()


def _cooldown(name: str) -> Verdict_:
    if name == "cooldown":
        return Verdict.THROTTLED, "CyTube's chat flood control dropped it"
    return None


def _server_line(event: RawEvent, *words: str) -> bool:
    """A ``[server]`` notice (to moderators) containing every one of ``words``."""
    if _field(event, "username") != "[server]":
        return False
    text = _text(event).lower()
    return all(word.lower() in text for word in words)


def _refusal(*prefixes: str) -> Callable[[str, RawEvent], Verdict_]:
    def judge(name: str, event: RawEvent) -> Verdict_:
        if name == "errormsg" and _text(event).startswith(prefixes):
            return Verdict.REFUSED, _text(event)
        return None

    return judge


# --- chat lines and PMs (one rate limiter in CyTube) -------------------------------------
_TAG = re.compile(r"<[^>]*>")


def shown_text(msg: str) -> str:
    """What a person reads of a ``chatMsg`` ``msg``: tags dropped, entities unescaped."""
    return html.unescape(_TAG.sub("", msg)).strip()


def _is_echo(event: RawEvent, command: SendChat, own: str | None) -> bool:
    if own is not None:
        return _same(_field(event, "username"), own)
    # the bot's name is not known yet (it just started): recognise the line by its text
    msg = _field(event, "msg")
    line = command.message if command.chat_action == "me" else command.text
    return isinstance(msg, str) and shown_text(msg) == line.strip()


def _judge_chat(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    assert isinstance(command, SendChat)
    if name == "chatmsg":
        return (Verdict.CONFIRMED, "") if _is_echo(event, command, own) else None
    if name == "noflood" and _field(event, "action") == "chat":
        return Verdict.REFUSED, _text(event)
    if name == "spamfiltered":
        return Verdict.REFUSED, f"CyTube's spam filter dropped the line ({_field(event, 'reason')})"
    return _cooldown(name)


_pm_refused = _refusal("PM failed", "You can't PM yourself", "You must be signed in to send PMs")


def _judge_pm(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    assert isinstance(command, SendPM)
    if name == "pm":
        mine = _same(_field(event, "username"), own) and _same(_field(event, "to"), command.to)
        return (Verdict.CONFIRMED, "") if mine else None
    return _pm_refused(name, event) or _cooldown(name)


# --- moderation (kryten-robot sends these as chat commands) ------------------------------
_kick_refused = _refusal("No kick target specified", "You do not have permission to kick")


def _judge_kick(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    assert isinstance(command, Kick)
    if name == "userleave" and _same(_field(event, "name"), command.username):
        return Verdict.CONFIRMED, ""
    return _kick_refused(name, event) or _cooldown(name)


_ban_refused = _refusal(
    "No ban target specified",
    "Invalid username",
    "You do not have ban permissions",
    "You cannot ban yourself",
    "You don't have permission to ban",
    "Channel not live",
)


def _judge_ban(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    assert isinstance(command, Ban)
    if name == "chatmsg" and _server_line(event, "namebanned", command.username):
        return Verdict.CONFIRMED, ""
    if name == "errormsg" and _text(event).lower().endswith("is already banned"):
        return Verdict.REFUSED, _text(event)
    return _ban_refused(name, event) or _cooldown(name)


def _mute_judge(verb: str, flag: str) -> Judge:
    refused = _refusal(f"/{verb} requires", f"/{verb} target", f"/{verb} failed")

    def judge(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
        target = getattr(command, "username", None)
        if name == "setusermeta" and _same(_field(event, "name"), target):
            meta = _field(event, "meta")
            if isinstance(meta, dict) and meta.get(flag):
                return Verdict.CONFIRMED, ""
        return refused(name, event) or _cooldown(name)

    return judge


_unmute_refused = _refusal("/unmute requires", "You are not allowed to unmute yourself")


def _judge_unmute(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    assert isinstance(command, Unmute)
    if name == "chatmsg" and _server_line(event, "unmuted", command.username):
        return Verdict.CONFIRMED, ""
    if name == "errormsg" and _text(event).lower() == f"{command.username.lower()} is not muted.":
        return Verdict.REFUSED, _text(event)
    return _unmute_refused(name, event) or _cooldown(name)


def _judge_leader(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    assert isinstance(command, AssignLeader)
    if name == "setleader" and event.payload == command.username:
        return Verdict.CONFIRMED, ""
    return _refusal("Unable to assign leader")(name, event)


# --- playlist -----------------------------------------------------------------------------
def _judge_add(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    assert isinstance(command, AddMedia)
    if name == "queue":
        item = _field(event, "item")
        media = getattr(item, "media", None)
        if media is not None and getattr(media, "id", None) == command.media_id:
            return Verdict.CONFIRMED, ""
        return None
    if name == "queuefail" and _field(event, "id") in (command.media_id, None, ""):
        text = _text(event)
        return (Verdict.THROTTLED if text == QUEUE_TOO_FAST else Verdict.REFUSED), text
    return None


def _judge_uid(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    uid = getattr(command, "uid", None)
    key = "from_" if name == "movevideo" else "uid"
    if _field(event, key) == uid:
        return Verdict.CONFIRMED, ""
    return None


# --- channel settings ---------------------------------------------------------------------
def _judge_filter(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    filter_name = getattr(command, "name", None)
    if name == "addfiltersuccess" and isinstance(command, AddFilter):
        return Verdict.CONFIRMED, ""
    if name == "updatechatfilter" and _field(event, "name") == filter_name:
        return Verdict.CONFIRMED, ""
    return _refusal("Invalid regex", "Filter add failed", "Filter update failed")(name, event)


def _judge_emote(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    if name == "updateemote" and _field(event, "name") == getattr(command, "name", None):
        return Verdict.CONFIRMED, ""
    return _refusal("Emote names and images must not be blank", "Unable to update emote")(
        name, event
    )


def _judge_poll(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    if name == "newpoll" and _same(_field(event, "initiator"), own):
        return Verdict.CONFIRMED, ""
    return _refusal("Poll ")(name, event)


def _judge_rank(name: str, event: RawEvent, command: Command, own: str | None) -> Verdict_:
    if name == "channelrankfail":
        return Verdict.REFUSED, _text(event)
    if name == "setuserrank" and _same(_field(event, "name"), getattr(command, "username", None)):
        return Verdict.CONFIRMED, ""
    return None


def _rule(judge: Judge, *events: str) -> OutcomeRule:
    return OutcomeRule(frozenset(events), judge)


_CHAT_LIMITED: Final = ("errormsg", "cooldown")
_RULES: Final[dict[type[Command], OutcomeRule]] = {
    SendChat: _rule(_judge_chat, "chatmsg", "noflood", "spamfiltered", "cooldown"),
    SendPM: _rule(_judge_pm, "pm", *_CHAT_LIMITED),
    Kick: _rule(_judge_kick, "userleave", *_CHAT_LIMITED),
    Ban: _rule(_judge_ban, "chatmsg", *_CHAT_LIMITED),
    Mute: _rule(_mute_judge("mute", "muted"), "setusermeta", *_CHAT_LIMITED),
    ShadowMute: _rule(_mute_judge("smute", "smuted"), "setusermeta", *_CHAT_LIMITED),
    Unmute: _rule(_judge_unmute, "chatmsg", *_CHAT_LIMITED),
    AssignLeader: _rule(_judge_leader, "setleader", "errormsg"),
    AddMedia: _rule(_judge_add, "queue", "queuefail"),
    DeleteMedia: _rule(_judge_uid, "delete"),
    MoveMedia: _rule(_judge_uid, "movevideo"),
    SetTemp: _rule(_judge_uid, "settemp"),
    AddFilter: _rule(_judge_filter, "errormsg", "addfiltersuccess", "updatechatfilter"),
    UpdateFilter: _rule(_judge_filter, "errormsg", "updatechatfilter"),
    UpdateEmote: _rule(_judge_emote, "errormsg", "updateemote"),
    NewPoll: _rule(_judge_poll, "errormsg", "newpoll"),
    SetChannelRank: _rule(_judge_rank, "channelrankfail", "setuserrank"),
}

FEEDBACK_EVENTS: Final = frozenset().union(*(rule.events for rule in _RULES.values()))
"""Every lowercased event name some rule looks at."""


def rule_for(command: Command) -> OutcomeRule | None:
    """The rule for ``command``, or None when CyTube's answer cannot be attributed."""
    if isinstance(command, SendChat) and command.is_chat_command:
        return None  # a chat command echoes nothing, or something else than the line
    return _RULES.get(type(command))
