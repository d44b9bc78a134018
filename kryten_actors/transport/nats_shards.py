"""Leases in a JetStream key-value bucket: who is a member, who owns which channel.

The bucket's ``ttl`` (its stream's ``max_age``, nats-server >= 2.6) is the lease: a
key not written again within ``ttl`` seconds disappears. A member renews
``member.{id}`` and each ``owner.{channel}`` it holds every heartbeat. Claims and
renewals are compare-and-set on the key's revision (``create`` only when absent,
``update`` only at the revision last written), so of two processes racing for a
channel exactly one wins, and a renewal that finds someone else's revision tells
its writer it lost the channel.
"""

from __future__ import annotations

import json
from typing import Any

from nats import errors as nats_errors
from nats.js import api
from nats.js import errors as js_errors
from nats.js.kv import KeyValue

from kryten_actors.errors import KrytenConnectionError
from kryten_actors.transport.nats import NatsTransport
from kryten_actors.transport.nats_jetstream import check_server

__all__ = ["LeaseLost", "ShardLeases"]

_API_TIMEOUT = 3.0


class LeaseLost(KrytenConnectionError):
    """A lease was taken by another member (or expired) before it could be renewed."""


class ShardLeases:
    """Membership and channel-ownership leases of one bot name, in bucket ``bucket``."""

    def __init__(self, transport: NatsTransport, bucket: str, ttl: float) -> None:
        self._transport = transport
        self.bucket = bucket
        self.ttl = ttl
        self._kv: KeyValue | None = None
        self._registry: KeyValue | None = None

    async def start(self) -> None:
        """Create (or bind) the bucket."""
        client = self._transport._client  # same layer: the nats-py client stays private
        if client is None:
            raise KrytenConnectionError("sharding needs a connected NATS transport")
        check_server(client)
        js = client.jetstream(timeout=_API_TIMEOUT)
        config = api.KeyValueConfig(bucket=self.bucket, history=1, ttl=self.ttl)
        try:
            self._kv = await js.create_key_value(config)
        except js_errors.BadRequestError:
            self._kv = await js.key_value(self.bucket)  # exists with other settings
        registry = api.KeyValueConfig(bucket=f"{self.bucket}_channels", history=1)
        try:
            self._registry = await js.create_key_value(registry)
        except js_errors.BadRequestError:
            self._registry = await js.key_value(registry.bucket)

    @property
    def kv(self) -> KeyValue:
        if self._kv is None:
            raise KrytenConnectionError("ShardLeases.start() was not called")
        return self._kv

    async def register(self, channel: str, info: dict[str, Any]) -> None:
        """Add a channel joined at runtime to the shared registry (no expiry)."""
        assert self._registry is not None, "start() first"
        await self._registry.put(channel, json.dumps(info).encode())

    async def unregister(self, channel: str) -> None:
        """Remove a channel from the shared registry."""
        assert self._registry is not None, "start() first"
        await self._registry.delete(channel)

    async def registered(self) -> dict[str, dict[str, Any]]:
        """Every channel in the shared registry."""
        assert self._registry is not None, "start() first"
        return await _values(self._registry, ">")

    async def renew_member(self, member: str, info: dict[str, Any]) -> None:
        """Write ``member.{member}`` (the membership lease) with ``info``."""
        await self.kv.put(f"member.{member}", json.dumps(info).encode())

    async def leave(self, member: str) -> None:
        """Remove the membership lease now (a graceful leave)."""
        await self.kv.delete(f"member.{member}")

    async def members(self) -> dict[str, dict[str, Any]]:
        """Every live member and what it last reported."""
        found = await _values(self.kv, "member.*")
        return {key.removeprefix("member."): info for key, info in found.items()}

    async def claim(self, channel: str, member: str) -> int | None:
        """Take ``owner.{channel}`` if nobody holds it; its revision, or None."""
        try:
            return int(await self.kv.create(f"owner.{channel}", member.encode()))
        except js_errors.KeyWrongLastSequenceError:
            return None  # someone holds it

    async def renew(self, channel: str, member: str, revision: int) -> int:
        """Renew a held lease; raises :class:`LeaseLost` when it is no longer ours."""
        try:
            return int(await self.kv.update(f"owner.{channel}", member.encode(), last=revision))
        except js_errors.KeyWrongLastSequenceError as exc:
            raise LeaseLost(f"the lease of {channel} was lost") from exc

    async def release(self, channel: str, member: str) -> None:
        """Give up ``member``'s lease of ``channel`` (a lease held by another is kept).

        Never raises: a lease that cannot be released expires after ``ttl``.
        """
        key = f"owner.{channel}"
        try:
            entry = await self.kv.get(key)
            if entry.value == member.encode():
                await self.kv.delete(key, last=entry.revision)
        except (js_errors.Error, nats_errors.Error):
            return  # gone already, taken meanwhile, or the server is away


async def _values(kv: KeyValue, keys: str) -> dict[str, dict[str, Any]]:
    """The current JSON values of the ``keys`` (a key filter) of ``kv``."""
    watcher = await kv.watch(keys, ignore_deletes=True)
    found: dict[str, dict[str, Any]] = {}
    try:
        async for entry in watcher:
            if entry is None:  # the end of the current values
                break
            if entry.value:
                found[entry.key] = json.loads(entry.value)
    finally:
        await watcher.stop()  # type: ignore[no-untyped-call]
    return found
