"""Echo bot in the seed's decorator style (``KrytenClient``).

Run it against a NATS server with a bridge (or the demo's simulated bridge)::

    NATS_URL=nats://127.0.0.1:4222 KRYTEN_PROFILE=kryten-robot \\
        CYTUBE_DOMAIN=cytu.be CYTUBE_CHANNEL=lounge uv run python examples/echo_bot.py

``KRYTEN_PROFILE`` (default ``kryten-robot``) must be the bridge's profile; the simulated
bridge (``examples/simulated_bridge.py``) uses the same variable and default.

Say ``!echo hello`` in the channel and the bot answers ``echo: hello``. On a real
bridge the bot receives its own chat lines too; because the reply never starts with
``!echo``, it can never answer itself. Stop it with Ctrl-C (exit code 0).
"""

from __future__ import annotations

import asyncio
import os

from kryten_actors import ChatMessageEvent, KrytenClient

PREFIX = "!echo "


def make_config() -> dict[str, object]:
    """The bot's config, from the environment (defaults suit a local demo)."""
    return {
        "profile": os.environ.get("KRYTEN_PROFILE", "kryten-robot"),
        "service_name": "echo-bot",
        "nats": {"servers": [os.environ.get("NATS_URL", "nats://127.0.0.1:4222")]},
        "channels": [
            {
                "domain": os.environ.get("CYTUBE_DOMAIN", "cytu.be"),
                "channel": os.environ.get("CYTUBE_CHANNEL", "lounge"),
            }
        ],
    }


client = KrytenClient(make_config())


@client.on("chatMsg")
async def echo(event: ChatMessageEvent) -> None:
    """Answer ``!echo TEXT`` with ``echo: TEXT``; ignore everything else."""
    if event.is_shadow or not event.message.startswith(PREFIX):
        return
    text = event.message.removeprefix(PREFIX).strip()
    if text and event.username != client.bot.username_in(event.domain, event.channel):
        await client.send_chat(event.channel, f"echo: {text}", domain=event.domain)


if __name__ == "__main__":
    asyncio.run(client.run())
