"""CyTube events as data: :class:`RawEvent`, the typed events, one name→model table, one decoder.

``EVENT_MODELS`` maps the *lowercased* Socket.IO name (the form event subjects carry) to its
model; a name not in it decodes to :class:`RawEvent`. :func:`decode_event` is the only
decoding path and never loses an event: a payload that does not fit its typed model comes
back as a :class:`RawEvent` together with the validation error, so the caller can count it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from pydantic import ValidationError

from kryten_actors.errors import KrytenValidationError
from kryten_actors.protocol.media_events import (
    ChangeMediaEvent,
    ClosePollEvent,
    DeleteEvent,
    EmoteListEvent,
    MediaUpdateEvent,
    MoveVideoEvent,
    PlaylistUpdateEvent,
    PollEvent,
    QueueEvent,
    QueueFailEvent,
    SetCurrentEvent,
    SetMotdEvent,
    SetTempEvent,
    VoteskipEvent,
)
from kryten_actors.protocol.raw_event import RawEvent
from kryten_actors.protocol.user_events import (
    ChatMessageEvent,
    CooldownEvent,
    ErrorMessageEvent,
    KickEvent,
    LoginEvent,
    PrivateMessageEvent,
    RankEvent,
    SetAFKEvent,
    SetLeaderEvent,
    SetUserMetaEvent,
    SetUserRankEvent,
    TypedEvent,
    UserCountEvent,
    UserJoinEvent,
    UserLeaveEvent,
    UserListEvent,
)
from kryten_actors.protocol.validation import to_kryten_error

__all__ = [
    "EVENT_MODELS",
    "ChangeMediaEvent",
    "ChatMessageEvent",
    "ClosePollEvent",
    "CooldownEvent",
    "DeleteEvent",
    "EmoteListEvent",
    "ErrorMessageEvent",
    "KickEvent",
    "LoginEvent",
    "MediaUpdateEvent",
    "MoveVideoEvent",
    "PlaylistUpdateEvent",
    "PollEvent",
    "PrivateMessageEvent",
    "QueueEvent",
    "QueueFailEvent",
    "RankEvent",
    "RawEvent",
    "SetAFKEvent",
    "SetCurrentEvent",
    "SetLeaderEvent",
    "SetMotdEvent",
    "SetTempEvent",
    "SetUserMetaEvent",
    "SetUserRankEvent",
    "TypedEvent",
    "UserCountEvent",
    "UserJoinEvent",
    "UserLeaveEvent",
    "UserListEvent",
    "VoteskipEvent",
    "decode_event",
    "decode_hinted",
    "model_for",
]

_TYPED_EVENTS: Final[tuple[type[TypedEvent], ...]] = (
    ChatMessageEvent,
    PrivateMessageEvent,
    UserJoinEvent,
    UserLeaveEvent,
    UserListEvent,
    UserCountEvent,
    SetUserRankEvent,
    SetAFKEvent,
    SetUserMetaEvent,
    SetLeaderEvent,
    CooldownEvent,
    ErrorMessageEvent,
    KickEvent,
    RankEvent,
    LoginEvent,
    ChangeMediaEvent,
    MediaUpdateEvent,
    SetCurrentEvent,
    PlaylistUpdateEvent,
    QueueEvent,
    QueueFailEvent,
    DeleteEvent,
    MoveVideoEvent,
    SetTempEvent,
    VoteskipEvent,
    PollEvent,
    ClosePollEvent,
    SetMotdEvent,
    EmoteListEvent,
)

EVENT_MODELS: Final[Mapping[str, type[RawEvent]]] = MappingProxyType(
    {name.lower(): model for model in _TYPED_EVENTS for name in model.event_names}
)
"""Lowercased Socket.IO event name → typed event model (the one table)."""

_HOT: Final[dict[str, tuple[Callable[[Any], RawEvent], str]]] = {
    name.lower(): (model.__pydantic_validator__.validate_json, name)
    for model in _TYPED_EVENTS
    for name in model.event_names
}
# decode_hinted's table: the lowercased name → (the model's own pydantic-core JSON validator,
# the name as the bridge spells it). Calling the validator straight saves the Python frame of
# ``model_validate_json``; comparing with the wire spelling first saves a ``lower()``.


def model_for(event_name: str) -> type[RawEvent]:
    """The model for ``event_name`` (any case); :class:`RawEvent` for unknown names."""
    return EVENT_MODELS.get(event_name.lower(), RawEvent)


def _not_an_envelope(exc: ValidationError) -> KrytenValidationError:
    return to_kryten_error(
        exc,
        what="event envelope",
        hint="Expected the bridge's JSON event envelope (reference §4); dead-letter it.",
    )


def decode_event(
    data: RawEvent | bytes | bytearray | memoryview,
    *,
    event_hint: str | None = None,
) -> tuple[RawEvent, ValidationError | None]:
    """Decode one event into its typed model.

    Returns ``(typed_event, None)``; ``(raw_event, None)`` for names without a model; and
    ``(raw_event, error)`` when the envelope is fine but the payload does not fit its model.
    ``event_hint`` is the lowercased event token of the subject: bytes are validated straight
    into that model in one pass (the hot path), and re-decoded by the body's own
    ``event_name`` if it disagrees with the hint.

    Raises :class:`KrytenValidationError` when ``data`` is not an event envelope at all
    (not JSON, not an object, or missing ``event_name`` / ``channel`` / ``domain``).
    """
    if isinstance(data, RawEvent):
        return _retype(data)
    body = bytes(data) if isinstance(data, memoryview) else data
    if event_hint is not None:
        fast = decode_hinted(body, event_hint)
        if fast is not None:
            return fast, None
    hinted = EVENT_MODELS.get(event_hint) if event_hint is not None else None
    hint_error: ValidationError | None = None
    if hinted is not None:
        try:
            event = hinted.model_validate_json(body)
        except ValidationError as exc:
            hint_error = exc
        else:
            if EVENT_MODELS.get(event.event_name.lower()) is hinted:
                return event, None
            return _retype(RawEvent.model_validate(event.to_envelope_fields()))
    try:
        raw = RawEvent.model_validate_json(body)
    except ValidationError as exc:
        raise _not_an_envelope(exc) from None
    model = EVENT_MODELS.get(raw.event_name.lower())
    if model is None:
        return raw, None
    if model is hinted and hint_error is not None:
        return raw, hint_error
    return _retype(raw)


def decode_hinted(data: bytes | bytearray, event_hint: str) -> RawEvent | None:
    """The hot path of :func:`decode_event`: one validation into the hinted model.

    Returns the typed event when the body validates as the model of ``event_hint``
    (the subject's lowercased event token) and its ``event_name`` is that name;
    otherwise None, and the caller uses :func:`decode_event`, which sorts out every
    other case (and never loses the event). Never raises.
    """
    hot = _HOT.get(event_hint)
    if hot is None:
        return None
    validate_json, wire_name = hot
    try:
        event = validate_json(data)
    except ValidationError:
        return None
    name = event.event_name
    return event if name == wire_name or name.lower() == event_hint else None


def _retype(raw: RawEvent) -> tuple[RawEvent, ValidationError | None]:
    model = EVENT_MODELS.get(raw.event_name.lower())
    if model is None or type(raw) is model:
        return raw, None
    base = raw if type(raw) is RawEvent else RawEvent.model_validate(raw.to_envelope_fields())
    try:
        return model.model_validate(base.to_envelope_fields()), None
    except ValidationError as exc:
        return base, exc
