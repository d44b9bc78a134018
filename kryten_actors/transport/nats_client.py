"""nats-py's ``Client`` with a lean inbound path and robust subject decoding.

nats-py delivers each message through ``Parser.parse`` → ``_process_msg`` → a
``Msg`` object → the subscription's ``asyncio.Queue`` → its task → the callback
coroutine: about a third of a plain consumer's CPU. :class:`LeanClient` keeps
nats-py for everything that is a connection (connect, auth, TLS, PING/PONG, INFO,
reconnect and resubscribe, flush, request inboxes) and replaces only the parser:
``MSG``/``HMSG`` frames of a *frame subscription* (:meth:`LeanClient.add_frame_route`)
go straight from the bytes of one socket read to a synchronous handler, as
``(subject, payload, headers)``, in order; every other frame takes nats-py's own
path. Slow-consumer protection for those subscriptions is the handler's bounded
mailboxes and TCP backpressure (the handler may return an awaitable to pause
reading).

It relies on nats-py internals (``Client._ps``, ``Parser``, ``_process_msg``,
``_process_headers``); :data:`LEAN_PARSER_SUPPORTED` is False on a nats-py whose
parser does not look like the one this was written against (2.16), and the
transport then falls back to stock subscriptions.

Subjects and replies are decoded with ``surrogateescape``: nats-py 2.16 decodes
strictly, and one non-UTF-8 subject raised inside its read loop, which then stopped
without reconnecting. The undecodable bytes become lone surrogates, which no
subject scheme accepts, so the router dead-letters the message as ``unroutable``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from nats.aio.client import Client
from nats.errors import ProtocolError
from nats.protocol import parser as nats_parser

from kryten_actors.transport.base import FrameHandler

__all__ = ["LEAN_PARSER_SUPPORTED", "LeanClient", "TolerantClient"]

log = logging.getLogger(__name__)

_MSG = b"MSG "
# What nats-server sends for a message without reply or headers; anything else (a reply
# subject, odd spacing, a split line) takes the general path.
_PLAIN_MSG = re.compile(rb"MSG ([^ \r\n]+) ([0-9]+) ([0-9]+)\r\n")
_HMSG = b"HMSG "
_MSG_OR_HMSG = (_MSG, _HMSG)
_H = ord("H")
_CRLF = b"\r\n"
_SUBJECT_CACHE = 4096
_STOP_CONNECT_TRIES = 50  # cancels, 0.1 s apart, of a first connect that ran out of time

LEAN_PARSER_SUPPORTED = all(
    hasattr(nats_parser, name)
    for name in (
        "Parser",
        "AWAITING_CONTROL_LINE",
        "MAX_CONTROL_LINE_SIZE",
        "OK_RE",
        "ERR_RE",
        "PING_RE",
        "PONG_RE",
        "INFO_RE",
    )
) and all(
    hasattr(Client, name)
    for name in (
        "_process_msg",
        "_process_headers",
        "_process_err",
        "_process_ping",
        "_process_pong",
        "_process_info",
    )
)


class TolerantClient(Client):
    """A ``Client`` whose deliveries never break on a non-UTF-8 subject or reply."""

    def _build_message(
        self,
        sid: int,
        subject: bytes,
        reply: bytes,
        data: bytes,
        headers: dict[str, str] | None,
    ) -> Any:
        return self.msg_class(
            subject=subject.decode(errors="surrogateescape"),
            reply=reply.decode(errors="surrogateescape"),
            data=data,
            headers=headers,
            _client=self,
            _sid=sid,
        )


class _FrameParser(nats_parser.Parser):
    """nats-py's parser, except that frames of routed sids skip ``_process_msg``."""

    def __init__(self, nc: LeanClient) -> None:
        super().__init__(nc)
        self.routes: dict[int, FrameHandler] = {}
        self._by_sid: dict[bytes, FrameHandler] = {}  # the same, keyed by the sid's digits
        self._subjects: dict[bytes, str] = {}
        self.nc: LeanClient

    async def parse(self, data: bytes = b"") -> None:  # noqa: PLR0912, PLR0915 -- the hot loop, inline
        if not self.routes or self.state != nats_parser.AWAITING_CONTROL_LINE:
            await super().parse(data)
            return
        buf = self.buf
        # Parsed from an immutable copy of the read (with what the last one left): a
        # payload is then one slice, not a bytearray slice copied again into bytes.
        if buf:
            work = b"".join((buf, data))
            buf.clear()
        else:
            work = data if type(data) is bytes else bytes(data)
        by_sid = self._by_sid
        subjects = self._subjects
        stats = self.nc.stats
        match = _PLAIN_MSG.match
        size = len(work)
        pos = 0
        msgs = nbytes = 0  # added to the client's stats once per read (or before a pause)
        try:
            while pos < size:
                frame = match(work, pos)
                if frame is not None:
                    # the hot path, inline: a plain MSG frame of a routed subscription
                    raw_subject, sid, length = frame.groups()
                    handler = by_sid.get(sid)
                    if handler is not None:
                        start = frame.end()
                        end = start + int(length)
                        if end + 2 > size:
                            break  # the payload is still on its way
                        subject = subjects.get(raw_subject)
                        if subject is None:
                            subject = self._subject(raw_subject)
                        pos = end + 2
                        msgs += 1
                        nbytes += end - start
                        try:
                            pause = handler(subject, work[start:end], None)
                            if pause is not None:
                                stats["in_msgs"] += msgs
                                stats["in_bytes"] += nbytes
                                msgs = nbytes = 0
                                await pause
                        except Exception:  # noqa: BLE001 -- logged and counted; one bad message must not stop the connection
                            self._failed(subject)
                        continue
                    end = await self._frame(work, pos)
                elif work.startswith(_MSG_OR_HMSG, pos):
                    end = await self._frame(work, pos)
                else:
                    end = await self._control(work, pos)
                if end < 0:
                    break  # incomplete: wait for the rest
                pos = end
        finally:
            stats["in_msgs"] += msgs
            stats["in_bytes"] += nbytes
            if pos < size:
                buf += memoryview(work)[pos:]  # what is left waits for the next read

    def _subject(self, raw: bytes) -> str:
        subjects = self._subjects
        if len(subjects) >= _SUBJECT_CACHE:
            subjects.clear()
        subject = subjects[raw] = raw.decode(errors="surrogateescape")
        return subject

    def _failed(self, subject: str) -> None:
        log.exception("frame handler for subject %r failed", subject)
        self.nc.frame_errors += 1

    async def _frame(self, buf: bytes, pos: int) -> int:
        """Deliver the MSG/HMSG frame at ``pos``; its end, or -1 when incomplete."""
        eol = buf.find(_CRLF, pos)
        if eol < 0:
            return -1
        headered = buf[pos] == _H
        args = buf[pos + (5 if headered else 4) : eol].split()
        arity = len(args) - (1 if headered else 0)
        if arity not in (3, 4):
            raise ProtocolError("nats: malformed MSG")
        try:
            sid = int(args[1])
            needed = int(args[-1])
            header_size = int(args[-2]) if headered else 0
        except ValueError:
            raise ProtocolError("nats: malformed MSG") from None
        start = eol + 2
        end = start + needed
        if end + 2 > len(buf):
            return -1  # the payload is still on its way
        raw_subject = args[0]
        nc = self.nc
        handler = self.routes.get(sid)
        if handler is None:
            reply = args[2] if arity == 4 else b""
            hdr = buf[start : start + header_size] if headered else b""
            payload = buf[start + header_size : end]
            await nc._process_msg(sid, raw_subject, reply, payload, hdr)
            return end + 2
        subject = self._subjects.get(raw_subject) or self._subject(raw_subject)
        headers = None
        if headered:
            headers = await nc._process_headers(buf[start : start + header_size])
        payload = buf[start + header_size : end]
        stats = nc.stats
        stats["in_msgs"] += 1
        stats["in_bytes"] += len(payload)
        try:
            pause = handler(subject, payload, headers)
            if pause is not None:
                await pause
        except Exception:  # noqa: BLE001 -- logged and counted; one bad message must not stop the connection
            self._failed(subject)
        return end + 2

    async def _control(self, buf: bytes, pos: int) -> int:
        """Handle the control line at ``pos`` as nats-py does; its end, or -1."""
        eol = buf.find(_CRLF, pos)
        if eol < 0:
            if len(buf) - pos >= nats_parser.MAX_CONTROL_LINE_SIZE:
                raise ProtocolError("nats: unknown protocol")
            return -1
        line = buf[pos : eol + 2]
        nc = self.nc
        if nats_parser.OK_RE.match(line):
            pass
        elif (err := nats_parser.ERR_RE.match(line)) is not None:
            await nc._process_err(err.groups()[0].decode().lower())
        elif nats_parser.PING_RE.match(line):
            await nc._process_ping()
        elif nats_parser.PONG_RE.match(line):
            await nc._process_pong()
        elif (info := nats_parser.INFO_RE.match(line)) is not None:
            await nc._process_info(json.loads(info.groups()[0].decode()))
        else:
            raise ProtocolError("nats: unknown protocol")
        return eol + 2


