"""A bot actor the bridge tests share, and the kryten-robot config they run it with."""

from __future__ import annotations

from typing import Any, ClassVar

from kryten_actors import ChannelActor, ChatMessageEvent, KrytenConfig, on


class Pinger(ChannelActor):
    """Answers ``!ping TAG`` with ``pong TAG``; ``answered`` lists the tags (reset it per test)."""

    answered: ClassVar[list[str]] = []

    @on("chatMsg")
    async def ping(self, event: ChatMessageEvent) -> None:
        if event.message.startswith("!ping "):
            tag = event.message.split()[-1]
            type(self).answered.append(tag)
            await self.send_chat(f"pong {tag}")


def robot_config(url: str, domain: str, channel: str, **settings: Any) -> KrytenConfig:
    """A ``kryten-robot`` profile config serving ``domain/channel`` on ``url``."""
    return KrytenConfig.from_dict(
        {
            "profile": "kryten-robot",
            "nats": {"servers": [url]},
            "channels": [{"domain": domain, "channel": channel}],
            "shutdown_timeout": 5.0,
            **settings,
        }
    )
