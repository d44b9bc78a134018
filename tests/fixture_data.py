"""The captured traffic under ``tests/fixtures/`` (copied from ``../shared/fixtures``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def load_jsonl(name: str) -> list[dict[str, Any]]:
    """Every record of ``tests/fixtures/<name>``."""
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
