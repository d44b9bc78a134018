"""The bridge's stored channel state, read where it lives: kryten-robot's JetStream KV buckets.

kryten-robot answers ``state.*`` (and ``system.*``) requests **whatever channel they
name**: with several bridges on one bus the first to answer wins, so a request for one
channel can return another channel's user list. The stored state itself is per channel,
in buckets named ``kryten_{Channel}_{kind}`` (reference §10), so the bot reads those:
a channel no bridge keeps state for has no bucket, and the read raises
:class:`~kryten_actors.errors.BridgeUnavailable` instead of returning anyone's data.

Where the server has no key-value store at all (no JetStream: a simulated bridge, the
in-memory test bus) the bot asks the bridge as before.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from kryten_actors.errors import BridgeUnavailable, KrytenValidationError, KvUnavailable
from kryten_actors.protocol.commands import (
    Command,
    StateEmotes,
    StateMotd,
    StatePlaylist,
    StateUser,
    StateUserlist,
)

if TYPE_CHECKING:
    from kryten_actors.protocol.results import CommandResult
    from kryten_actors.transport.base import Transport

__all__ = ["read_stored"]

# command → (bucket kind, key, reply data key)
_STORED: Final[dict[type[Command], tuple[str, str, str]]] = {
    StateUserlist: ("userlist", "users", "userlist"),
    StateUser: ("userlist", "users", "userlist"),
    StatePlaylist: ("playlist", "items", "playlist"),
    StateEmotes: ("emotes", "list", "emotes"),
    StateMotd: ("state", "motd", "motd"),
}


async def read_stored(
    transport: Transport, command: Command, *, domain: str, channel: str
) -> CommandResult | None:
    """The result of a ``state.*`` query read from the bridge's bucket of ``channel``.

    None when ``command`` is not such a query or the server has no key-value store (ask
    the bridge then). Raises ``BridgeUnavailable`` when no bridge keeps state for it.
    """
    spec = _STORED.get(type(command))
    if spec is None:
        return None
    kind, key, data_key = spec
    try:
        raw, found = await _read(transport, channel, kind, key)
    except KvUnavailable:
        return None
    if raw is None and not found:
        raise BridgeUnavailable(
            f"no bridge keeps state for {domain}/{channel} (no JetStream bucket "
            f"kryten_{channel}_{kind}); check that kryten-robot serves this channel, "
            "named exactly as in its config",
            channel=f"{domain}/{channel}",
        )
    value: Any
    if kind == "state":
        value = raw.decode("utf-8", "replace") if raw is not None else ""
    else:
        try:
            value = json.loads(raw) if raw is not None else []
        except ValueError as exc:
            raise KrytenValidationError(
                f"the bridge's stored {kind} of {domain}/{channel} is not JSON", [(kind, str(exc))]
            ) from None
    if isinstance(command, StateUser):
        return command.result_type.from_reply_data(_one_user(value, command.username))
    return command.result_type.from_reply_data({data_key: value})


async def _read(
    transport: Transport, channel: str, kind: str, key: str
) -> tuple[bytes | None, bool]:
    """``(value, bucket_found)``, trying the channel as named, then lowercased."""
    for name in dict.fromkeys((channel, channel.lower())):
        value = await transport.kv_get(f"kryten_{name}_{kind}", key)
        if value is not None:
            return value, True
        # a missing key in an existing bucket (no MOTD yet) is an empty value, not no bridge
        if await transport.kv_get(f"kryten_{name}_userlist", "users") is not None:
            return None, True
    return None, False


def _one_user(users: Any, username: str) -> dict[str, Any]:
    wanted = username.lower()
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict) and str(user.get("name", "")).lower() == wanted:
            return {"user": user, "profile": user.get("profile")}
    return {"user": None, "profile": None}
