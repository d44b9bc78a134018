"""The JSON of commands and replies: pydantic-core's codec, the standard library's where it
refuses (``protocol/encoding.py``), and the same documents either way."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kryten_actors.protocol.commands import SendChat
from kryten_actors.protocol.encoding import _json_bytes, _parse_json, decode_reply

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_DOCS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _DOCS, max_size=6))
def test_a_command_body_reads_back_as_json_dumps_would_have_written_it(
    body: dict[str, Any],
) -> None:
    assert json.loads(_json_bytes(body)) == json.loads(json.dumps(body))


@given(_DOCS)
def test_a_reply_parses_as_json_loads_would(doc: Any) -> None:
    text = json.dumps(doc)
    assert _parse_json(text.encode()) == json.loads(text)
    assert _parse_json(text) == json.loads(text)


def test_a_lone_surrogate_is_escaped_in_a_body_and_read_back_from_a_reply() -> None:
    assert json.loads(_json_bytes({"note": "a\ud800b"})) == {"note": "a\ud800b"}
    result = decode_reply(SendChat(message="x"), b'{"success": true, "data": {"n": "\\ud800"}}')
    assert result.data == {"n": "\ud800"}
