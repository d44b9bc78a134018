"""NATS subject schemes: build, parse and sanitize CyTube subjects, one scheme per profile.

Two profiles share one interface, :class:`SubjectScheme`:

``seed`` (the design of kryten-py, the library this project grows from)
    events ``cytube.events.{domain}.{channel}.{event}``; the domain keeps its dots, so the
    channel and the event are always the *last two* tokens. Commands go to
    ``cytube.commands.{channel}.{action}``.

``kryten-robot`` (the real bridge, reference §2-§3)
    events ``kryten.events.cytube.{channel}.{event}`` (no domain at all); commands are
    requests on the single subject ``kryten.robot.command``.

Security contract: whatever a config file or an incoming message contains, a subject built
here never holds ``*`` or ``>``, an empty token, whitespace or a control character, and no
channel, domain or event name can reach into another channel's subjects. Builders raise
:class:`~kryten_actors.errors.KrytenValidationError` for input that normalizes to nothing;
parsers return ``None`` ("unroutable") for anything they would not have built themselves.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple, Protocol, overload

from kryten_actors.errors import KrytenValidationError

__all__ = [
    "CHANNEL_NAME_PATTERN",
    "MAX_SUBJECT_LENGTH",
    "MAX_TOKEN_LENGTH",
    "ROBOT_COMMAND_SUBJECT",
    "ROBOT_EVENT_PREFIX",
    "ROBOT_SCHEME",
    "SEED_COMMAND_PREFIX",
    "SEED_EVENT_PREFIX",
    "SEED_SCHEME",
    "TLD_EXTENSIONS",
    "ParsedEventSubject",
    "RobotSubjectScheme",
    "SeedSubjectScheme",
    "SubjectScheme",
    "build_command_subject",
    "build_event_subject",
    "build_subject",
    "is_valid_channel_name",
    "normalize_domain",
    "normalize_robot_token",
    "parse_subject",
    "sanitize_token",
    "scheme_for",
    "site_domain",
]

CHANNEL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,30}$")

SEED_EVENT_PREFIX: Final = "cytube.events"
SEED_COMMAND_PREFIX: Final = "cytube.commands"
ROBOT_EVENT_PREFIX: Final = "kryten.events.cytube"
ROBOT_COMMAND_SUBJECT: Final = "kryten.robot.command"
MAX_TOKEN_LENGTH: Final = 100
MAX_SUBJECT_LENGTH: Final = 255
TLD_EXTENSIONS: Final = frozenset({"com", "be", "org", "net", "io", "tv", "gg", "me", "co"})
"""The seed's list of top-level domains for its domain heuristic (:func:`site_domain`)."""

# Characters the seed and the bridge strip (reference §3 steps 2, 4, 5).
_STRIPPED: Final = ".*>!@#$%^&()+=[]{|}\\:;\"'<>,?/"
_DELETE_TABLE: Final = str.maketrans("", "", _STRIPPED)
# One search finds any character a sanitized token can never contain (ASCII specials and
# every whitespace); non-printable characters are caught separately by str.isprintable().
_WHITESPACE: Final = re.compile(r"\s")
_FORBIDDEN_IN_SUBJECT: Final = re.compile(r"[*>!@#$%^&()+=\[\]{|}\\:;\"'<,?/\s]")


def is_valid_channel_name(name: str) -> bool:
    """True if ``name`` is a valid CyTube channel name (``[A-Za-z0-9_-]{1,30}``)."""
    return CHANNEL_NAME_PATTERN.fullmatch(name) is not None


def sanitize_token(token: str) -> str:
    """Normalize one subject token; ``""`` means the token is unusable.

    Lowercases, turns spaces into ``-``, and removes ``.``, ``*``, ``>``, the seed's special
    characters ``!@#$%^&()+=[]{|}\\:;"'<,?/``, every other whitespace character and every
    non-printable (control, format, unassigned) character; then cuts to 100 characters.
    Unicode letters survive (``"café"`` stays ``"café"``).
    """
    if not token:
        return ""
    cleaned = token.lower().replace(" ", "-").translate(_DELETE_TABLE)
    if not cleaned.isprintable() or _WHITESPACE.search(cleaned) is not None:
        cleaned = "".join(ch for ch in cleaned if ch.isprintable() and not ch.isspace())
    return cleaned[:MAX_TOKEN_LENGTH]


