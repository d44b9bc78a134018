"""Chat command dispatch: from a ``chatMsg``/``pm`` line to the command handler, or to an answer.

For each line, in order: a line not starting with the channel's prefix, or naming no
command, is not for us; replayed history, the bot's own lines, shadow-muted users and
PMs to a command without ``pm=True`` are ignored. Then the command's checks run (rank
from the tracked userlist, cooldown, custom checks), its arguments are parsed, and the
handler runs. A refusal or a parse
failure is answered in one line and the actor goes on; an exception from the handler
is answered in one line (given at most ``FAILURE_ANSWER_SECONDS`` to go out) and then
fails the actor, as any handler failure does. Each command line is counted in its
channel's ``counters.chat_commands`` by outcome — ``run`` (its handler was called;
``failed`` counts those that raised), ``refused``, ``invalid`` (bad arguments) or
``ignored`` — and the health answers sum them (``chat_commands``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kryten_actors.bot.chat.arguments import ArgumentError
from kryten_actors.bot.chat.checks import book_for, run_check
from kryten_actors.bot.chat.command import MARK, Commands, CommandSpec, Included
from kryten_actors.bot.chat.context import CommandContext
from kryten_actors.bot.chat.help import command_help, command_list
from kryten_actors.bot.handlers import on
from kryten_actors.errors import KrytenError
from kryten_actors.protocol.events import ChatMessageEvent, PrivateMessageEvent

if TYPE_CHECKING:
    from kryten_actors.bot.channel import ChannelActor

__all__ = ["FAILURE_ANSWER_SECONDS", "CommandTable", "dispatch_commands"]

FAILURE_ANSWER_SECONDS = 2.0
"""The longest a failed command's one-line answer may hold up the actor's failure."""

log = logging.getLogger("kryten_actors.bot.chat")


@dataclass(frozen=True, slots=True)
class _Entry:
    spec: CommandSpec
    attr: str
    group: type[Commands] | None


class CommandTable:
    """Command name or alias (lowercased) → its handler, for one actor class."""

    __slots__ = ("_by_name", "entries")

    def __init__(self, entries: list[_Entry]) -> None:
        self.entries = tuple(entries)
        self._by_name: dict[str, _Entry] = {}
        for entry in entries:
            for name in entry.spec.names:
                other = self._by_name.get(name)
                if other is not None:
                    raise TypeError(
                        f"two commands answer to {name!r}: {_where(other)} and {_where(entry)}"
                    )
                self._by_name[name] = entry

    def __bool__(self) -> bool:
        return bool(self.entries)

    @classmethod
    def collect(cls, owner: type, reserved: type | None = None) -> CommandTable:
        """The ``@command`` methods of ``owner`` (and bases) and of the groups it includes.

        A command method named like an attribute of ``reserved`` (the actor's own
        helpers: ``kick``, ``send_chat``…) would hide it: a ``TypeError``.
        """
        found: dict[str, _Entry] = {}
        groups: list[type[Commands]] = []
        for klass in reversed(owner.__mro__):
            for attr, value in vars(klass).items():
                spec = getattr(value, MARK, None)
                if isinstance(spec, CommandSpec):
                    found[attr] = _Entry(spec, attr, None)
                elif isinstance(value, Included):
                    groups.extend(g for g in value.groups if g not in groups)
                elif attr in found:
                    del found[attr]
        entries = list(found.values())
        for entry in entries:
            if reserved is not None and hasattr(reserved, entry.attr):
                raise TypeError(
                    f"{_where(entry)} hides {reserved.__name__}.{entry.attr}; name the method "
                    f"otherwise (@command({entry.spec.name!r}) names the chat command)"
                )
        for group in groups:
            entries.extend(_Entry(spec, attr, group) for attr, spec in group.specs())
        return cls(entries)

    def find(self, name: str) -> _Entry | None:
        """The command called ``name`` (lowercased), if any."""
        return self._by_name.get(name)

    def visible(self, rank: float, *, pm: bool) -> list[CommandSpec]:
        """The commands ``!help`` lists for a user of ``rank``, by name."""
        specs = [
            e.spec
            for e in self.entries
            if not e.spec.hidden and e.spec.min_rank <= rank and (e.spec.pm or not pm)
        ]
        return sorted(specs, key=lambda spec: spec.name)


def _where(entry: _Entry) -> str:
    return str(getattr(entry.spec.func, "__qualname__", entry.attr))


def _target(actor: ChannelActor, entry: _Entry) -> Any:
    """The ``self`` of a handler: the actor, or the actor's instance of the group."""
    if entry.group is None:
        return actor
    groups: dict[type[Commands], Commands] = actor.__dict__.setdefault("_kryten_groups", {})
    instance = groups.get(entry.group)
    if instance is None:
        instance = groups[entry.group] = entry.group(actor)
    return instance


