"""Subject schemes: the seed's documented behaviour, kryten-robot's, and the security rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.raw_event import RawEvent
from kryten_actors.protocol.subjects import (
    ROBOT_SCHEME,
    SEED_SCHEME,
    ParsedEventSubject,
    SubjectScheme,
    build_command_subject,
    build_event_subject,
    build_subject,
    is_valid_channel_name,
    normalize_domain,
    normalize_robot_token,
    parse_subject,
    sanitize_token,
    scheme_for,
    site_domain,
)

WILDCARDS = ("*", ">")


def assert_safe_subject(subject: str) -> None:
    assert len(subject) <= 255
    for token in subject.split("."):
        assert token, f"empty token in {subject!r}"
        assert not any(w in token for w in WILDCARDS), subject
        assert token.isprintable(), subject
        assert not any(ch.isspace() for ch in token), subject


# --- the seed's documented behaviour -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("MyChannel", "mychannel"),
        ("Test Channel", "test-channel"),
        ("Test_Channel", "test_channel"),
        ("Channel!@#", "channel"),
        ("Test*Channel", "testchannel"),
        ("Test>Channel", "testchannel"),
        ("café", "café"),
        ("", ""),
        ("My Channel!", "my-channel"),
        ("Test_Channel #1", "test_channel-1"),
        ("cytu.be", "cytube"),
        ("a\tb\nc\x00d\x7fe", "abcde"),
        ("zero\u200bwidth", "zerowidth"),
        ("x" * 150, "x" * 100),
    ],
)
def test_sanitize_token(raw: str, clean: str) -> None:
    assert sanitize_token(raw) == clean


def test_build_subject_matches_seed() -> None:
    assert build_subject("cytu.be", "lounge", "chatMsg") == "cytube.events.cytu.be.lounge.chatmsg"
    assert build_subject("CYTU.BE", "Test Channel", "chatMsg") == (
        "cytube.events.cytu.be.test-channel.chatmsg"
    )


def test_build_event_subject_keywords_and_event() -> None:
    expected = "cytube.events.cytu.be.lounge.chatmsg"
    assert build_event_subject(domain="cytu.be", channel="lounge", event_name="chatMsg") == expected
    event = RawEvent(event_name="chatMsg", payload={}, channel="lounge", domain="cytu.be")
    assert build_event_subject(event) == expected
    with pytest.raises(KrytenValidationError, match="needs an event"):
        build_event_subject(domain="cytu.be")


def test_build_command_subject_both_signatures() -> None:
    assert build_command_subject("lounge", "sendChat") == "cytube.commands.lounge.sendchat"
    assert build_command_subject("cytu.be", "Lounge", "chat") == "cytube.commands.lounge.chat"
    with pytest.raises(KrytenValidationError):
        build_command_subject("lounge")  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("domain", "channel", "event_name", "field"),
    [
        ("cytu.be", "", "chatMsg", "channel"),
        ("cytu.be", "lounge", "", "event_name"),
        ("cytu.be", "***", "chatMsg", "channel"),
        ("", "lounge", "chatMsg", "domain"),
        ("cytu..be", "lounge", "chatMsg", "domain"),
        ("*.be", "lounge", "chatMsg", "domain"),
    ],
)
def test_build_subject_rejects_empty_tokens(
    domain: str, channel: str, event_name: str, field: str
) -> None:
    with pytest.raises(KrytenValidationError) as info:
        build_subject(domain, channel, event_name)
    assert info.value.errors[0][0] == field
    assert isinstance(info.value, ValueError)  # the seed raised ValueError


def test_build_subject_length_limit() -> None:
    domain = ".".join(["d" * 60] * 4)
    with pytest.raises(KrytenValidationError, match="255"):
        build_subject(domain, "lounge", "chatmsg")


def test_parse_subject_matches_issue_example() -> None:
    assert parse_subject("cytube.events.cytu.be.lounge.chatmsg") == {
        "domain": "cytu.be",
        "channel": "lounge",
        "event": "chatmsg",
    }
    assert parse_subject("cytube.events.localhost.lounge.chatmsg")["domain"] == "localhost"
    assert parse_subject("cytube.events.sync.example.com.lounge.chatmsg") == {
        "domain": "example.com",
        "channel": "lounge",
        "event": "chatmsg",
    }


@pytest.mark.parametrize(
    "subject",
    [
        "",
        "wrong.prefix.cytu.be.lounge.chatmsg",
        "cytube.events.cytu.be",
        "cytube.events.lounge.chatmsg",
        "kryten.events.cytube.lounge.chatmsg",
    ],
)
def test_parse_subject_rejects(subject: str) -> None:
    with pytest.raises(KrytenValidationError, match="not a seed event subject"):
        parse_subject(subject)


@pytest.mark.parametrize(
    ("domain", "site"),
    [("localhost", "localhost"), ("cytu.be", "cytu.be"), ("sync.example.com", "example.com")],
)
def test_tld_heuristic(domain: str, site: str) -> None:
    assert site_domain(domain) == site


def test_channel_name_rule() -> None:
    assert is_valid_channel_name("My_chan-1")
    assert not is_valid_channel_name("bad name")
    assert not is_valid_channel_name("x" * 31)
    assert not is_valid_channel_name("lounge.>")


# --- the two schemes -----------------------------------------------------------------------


def test_scheme_for() -> None:
    assert scheme_for("seed") is SEED_SCHEME
    assert scheme_for("kryten-robot") is ROBOT_SCHEME
    assert SEED_SCHEME.profile == "seed"
    assert ROBOT_SCHEME.profile == "kryten-robot"
    with pytest.raises(KrytenValidationError, match="unknown profile"):
        scheme_for("nope")


def test_seed_scheme_shape() -> None:
    assert SEED_SCHEME.event_subject("cytu.be", "Lounge", "chatMsg") == (
        "cytube.events.cytu.be.lounge.chatmsg"
    )
    assert SEED_SCHEME.event_subscriptions() == ["cytube.events.>"]
    assert SEED_SCHEME.channel_subscriptions("cytu.be", "Lounge") == [
        "cytube.events.cytu.be.lounge.*"
    ]
    assert SEED_SCHEME.channel_key("Cytu.be", "Lounge") == "cytu.be/lounge"
    assert SEED_SCHEME.command_subject("cytu.be", "Lounge", "sendChat") == (
        "cytube.commands.lounge.sendchat"
    )
    assert SEED_SCHEME.parse_event("cytube.events.cytu.be.lounge.chatmsg") == ParsedEventSubject(
        "cytu.be/lounge", "cytu.be", "lounge", "chatmsg"
    )


def test_robot_scheme_shape() -> None:
    assert ROBOT_SCHEME.event_subject("cytu.be", "MyChan", "chatMsg") == (
        "kryten.events.cytube.mychan.chatmsg"
    )
    assert ROBOT_SCHEME.event_subscriptions() == ["kryten.events.cytube.*.*"]
    assert ROBOT_SCHEME.channel_subscriptions("cytu.be", "MyChan") == [
        "kryten.events.cytube.mychan.*"
    ]
    assert ROBOT_SCHEME.channel_key("cytu.be", "MyChan") == "mychan"
    assert ROBOT_SCHEME.command_subject("cytu.be", "MyChan", "say") == "kryten.robot.command"
    assert ROBOT_SCHEME.parse_event("kryten.events.cytube.e2etest.chatmsg") == (
        ParsedEventSubject("e2etest", None, "e2etest", "chatmsg")
    )


@pytest.mark.parametrize(
    "subject",
    [
        "",
        "kryten.events.cytube",
        "kryten.events.cytube.lounge",
        "kryten.events.cytube.lounge.chatmsg.extra",
        "kryten.events.cytube..chatmsg",
        "kryten.events.cytube.lounge.",
        "kryten.events.cytube.*.chatmsg",
        "kryten.events.cytube.lounge.>",
        "kryten.events.cytube.lou nge.chatmsg",
        "kryten.events.cytube.lou\tnge.chatmsg",
        "kryten.events.cytube.lou\x00nge.chatmsg",
        "kryten.events.cytube.lou!nge.chatmsg",
        "kryten.events.cytube." + "x" * 101 + ".chatmsg",
        "kryten.events.cytubex.lounge.chatmsg",
        "cytube.events.cytu.be.lounge.chatmsg",
        "kryten.events.cytube.lounge.chat\u200bmsg",
    ],
)
def test_robot_parse_rejects(subject: str) -> None:
    assert ROBOT_SCHEME.parse_event(subject) is None


@pytest.mark.parametrize(
    "subject",
    [
        "cytube.events",
        "cytube.events.lounge.chatmsg",
        "cytube.events..lounge.chatmsg",
        "cytube.events.cytu..be.lounge.chatmsg",
        "cytube.events.cytu.be..chatmsg",
        "cytube.events.cytu.be.lounge.*",
        "cytube.events.*.lounge.chatmsg",
        "cytube.events.cytu.be.lounge.>",
        "cytube.events.cy tu.be.lounge.chatmsg",
        "cytube.events.cytu.be.lounge.chat\nmsg",
        "kryten.events.cytube.lounge.chatmsg",
        "cytube.events." + "d." * 130 + "lounge.chatmsg",
    ],
)
def test_seed_parse_rejects(subject: str) -> None:
    assert SEED_SCHEME.parse_event(subject) is None


def test_hostile_config_cannot_reach_another_channel() -> None:
    # A domain that swallows "lounge" yields a deeper subject: the real channel's
    # subscription (exactly one token after the channel) never matches it, and its key differs.
    hostile = SEED_SCHEME.event_subject("cytu.be.lounge", "x", "chatMsg")
    assert hostile == "cytube.events.cytu.be.lounge.x.chatmsg"
    parsed = SEED_SCHEME.parse_event(hostile)
    assert parsed is not None
    assert parsed.key != SEED_SCHEME.channel_key("cytu.be", "lounge")
    # Dots, wildcards and whitespace in a channel name vanish instead of adding tokens.
    for scheme in (SEED_SCHEME, ROBOT_SCHEME):
        for channel in ("lounge.>", "lounge.*", "a.b", "lounge \t\n"):
            for subject in scheme.channel_subscriptions("cytu.be", channel):
                plain = scheme.channel_subscriptions("cytu.be", "c")[0]
                assert subject.count(".") == plain.count(".")
                assert ">" not in subject
                assert subject.endswith(".*")
                assert "*" not in subject[:-2]


# --- properties ----------------------------------------------------------------------------

any_text = st.text(min_size=0, max_size=120)
label = st.text(min_size=0, max_size=30)
domains = st.lists(label, min_size=1, max_size=4).map(".".join) | any_text


def _normalize(scheme: SubjectScheme, domain: str, channel: str, event: str) -> ParsedEventSubject:
    chan, ev = sanitize_token(channel), sanitize_token(event)
    if scheme is ROBOT_SCHEME:
        return ParsedEventSubject(chan, None, chan, ev)
    dom = normalize_domain(domain)
    return ParsedEventSubject(f"{dom}/{chan}", dom, chan, ev)


@settings(max_examples=400)
@given(domain=domains, channel=any_text, event=any_text)
@pytest.mark.parametrize("scheme", [SEED_SCHEME, ROBOT_SCHEME], ids=["seed", "robot"])
def test_built_subjects_are_safe_and_round_trip(
    scheme: SubjectScheme, domain: str, channel: str, event: str
) -> None:
    try:
        subject = scheme.event_subject(domain, channel, event)
    except KrytenValidationError:
        # Only input that normalizes to nothing (or is too long) may be refused.
        assert (
            not sanitize_token(channel)
            or not sanitize_token(event)
            or (scheme is SEED_SCHEME and not normalize_domain(domain))
            or len(domain) + len(channel) + len(event) > 100
        )
        return
    assert_safe_subject(subject)
    tokens = subject.split(".")
    if scheme is ROBOT_SCHEME:
        assert len(tokens) == 5
    else:
        assert len(tokens) == 4 + len(normalize_domain(domain).split("."))
    expected = _normalize(scheme, domain, channel, event)
    parsed = scheme.parse_event(subject)
    assert parsed == expected
    assert parsed.key == scheme.channel_key(domain, channel)
    for sub in scheme.channel_subscriptions(domain, channel):
        assert sub.removesuffix(".*") == subject.rsplit(".", 1)[0]


@settings(max_examples=300)
@given(raw=any_text)
def test_sanitized_tokens_are_clean_and_stable(raw: str) -> None:
    token = sanitize_token(raw)
    assert "." not in token
    assert token == "" or (token.isprintable() and not any(c.isspace() for c in token))
    assert not any(w in token for w in WILDCARDS)
    assert len(token) <= 100
    assert sanitize_token(token) == token
    assert normalize_robot_token(raw) == token


@settings(max_examples=300)
@given(subject=st.text(max_size=300))
@pytest.mark.parametrize("scheme", [SEED_SCHEME, ROBOT_SCHEME], ids=["seed", "robot"])
def test_parse_never_yields_unsafe_parts(scheme: SubjectScheme, subject: str) -> None:
    parsed = scheme.parse_event(subject)
    if parsed is None:
        return
    for part in (parsed.channel, parsed.event, *(parsed.domain or "d").split(".")):
        assert part
        assert sanitize_token(part) == part[:100]
        assert not any(w in part for w in WILDCARDS)
        assert part.isprintable()
        assert not any(c.isspace() for c in part)