class LeanClient(TolerantClient):
    """A ``TolerantClient`` that can route a subscription's frames past ``Msg`` objects."""

    def __init__(self) -> None:
        super().__init__()
        #: Frame handlers that raised (each is logged).
        self.frame_errors = 0
        if LEAN_PARSER_SUPPORTED:
            self._ps = _FrameParser(self)

    async def connect_within(self, seconds: float, **options: Any) -> None:
        """``connect(**options)`` bounded by ``seconds`` as a whole; ``TimeoutError`` past it.

        Cancelling a connect is not enough to end it: nats-py turns a cancelled wait into
        its own timeout error and tries the servers again — forever during a first
        connect — which hung a wrong-password start on a loaded machine. So the attempt
        runs as its own task, and one that runs out of time gets its attempts capped
        (its loop then ends with ``NoServersError`` even when a cancel is swallowed) and
        is cancelled until it has ended.
        """
        connecting = asyncio.get_running_loop().create_task(self.connect(**options))
        try:
            done, _ = await asyncio.wait({connecting}, timeout=seconds)
        finally:
            if not connecting.done():
                await self._stop_connecting(connecting)
        if not done:
            raise TimeoutError(f"no connection within {seconds:g} s")
        connecting.result()

    async def _stop_connecting(self, connecting: asyncio.Task[None]) -> None:
        self.options["max_reconnect_attempts"] = 1
        for _ in range(_STOP_CONNECT_TRIES):
            if connecting.done():
                break
            connecting.cancel()
            await asyncio.wait({connecting}, timeout=0.1)
        if not connecting.done():  # pragma: no cover - nats-py ended neither way
            log.error("a NATS connect attempt did not stop when cancelled; it is left running")
        elif not connecting.cancelled():
            connecting.exception()  # retrieved: the caller reports the cause it kept

    def add_frame_route(self, sid: int, handler: FrameHandler) -> bool:
        """Deliver the frames of subscription ``sid`` to ``handler``; False if unsupported."""
        parser = self._ps
        if not isinstance(parser, _FrameParser):
            return False
        parser.routes[sid] = handler
        parser._by_sid[str(sid).encode()] = handler
        return True

    def remove_frame_route(self, sid: int) -> None:
        """Stop routing ``sid``'s frames (nats-py's own path delivers any that follow)."""
        parser = self._ps
        if isinstance(parser, _FrameParser):
            parser.routes.pop(sid, None)
            parser._by_sid.pop(str(sid).encode(), None)
