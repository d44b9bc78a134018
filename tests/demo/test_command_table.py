"""Replaying the captured commands on a capture-like channel yields CyTube's events, in order."""

from __future__ import annotations

import random
from typing import Any

import pytest

from kryten_actors.demo.command_table import robot_action, seed_action
from kryten_actors.demo.scenario import ChannelState, SimUser
from kryten_actors.errors import KrytenValidationError
from tests.fixture_data import load_jsonl

_FLOOD = "the capture's flood lines were answered after later requests (async)"
NOT_LIKE_THE_CAPTURE = {
    49: "CyTube's noflood answer to a malformed /rank is not simulated",
    **dict.fromkeys(range(51, 81), _FLOOD),
    87: "the capture interleaves a user re-joining",
    93: "the capture interleaves a user re-joining",
    98: "clearing the leader does not reset the leader's temporary rank",
    120: "the capture's updatePoll arrived after the next request",
    125: "polls do not close themselves when their timeout ends",
    126: "the simulation pretends CyTube has a YouTube API key",
    127: "the playlist already holds the item 126 queued",
    137: "the capture's window includes the timed item playing to its end",
    141: "the playlist differs since 126",
    142: "kicked users did not re-join, so the bot's single vote skips",
    143: "the playlist differs since 126",
}


def _capture_like_channel() -> ChannelState:
    state = ChannelState("localhost", "e2etest", "KrytenBot")
    for name, rank in [("KrytenBot", 5), ("Alice", 0), ("Bob", 0), ("E2eCarol", 1)]:
        state.users[name] = SimUser(name, rank, "yFA.j8g.iXh.gvS")
    return state


def _actions() -> list[dict[str, Any]]:
    chosen = []
    for captured in load_jsonl("commands.jsonl"):
        request = captured["request"]
        if captured["subject"] != "kryten.robot.command" or not isinstance(request, dict):
            continue
        meta = request.get("meta", {})
        if meta.get("channel") != "e2etest" or robot_action(request.get("command", "")) is None:
            continue
        chosen.append(captured)
    return chosen


def test_actions_emit_the_captured_events() -> None:
    state = _capture_like_channel()
    rng = random.Random(1)
    differences = []
    moment = [0.0]
    state.clock = lambda: moment[0]  # CyTube's flood control runs on the capture's time
    for captured in _actions():
        moment[0] = captured["t"]
        request = captured["request"]
        action = robot_action(request["command"])
        assert action is not None
        reply = captured["replies"][0]["body"]
        if reply["success"] is False:
            with pytest.raises(KrytenValidationError, match=reply["error"]):
                action(state, request.get("args") or {}, rng)
            continue
        outcome = action(state, request.get("args") or {}, rng)
        names = [effect.event_name for effect in outcome.effects]
        if outcome.envelope_effect is not None:
            names.append(outcome.envelope_effect.event_name)
        expected = [
            event if isinstance(event, str) else event["body"]["event_name"]
            for event in captured["events_until_next_action"]
        ]
        if names != expected and captured["seq"] not in NOT_LIKE_THE_CAPTURE:
            differences.append((captured["seq"], captured["step"], expected, names))
    assert differences == []


def test_unknown_names() -> None:
    assert robot_action("chat") is None
    assert robot_action("frobnicate") is None
    assert robot_action("Say") is None  # the bridge compares names exactly
    assert robot_action("set_motd") is robot_action("setMotd")
    assert seed_action("sendChat") is seed_action("SENDCHAT") is robot_action("say")
    assert seed_action("frobnicate") is None
