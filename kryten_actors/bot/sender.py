"""CommandSender: the one path every command takes from a handler to the bus."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kryten_actors.bot.binding import current_correlation
from kryten_actors.errors import CommandRejected, KrytenError
from kryten_actors.observability.instrumentation import Instrumentation
from kryten_actors.protocol.commands import Command, CommandEncoder
from kryten_actors.protocol.results import CommandResult
from kryten_actors.transport.base import InboundMessage, Transport

__all__ = ["CommandSender", "SenderStats"]

#: A publish does not suspend (nats-py buffers it); a loop of awaited sends yields to the
#: event loop this often, so other channels (and the handler watchdog) get their turn.
YIELD_EVERY = 32


@dataclass(slots=True)
class SenderStats:
    """Counters of the command path."""

    sent: int = 0
    failed: int = 0
    rejected: int = 0


class CommandSender:
    """Validates, encodes and sends commands for every channel of a bot.

    In the ``seed`` profile a command is a fire-and-forget publish and the result
    only means "published". In the ``kryten-robot`` profile it is a request to the
    bridge: the result means "accepted by the bridge" (CyTube may still refuse it
    in a later ``errorMsg``/``queueFail`` event).
    """

    def __init__(
        self,
        transport: Transport,
        encoder: CommandEncoder,
        *,
        source: str,
        command_timeout: float,
        instrumentation: Instrumentation,
        chat_max_length: int = 320,
    ) -> None:
        self._transport = transport
        self._encoder = encoder
        self._source = source
        self._timeout = command_timeout
        self._instrumentation = instrumentation
        self.chat_max_length = chat_max_length
        self.stats = SenderStats()

    @property
    def transport(self) -> Transport:
        """The transport commands go out on."""
        return self._transport

    async def ask_all(
        self,
        command: Command,
        *,
        domain: str,
        channel: str,
        window: float,
        until: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Every bridge's reply to ``command`` within ``window`` seconds, decoded; returns
        early once a reply satisfies ``until``.

        kryten-robot answers ``system.*`` whichever channel a request names, so a bot
        that must know *its* bridge's answer collects them all and picks by content.
        Replies that are not JSON objects are left out. Not counted in ``stats``.
        """
        encoded = self._encoder.encode(
            command,
            domain=domain,
            channel=channel,
            correlation_id=str(uuid.uuid4()),
            source=self._source,
        )
        replies: list[dict[str, Any]] = []
        enough = asyncio.Event()

        async def collect(message: InboundMessage) -> None:
            with contextlib.suppress(ValueError, UnicodeDecodeError, RecursionError):
                body = json.loads(message.data)
                if isinstance(body, dict):
                    replies.append(body)
                    if until is not None and until(body):
                        enough.set()

        inbox = self._transport.new_inbox()
        subscription = await self._transport.subscribe(inbox, collect)
        try:
            await self._transport.publish(encoded.subject, encoded.body, reply_to=inbox)
            # a collection window: replies carry no count, so wait for it or a match
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(window):
                    await enough.wait()
        finally:
            await subscription.unsubscribe()
        return replies

    @property
    def profile(self) -> str:
        """The wire profile commands are encoded for."""
        return self._encoder.profile

    async def send(
        self,
        command: Command,
        *,
        domain: str,
        channel: str,
        rank: float | None = None,
        correlation_id: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-command deadline
        counted: bool = True,
    ) -> CommandResult:
        """Send ``command`` to ``domain``/``channel`` and return its result.

        Raises ``CommandRejected`` before sending anything when ``rank`` is known and
        below the command's minimum rank (an under-ranked ``assignLeader`` or
        ``readChanLog`` would get the bridge kicked), ``CommandRejected`` when the
        bridge answers failure, ``KrytenTimeoutError`` when no reply comes within
        ``command_timeout`` (or ``timeout``; ``outcome_unknown``: it may have run),
        ``NoResponders`` when no bridge listens, ``PublishError`` when it could not be
        sent, ``KrytenValidationError`` for commands the profile cannot express.
        ``counted=False`` keeps the bot's own queries (start-up probes) out of ``stats``.
        Channel actors send through their :class:`~kryten_actors.bot.outbox.ChannelOutbox`,
        which paces, waits for the bridge and the rank, and checks CyTube's verdict.
        """
        if rank is not None and rank < command.min_rank:
            self.stats.rejected += 1
            raise CommandRejected(
                f"{command.action} needs channel rank {command.min_rank:g} but the bot has "
                f"rank {rank:g} in {domain}/{channel}; promote the bot's account or do not "
                "send this command",
                command=command.action,
                reason="insufficient rank",
            )
        cid = correlation_id or current_correlation() or str(uuid.uuid4())
        encoded = self._encoder.encode(
            command, domain=domain, channel=channel, correlation_id=cid, source=self._source
        )
        headers = dict(encoded.headers)
        try:
            with self._instrumentation.send(
                subject=encoded.subject,
                action=encoded.action,
                channel=channel,
                domain=domain,
                correlation_id=cid,
                headers=headers,
            ):
                if encoded.expects_reply:
                    reply = await self._transport.request(
                        encoded.subject,
                        encoded.body,
                        headers=headers,
                        timeout=self._timeout if timeout is None else timeout,
                    )
                    result = self._encoder.decode_reply(command, reply.data, cid)
                else:
                    await self._transport.publish(encoded.subject, encoded.body, headers=headers)
                    result = command.result_type(correlation_id=cid)
        except CommandRejected:
            self.stats.rejected += counted
            raise
        except KrytenError:
            self.stats.failed += counted
            raise
        self.stats.sent += counted
        if not encoded.expects_reply and self.stats.sent % YIELD_EVERY == 0:
            await asyncio.sleep(0)
        return result
