"""Channel actors the test-kit tests drive."""

from __future__ import annotations

from kryten_actors.bot import ChannelActor, on
from kryten_actors.errors import CommandRejected
from kryten_actors.protocol.events import ChatMessageEvent
from kryten_actors.runtime import Cancellable

CHAT = {"username": "alice", "msg": "!hi", "time": 0, "meta": {}}


def chat(msg: str, username: str = "alice") -> dict[str, object]:
    """A ``chatMsg`` payload as CyTube sends it."""
    return {**CHAT, "msg": msg, "username": username}


class Greeter(ChannelActor):
    """``!hi`` → ``hi NAME``; ``!twice`` → two lines; ``!boom`` → a handler failure."""

    @on("chatMsg")
    async def greet(self, event: ChatMessageEvent) -> None:
        if event.message == "!hi":
            await self.send_chat(f"hi {event.username}")
        elif event.message == "!twice":
            await self.send_chat("one")
            await self.send_chat("two")
        elif event.message == "!boom":
            raise RuntimeError("boom")


class Ticker(ChannelActor):
    """Says ``tick N`` every 10 s (from ``on_start``) and ``later`` 5 s after ``!later``."""

    def __init__(self) -> None:
        super().__init__()
        self.ticks = 0
        self.timer: Cancellable | None = None

    async def on_start(self) -> None:
        self.timer = self.every(10, self._tick)

    async def _tick(self) -> None:
        self.ticks += 1
        await self.send_chat(f"tick {self.ticks}")

    @on("chatMsg")
    async def later(self, event: ChatMessageEvent) -> None:
        if event.message == "!later":
            self.after(5, self._later)

    async def _later(self) -> None:
        await self.send_chat("later")


class DJ(ChannelActor):
    """``!count`` → how many items the bridge's stored playlist has."""

    @on("chatMsg")
    async def count(self, event: ChatMessageEvent) -> None:
        if event.message == "!count":
            playlist = await self.state.playlist()
            await self.send_chat(f"{len(playlist.items)} items")


class Careful(ChannelActor):
    """Reports a refused chat line in a PM instead of failing."""

    @on("chatMsg")
    async def say(self, event: ChatMessageEvent) -> None:
        try:
            await self.send_chat(event.message)
        except CommandRejected as exc:
            await self.send_pm(event.username, f"refused: {exc.reason}")