def _ignored(actor: ChannelActor, event: ChatMessageEvent | PrivateMessageEvent) -> bool:
    if event.is_replay or event.is_shadow:
        return True
    own = actor.username
    if own is not None and event.username.lower() == own.lower():
        return True
    user = actor.userlist.get(event.username)
    return user is not None and user.smuted


@on("chatMsg", "pm")
async def dispatch_commands(
    actor: ChannelActor, event: ChatMessageEvent | PrivateMessageEvent
) -> None:
    """The handler a ``ChannelActor`` with ``@command`` methods gets for chat and PMs."""
    prefix = actor.command_prefix
    text = event.message
    if not text.startswith(prefix):
        return
    words = text[len(prefix) :].split(maxsplit=1)
    if not words or text[len(prefix)].isspace():
        return
    head, rest = words[0], words[1:]
    name = head.lower()
    table = type(actor)._command_table
    entry = table.find(name)
    if entry is None and name != "help":
        return  # names no command of ours: another bot may own it
    count = actor._binding.counters.count_chat_command
    is_pm = isinstance(event, PrivateMessageEvent)
    if _ignored(actor, event) or (entry is not None and is_pm and not entry.spec.pm):
        count("ignored")
        return
    if entry is None:
        count("run")
        await _help(actor, event, table, prefix, rest[0] if rest else "")
        return
    spec = entry.spec
    ctx = CommandContext(
        actor=actor,
        event=event,
        command=spec,
        prefix=prefix,
        invoked=prefix + head,
        args_text=rest[0] if rest else "",
    )
    refusal = await _refusal(actor, ctx, spec)
    if refusal is not None:
        count("refused")
        await ctx.reply(refusal)
        return
    try:
        args, kwargs = spec.signature.parse(ctx.args_text, actor.userlist)
    except ArgumentError as bad:
        count("invalid")
        await ctx.reply(_fit(f"{bad} — usage: {spec.usage(prefix)}", actor.chat_limit))
        return
    if spec.cooldown is not None:
        buckets = spec.cooldown.keys(spec.name, f"{actor.domain}/{actor.channel}", ctx.username)
        book_for(actor._binding.sender).spend(buckets, actor._binding.clock.now())
    count("run")
    try:
        await spec.func(_target(actor, entry), ctx, *args, **kwargs)
    except Exception as exc:
        count("failed")
        # best effort, bounded: the actor's failure (and restart) must not wait on a
        # bridge that is down or slow to answer
        try:
            async with asyncio.timeout(FAILURE_ANSWER_SECONDS):
                await ctx.reply(
                    _fit(f"{ctx.invoked} failed: {type(exc).__name__}", actor.chat_limit)
                )
        except (KrytenError, TimeoutError):
            log.warning("could not report the failure of %s to %s", ctx.invoked, ctx.username)
        raise


async def _refusal(actor: ChannelActor, ctx: CommandContext, spec: CommandSpec) -> str | None:
    """Why the user may not run the command now (rank, cooldown, custom check), or None."""
    if spec.min_rank > 0 and ctx.rank < spec.min_rank:
        return f"{ctx.invoked} needs rank {spec.min_rank:g} (you have {ctx.rank:g})"
    if spec.cooldown is not None:
        buckets = spec.cooldown.keys(spec.name, f"{actor.domain}/{actor.channel}", ctx.username)
        binding = actor._binding
        wait = book_for(binding.sender).remaining(buckets, binding.clock.now())
        if wait > 0:
            return f"{ctx.invoked} is cooling down: try again in {wait:.1f}s"
    for check in spec.checks:
        refusal = await run_check(check, ctx)
        if refusal is not None:
            return refusal
    return None


async def _help(
    actor: ChannelActor,
    event: ChatMessageEvent | PrivateMessageEvent,
    table: CommandTable,
    prefix: str,
    topic: str,
) -> None:
    is_pm = isinstance(event, PrivateMessageEvent)
    user = actor.userlist.get(event.username)
    rank = user.rank if user is not None else 0.0
    limit = actor.chat_limit
    wanted = topic.strip().removeprefix(prefix).lower()
    if wanted:
        entry = table.find(wanted.split()[0])
        if entry is None or entry.spec.hidden:
            lines = [_fit(f"no command {prefix}{wanted}; {prefix}help lists them", limit)]
        else:
            lines = [command_help(entry.spec, prefix, limit)]
    else:
        lines = command_list(table.visible(rank, pm=is_pm), prefix, limit)
    for line in lines:
        if is_pm:
            await actor.send_pm(event.username, line)
        else:
            await actor.send_chat(line)


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
