"""The ``kryten-actors`` command line."""

from kryten_actors.cli.main import main

__all__ = ["main"]