def normalize_robot_token(token: str) -> str:
    """kryten-robot's token normalization (reference §3), hardened like :func:`sanitize_token`.

    The bridge's steps (lowercase, drop dots, space to ``-``, drop wildcards and specials, cut
    to 100) yield the same result as :func:`sanitize_token`; whitespace and control
    characters, which the bridge would pass through, are removed as well. ``""`` means the
    token is unusable (the bridge drops such events).
    """
    return sanitize_token(token)


def normalize_domain(domain: str) -> str:
    """Normalize a domain for the seed scheme, keeping its dots; ``""`` means unusable.

    Every dot-separated label is sanitized like a token; a label that ends up empty
    (``"cytu..be"``, ``"*.be"``, a trailing dot) makes the whole domain unusable, because
    it would put an empty token into the subject.
    """
    labels = domain.strip().lower().split(".")
    cleaned = [sanitize_token(label) for label in labels]
    if not all(cleaned):
        return ""
    return ".".join(cleaned)


def site_domain(domain: str) -> str:
    """The seed's TLD heuristic: the registrable part of a (normalized) domain.

    ``localhost`` → ``localhost``, ``cytu.be`` → ``cytu.be``, ``sync.example.com`` →
    ``example.com``: if the last label is one of :data:`TLD_EXTENSIONS` the last two labels
    are kept, otherwise the domain is returned unchanged.
    """
    labels = domain.split(".")
    if len(labels) >= 2 and labels[-1] in TLD_EXTENSIONS:
        return f"{labels[-2]}.{labels[-1]}"
    return domain


def _require(value: str, field: str, raw: str) -> str:
    if not value:
        raise KrytenValidationError(
            f"{field} {raw!r} is empty after sanitizing; use letters, digits, '-' or '_'",
            [(field, "empty after sanitizing")],
        )
    return value


def _check_length(subject: str) -> str:
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise KrytenValidationError(
            f"subject exceeds the NATS limit of {MAX_SUBJECT_LENGTH} characters "
            f"({len(subject)}); use a shorter domain, channel or event name",
            [("subject", "longer than 255 characters")],
        )
    return subject


def build_subject(domain: str, channel: str, event_name: str) -> str:
    """Seed event subject ``cytube.events.{domain}.{channel}.{event}``.

    >>> build_subject("cytu.be", "lounge", "chatMsg")
    'cytube.events.cytu.be.lounge.chatmsg'

    Raises :class:`KrytenValidationError` (a ``ValueError``, as in the seed) if a part is
    empty after sanitizing or the subject exceeds 255 characters.
    """
    domain_clean = _require(normalize_domain(domain), "domain", domain)
    channel_clean = _require(sanitize_token(channel), "channel", channel)
    event_clean = _require(sanitize_token(event_name), "event_name", event_name)
    return _check_length(f"{SEED_EVENT_PREFIX}.{domain_clean}.{channel_clean}.{event_clean}")


