"""The ``--nats`` URL (and ``--timeout``) of the CLI's NATS clients, checked in CLI terms.

A bad URL is reported as ``--nats: ...``, never by the config field it becomes
(``servers.0``), and the URL itself is never echoed (it may carry a password).
"""

from __future__ import annotations

import argparse
import os
from typing import Final

from kryten_actors.config.connection import NatsConfig
from kryten_actors.errors import KrytenValidationError

__all__ = ["DEFAULT_NAME", "DEFAULT_URL", "add_bot_target", "nats_options"]

DEFAULT_URL: Final = "nats://127.0.0.1:4222"
DEFAULT_NAME: Final = "kryten-actors"


def add_bot_target(parser: argparse.ArgumentParser) -> None:
    """``--nats`` and ``--name``: the server, and the bot (its ``service_name``) on it."""
    parser.add_argument(
        "--nats",
        default=os.environ.get("NATS_URL", DEFAULT_URL),
        help=f"NATS server URL (default: $NATS_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--name", default=DEFAULT_NAME, help=f"the bot's service_name (default {DEFAULT_NAME})"
    )


_OPTION_OF = {"servers": "--nats", "connect_timeout": "--timeout"}


def nats_options(url: str, *, name: str, timeout: float = 5.0) -> NatsConfig:
    """A :class:`NatsConfig` for ``url``; raises :class:`KrytenValidationError` naming
    the option (``--nats``, ``--timeout``) and what a valid value looks like."""
    try:
        return NatsConfig(servers=[url], connect_timeout=timeout, name=name)
    except KrytenValidationError as exc:
        problems = []
        for path, message in exc.errors:
            option = _OPTION_OF.get(path.split(".")[0], path)
            said = message
            if option == "--timeout":
                said = "must be a number of seconds greater than 0, for example 3"
            problems.append((option, said))
        text = "; ".join(f"{option}: {message}" for option, message in problems)
        raise KrytenValidationError(text, problems) from None
