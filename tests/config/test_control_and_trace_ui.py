"""``control`` and ``tracing.ui_url``: defaults, and clear refusals."""

from __future__ import annotations

import pytest

from kryten_actors import KrytenConfig, KrytenValidationError


def test_control_is_off_by_default_with_every_action_listed() -> None:
    config = KrytenConfig.from_dict({})
    assert config.control.enabled is False
    assert config.control.actions == ("restart", "stop", "join", "leave")
    assert config.tracing.ui_url is None


def test_control_actions_are_checked() -> None:
    config = KrytenConfig.from_dict({"control": {"enabled": True, "actions": ["restart"]}})
    assert config.control.actions == ("restart",)
    with pytest.raises(KrytenValidationError, match=r"control\.actions\.0"):
        KrytenConfig.from_dict({"control": {"actions": ["explode"]}})
    with pytest.raises(KrytenValidationError, match=r"control\.actions"):
        KrytenConfig.from_dict({"control": {"actions": []}})


def test_the_trace_ui_is_an_http_url_without_credentials() -> None:
    config = KrytenConfig.from_dict({"tracing": {"ui_url": "http://localhost:16686"}})
    assert config.tracing.ui_url == "http://localhost:16686"
    with pytest.raises(KrytenValidationError, match=r"tracing\.ui_url: must be an http"):
        KrytenConfig.from_dict({"tracing": {"ui_url": "jaeger:16686"}})
    with pytest.raises(KrytenValidationError, match="must not carry credentials") as caught:
        KrytenConfig.from_dict({"tracing": {"ui_url": "https://admin:hunter2@jaeger.example"}})
    assert "hunter2" not in str(caught.value)
