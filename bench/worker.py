"""Runs one benchmark case in a fresh process: ``python -m bench.worker CASE_JSON``.

The case JSON names the ``case`` (a module of :mod:`bench`) and its parameters; the
worker prints the case's result as one JSON line. A fresh process per case keeps
one case's garbage, caches and threads out of the next one's numbers.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import sys
from typing import Any


async def _run(spec: dict[str, Any]) -> dict[str, Any]:
    module = importlib.import_module(f"bench.{spec['case']}")
    result: dict[str, Any] = await module.run_case(spec)
    return result


def main() -> None:
    # Failures are logged as in production (formatted, tracebacks included), not shown.
    handler = logging.FileHandler(os.devnull)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    spec = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(_run(spec))), flush=True)


if __name__ == "__main__":
    main()
