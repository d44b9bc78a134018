"""Entry point of the ``kryten-actors`` console script."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="kryten-actors",
        description="Supervised actors for multi-channel CyTube bots over NATS.",
    )
    parser.add_argument("--version", action="version", version=version("kryten-actors"))
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
