"""docs/api.md lists every public name of the package, and nothing that is not one."""

from __future__ import annotations

import re
from pathlib import Path

import kryten_actors

API = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def test_the_api_reference_lists_every_public_name() -> None:
    listed = re.findall(r"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|", API.read_text("utf-8"), re.M)
    assert sorted(listed) == sorted(kryten_actors.__all__)
    assert len(listed) == len(set(listed))
