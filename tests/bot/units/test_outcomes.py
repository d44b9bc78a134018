"""CyTube's answers to commands: the rules, their attribution, and bounded memory."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kryten_actors.bot.outcome_rules import FEEDBACK_EVENTS, QUEUE_TOO_FAST, rule_for
from kryten_actors.bot.outcomes import (
    FOLLOWED_LIMIT,
    Answer,
    Expectation,
    OutcomeWatcher,
    Verdict,
    rejection,
)
from kryten_actors.protocol.commands import (
    AddFilter,
    AddMedia,
    Ban,
    Command,
    DeleteMedia,
    Kick,
    MoveMedia,
    Mute,
    NewPoll,
    SendChat,
    SendPM,
    SetChannelRank,
    Unmute,
    UpdateEmote,
)
from kryten_actors.runtime import VirtualClock
from tests.bot.units.kit import BOT, binding, decoded, item, line

C, R, T = Verdict.CONFIRMED, Verdict.REFUSED, Verdict.THROTTLED
SERVER = {"username": "[server]", "meta": {"addClass": "server-whisper"}, "time": 1}
POLL = NewPoll(title="q", options=["a", "b"])


@pytest.mark.parametrize(
    ("command", "event", "payload", "verdict"),
    [
        (SendChat(message="hi"), "chatMsg", line(BOT, "hi"), C),
        (SendChat(message="hi"), "chatMsg", line("alice", "hi"), None),
        (SendChat(message="hi"), "cooldown", 1000, T),
        (SendChat(message="hi"), "noflood", {"action": "chat", "msg": "You have been muted"}, R),
        (SendChat(message="hi"), "spamFiltered", {"reason": "NEW_USER_CHAT"}, R),
        (SendPM(to="bob", message="hi"), "pm", {**line(BOT, "hi"), "to": "bob"}, C),
        (SendPM(to="bob", message="hi"), "errorMsg", {"msg": "PM failed: bob isn't here"}, R),
        (Kick(username="bob"), "userLeave", {"name": "BOB"}, C),
        (Kick(username="bob"), "errorMsg", {"msg": "You do not have permission to kick"}, R),
        (Ban(username="bob"), "chatMsg", {**SERVER, "msg": "x namebanned bob"}, C),
        (Ban(username="bob"), "errorMsg", {"msg": "bob is already banned"}, R),
        (Mute(username="bob"), "setUserMeta", {"name": "bob", "meta": {"muted": True}}, C),
        (Mute(username="bob"), "setUserMeta", {"name": "bob", "meta": {"muted": False}}, None),
        (Unmute(username="bob"), "errorMsg", {"msg": "bob is not muted."}, R),
        (AddMedia(media_type="yt", media_id="abc"), "queue", {"item": item(3), "after": 1}, C),
        (AddMedia(media_type="yt", media_id="zzz"), "queue", {"item": item(3), "after": 1}, None),
        (
            AddMedia(media_type="yt", media_id="abc"),
            "queueFail",
            {"msg": "Duplicate", "id": "abc"},
            R,
        ),
        (AddMedia(media_type="yt", media_id="abc"), "queueFail", {"msg": QUEUE_TOO_FAST}, T),
        (DeleteMedia(uid=3), "delete", {"uid": 3}, C),
        (DeleteMedia(uid=3), "delete", {"uid": 4}, None),
        (MoveMedia(uid=3, after=1), "moveVideo", {"from": 3, "after": 1}, C),
        (
            AddFilter(name="f", source="(", flags="g", replace="x"),
            "errorMsg",
            {"msg": "Invalid regex: ("},
            R,
        ),
        (
            UpdateEmote(name="e", image="https://x/y.png"),
            "updateEmote",
            {"name": "e", "image": "i", "source": "s"},
            C,
        ),
        (
            POLL,
            "newPoll",
            {
                "title": "q",
                "initiator": BOT,
                "options": [],
                "counts": [],
                "votes": 0,
                "timestamp": 1,
            },
            C,
        ),
        (
            SetChannelRank(username="guest", rank=2),
            "channelRankFail",
            {"msg": "can't promote a guest"},
            R,
        ),
        (SetChannelRank(username="bob", rank=2), "setUserRank", {"name": "bob", "rank": 2}, None),
    ],
)
def test_each_rule_reads_cytubes_answer(
    command: Command, event: str, payload: Any, verdict: str | None
) -> None:
    rule = rule_for(command)
    assert rule is not None
    name = event.lower()
    assert name in FEEDBACK_EVENTS or verdict is None
    judged = (
        rule.judge(name, decoded(event, payload), command, BOT) if name in rule.events else None
    )
    assert (judged[0] if judged else None) == verdict


def test_commands_cytube_does_not_answer_have_no_rule() -> None:
    assert rule_for(SendChat(message="/clear", as_command=True)) is None
    assert rule_for(DeleteMedia(uid=1)) is not None


def test_an_echo_is_recognised_by_its_text_before_the_bots_name_is_known() -> None:
    command = SendChat(message="a < b")
    rule = rule_for(command)
    assert rule is not None
    echo = decoded("chatMsg", line("whoever", "a &lt; b"))
    assert rule.judge("chatmsg", echo, command, None) == (C, "")


def _expect(watcher: OutcomeWatcher, command: Command, at: float | None = None) -> Expectation:
    """An expectation the bridge accepted ``at`` (None: its request is still in flight)."""
    rule = rule_for(command)
    assert rule is not None
    future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
    expectation = Expectation(command, rule, future)
    if at is not None:
        expectation.sent_at = at
    watcher.expect(expectation)
    return expectation


async def test_a_refusal_goes_to_the_oldest_command_waiting_for_one_of_its_kind() -> None:
    watcher = OutcomeWatcher("cytu.be/lounge")
    pm1 = _expect(watcher, SendPM(to="bob", message="1"))
    pm2 = _expect(watcher, SendPM(to="carol", message="2"))
    delete = _expect(watcher, DeleteMedia(uid=5))
    assert watcher.watches("errormsg")
    assert not watcher.watches("queuefail")
    watcher.observe("delete", decoded("delete", {"uid": 5}), BOT)
    watcher.observe("errormsg", decoded("errorMsg", {"msg": "PM failed: x"}), BOT)
    watcher.observe("cooldown", decoded("cooldown", 2500), BOT)
    assert delete.future.result().verdict == C
    refused = pm1.future.result()
    assert (refused.verdict, refused.text) == (R, "PM failed: x")
    assert "PM failed: x" in str(refused.payload)  # the event's payload, for the error
    assert pm2.future.result().verdict == T
    assert pm2.future.result().pause == 2.5
    assert (len(watcher), watcher.refused, watcher.throttled) == (0, 1, 1)


async def test_the_watcher_stays_bounded_under_many_unanswered_commands() -> None:
    watcher = OutcomeWatcher("cytu.be/lounge")
    window = 1.0
    for index in range(5000):
        now = index * 0.01
        watcher.prune(now - window)
        _expect(watcher, DeleteMedia(uid=index), at=now)
        assert len(watcher) <= window / 0.01 + 2


async def test_the_watcher_stays_bounded_on_a_clock_that_stands_still() -> None:
    watcher = OutcomeWatcher("cytu.be/lounge")
    for index in range(5000):
        watcher.prune(-1.0)  # a virtual clock nobody advances: nothing is old
        _expect(watcher, DeleteMedia(uid=index), at=0.0)
        assert len(watcher) <= FOLLOWED_LIMIT + 1
    in_flight = _expect(watcher, DeleteMedia(uid=1))  # the bridge has not answered yet
    awaited = _expect(watcher, DeleteMedia(uid=2), at=0.0)
    awaited.awaited = True
    watcher.prune(10.0, keep=0)
    assert len(watcher) == 2  # in flight and awaited are never pruned
    assert not in_flight.future.done()
    assert not awaited.future.done()


def test_rejection_carries_cytubes_text() -> None:
    error = rejection(SendPM(to="bob", message="x"), "PM failed", None, "cytu.be/lounge")
    assert error.source == "cytube"
    assert error.reason == "PM failed"
    assert "cytu.be/lounge" in str(error)


def test_the_join_tracker_keeps_one_timer_however_many_ranks_arrive() -> None:
    clock = VirtualClock()
    b = binding(clock=clock)
    b.join.bridge_restarting()
    b.join.observe(decoded("login", {"success": True, "name": BOT}))
    for rank in range(1000):
        b.join.observe(decoded("rank", rank % 4 + 1))
        assert clock.pending <= 1
    b.join.close()
    assert clock.pending == 0