class _EventLike(Protocol):
    @property
    def domain(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def event_name(self) -> str: ...


def build_event_subject(
    event: _EventLike | None = None,
    *,
    domain: str | None = None,
    channel: str | None = None,
    event_name: str | None = None,
) -> str:
    """Seed event subject from an event (as in the seed) or from keyword parts.

    ``build_event_subject(domain="cytu.be", channel="lounge", event_name="chatMsg")`` and
    ``build_event_subject(raw_event)`` both give ``"cytube.events.cytu.be.lounge.chatmsg"``.
    """
    if event is not None:
        domain, channel, event_name = event.domain, event.channel, event.event_name
    if domain is None or channel is None or event_name is None:
        raise KrytenValidationError(
            "build_event_subject needs an event or all of domain=, channel=, event_name=",
            [("event", "missing")],
        )
    return build_subject(domain, channel, event_name)


@overload
def build_command_subject(channel: str, action: str, /) -> str: ...
@overload
def build_command_subject(domain: str, channel: str, action: str, /) -> str: ...
def build_command_subject(*parts: str) -> str:
    """Seed command subject ``cytube.commands.{channel}.{action}``.

    Takes ``(channel, action)``, or ``(domain, channel, action)`` like kryten-py's own
    signature; the domain is not part of the subject (the body carries it).

    >>> build_command_subject("lounge", "sendChat")
    'cytube.commands.lounge.sendchat'
    """
    if len(parts) not in (2, 3):
        raise KrytenValidationError(
            "build_command_subject takes (channel, action) or (domain, channel, action)",
            [("parts", f"got {len(parts)} arguments")],
        )
    channel, action = parts[-2], parts[-1]
    channel_clean = _require(sanitize_token(channel), "channel", channel)
    action_clean = _require(sanitize_token(action), "action", action)
    return _check_length(f"{SEED_COMMAND_PREFIX}.{channel_clean}.{action_clean}")


def parse_subject(subject: str) -> dict[str, str]:
    """Split a seed event subject into ``{"domain", "channel", "event"}``.

    The channel and the event are the last two tokens; the domain is what precedes them,
    reduced by the seed's TLD heuristic (:func:`site_domain`):

    >>> parse_subject("cytube.events.cytu.be.lounge.chatmsg")
    {'domain': 'cytu.be', 'channel': 'lounge', 'event': 'chatmsg'}

    Raises :class:`KrytenValidationError` if the subject is not a well-formed seed event
    subject (see :meth:`SeedSubjectScheme.parse_event`).
    """
    parsed = SEED_SCHEME.parse_event(subject)
    if parsed is None or parsed.domain is None:
        shown = subject[:80]
        raise KrytenValidationError(
            f"not a seed event subject: {shown!r}; expected "
            "'cytube.events.{domain}.{channel}.{event}'",
            [("subject", "not a seed event subject")],
        )
    return {"domain": site_domain(parsed.domain), "channel": parsed.channel, "event": parsed.event}


class ParsedEventSubject(NamedTuple):
    """An incoming event subject, split. ``key`` is the routing key of the channel."""

    key: str
    domain: str | None
    channel: str
    event: str


class SubjectScheme(Protocol):
    """How one profile names event and command subjects."""

    profile: str

    def event_subject(self, domain: str, channel: str, event_name: str) -> str:
        """The subject an event of this channel is published on."""
        ...

    def event_subscriptions(self) -> list[str]:
        """Wildcard subjects covering every channel's events."""
        ...

    def channel_subscriptions(self, domain: str, channel: str) -> list[str]:
        """Subjects covering exactly one channel's events (and no other channel's)."""
        ...

    def parse_event(self, subject: str) -> ParsedEventSubject | None:
        """Split an incoming subject; ``None`` means unroutable. Hot path: keep it cheap."""
        ...

    def channel_key(self, domain: str, channel: str) -> str:
        """The key :meth:`parse_event` yields for this configured channel."""
        ...

    def command_subject(self, domain: str, channel: str, action: str) -> str:
        """The subject a command for this channel is sent to."""
        ...


def _clean(rest: str) -> bool:
    """True if ``rest`` holds no wildcard, whitespace, control or stripped character."""
    return rest.isprintable() and _FORBIDDEN_IN_SUBJECT.search(rest) is None


def _short(channel: str, event: str) -> bool:
    return 0 < len(channel) <= MAX_TOKEN_LENGTH and 0 < len(event) <= MAX_TOKEN_LENGTH


class SeedSubjectScheme:
    """The seed's subjects: ``cytube.events.{domain}.{channel}.{event}``; key ``domain/channel``."""

    profile: str = "seed"
    _prefix: Final = SEED_EVENT_PREFIX + "."

    def event_subject(self, domain: str, channel: str, event_name: str) -> str:
        return build_subject(domain, channel, event_name)

    def event_subscriptions(self) -> list[str]:
        return [f"{SEED_EVENT_PREFIX}.>"]

    def channel_subscriptions(self, domain: str, channel: str) -> list[str]:
        # `*` (one token) rather than `>`: a longer subject belongs to another domain.
        domain_clean = _require(normalize_domain(domain), "domain", domain)
        channel_clean = _require(sanitize_token(channel), "channel", channel)
        return [_check_length(f"{SEED_EVENT_PREFIX}.{domain_clean}.{channel_clean}.*")]

    def parse_event(self, subject: str) -> ParsedEventSubject | None:
        if len(subject) > MAX_SUBJECT_LENGTH or not subject.startswith(self._prefix):
            return None
        rest = subject[len(self._prefix) :].lower()
        parts = rest.rsplit(".", 2)
        if len(parts) != 3 or not _clean(rest):
            return None
        domain, channel, event = parts
        if (
            not _short(channel, event)
            or not domain
            or domain[0] == "."
            or domain[-1] == "."
            or ".." in domain
        ):
            return None
        return ParsedEventSubject(f"{domain}/{channel}", domain, channel, event)

    def channel_key(self, domain: str, channel: str) -> str:
        domain_clean = _require(normalize_domain(domain), "domain", domain)
        channel_clean = _require(sanitize_token(channel), "channel", channel)
        return f"{domain_clean}/{channel_clean}"

    def command_subject(self, domain: str, channel: str, action: str) -> str:
        return build_command_subject(channel, action)


class RobotSubjectScheme:
    """kryten-robot's subjects: ``kryten.events.cytube.{channel}.{event}``; key ``channel``."""

    profile: str = "kryten-robot"
    _prefix: Final = ROBOT_EVENT_PREFIX + "."

    def event_subject(self, domain: str, channel: str, event_name: str) -> str:
        channel_clean = _require(normalize_robot_token(channel), "channel", channel)
        event_clean = _require(normalize_robot_token(event_name), "event_name", event_name)
        return _check_length(f"{ROBOT_EVENT_PREFIX}.{channel_clean}.{event_clean}")

    def event_subscriptions(self) -> list[str]:
        return [f"{ROBOT_EVENT_PREFIX}.*.*"]

    def channel_subscriptions(self, domain: str, channel: str) -> list[str]:
        channel_clean = _require(normalize_robot_token(channel), "channel", channel)
        return [f"{ROBOT_EVENT_PREFIX}.{channel_clean}.*"]

    def parse_event(self, subject: str) -> ParsedEventSubject | None:
        if len(subject) > MAX_SUBJECT_LENGTH or not subject.startswith(self._prefix):
            return None
        rest = subject[len(self._prefix) :].lower()
        parts = rest.split(".")
        if len(parts) != 2 or not _clean(rest):
            return None
        channel, event = parts
        if not _short(channel, event):
            return None
        return ParsedEventSubject(channel, None, channel, event)

    def channel_key(self, domain: str, channel: str) -> str:
        return _require(normalize_robot_token(channel), "channel", channel)

    def command_subject(self, domain: str, channel: str, action: str) -> str:
        # One subject for every channel; meta.domain/meta.channel in the body pick the bridge.
        return ROBOT_COMMAND_SUBJECT


SEED_SCHEME: Final[SubjectScheme] = SeedSubjectScheme()
ROBOT_SCHEME: Final[SubjectScheme] = RobotSubjectScheme()
_SCHEMES: Final[dict[str, SubjectScheme]] = {"seed": SEED_SCHEME, "kryten-robot": ROBOT_SCHEME}


def scheme_for(profile: str) -> SubjectScheme:
    """The subject scheme of ``profile`` (``"seed"`` or ``"kryten-robot"``)."""
    try:
        return _SCHEMES[profile]
    except KeyError:
        raise KrytenValidationError(
            f"unknown profile {profile!r}; use 'seed' or 'kryten-robot'",
            [("profile", "unknown profile")],
        ) from None
