"""The bridge's event envelope (reference §4) as a frozen model: :class:`RawEvent`."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from kryten_actors.protocol.validation import to_kryten_error

__all__ = ["RawEvent", "jsonable"]

_ZERO = timedelta(0)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _new_correlation_id() -> str:
    return str(uuid.uuid4())


def _as_utc(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None:
        return value.replace(tzinfo=UTC)
    if offset != _ZERO:
        try:
            return value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+14:00 has no UTC datetime
            raise ValueError(_TIMESTAMP_RULE) from None
    return value


class _InUtc:
    """``Annotated[datetime, _InUtc]``: an aware datetime at UTC.

    A value already at offset +00:00 (every bridge timestamp) is validated by pydantic-core
    alone; only a naive value (taken as UTC) or another offset (converted) reaches the Python
    normaliser. Bad input is one ``datetime_parsing`` error at the field, whichever way it
    failed. (A Python validator on every event cost ~0.4 µs, a sixth of the typed decode.)
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.union_schema(
            [
                core_schema.datetime_schema(tz_constraint=0),
                core_schema.no_info_after_validator_function(_as_utc, handler(source)),
            ],
            mode="left_to_right",
            custom_error_type="datetime_parsing",
            custom_error_context={"error": _TIMESTAMP_RULE},
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(core_schema.datetime_schema())


_TIMESTAMP_RULE = "expected ISO 8601 with a UTC offset (naive is taken as UTC) or epoch time"

UtcDatetime = Annotated[datetime, _InUtc]
"""A datetime field that always holds an aware UTC value (see :class:`_InUtc`)."""


def jsonable(value: Any) -> Any:
    """``value`` with every pydantic model turned back into its wire-form dict.

    Fields that were not in the input are left out, so a decoded event re-encodes to the
    bytes it came from.
    """
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value


class RawEvent(BaseModel):
    """One CyTube event as the bridge publishes it.

    Fields are the envelope's: ``event_name`` (Socket.IO name, case kept: ``chatMsg``),
    ``payload`` (any JSON value), ``channel`` (raw, case kept), ``domain``, ``timestamp``
    (aware, UTC; a naive value is taken as UTC, another offset is converted), and
    ``correlation_id`` (a new UUID4 per event, not tied to any command). Unknown envelope keys
    are ignored. Typed events (``ChatMessageEvent`` …) subclass this with a typed payload and
    validate straight from the same envelope.
    """

    # cache_strings="keys": pydantic-core's JSON parser caches the envelope's keys, not
    # its values — every event brings a fresh correlation ID and timestamp, which would
    # only churn the value cache (measured: 4 % off a chat event's validation)
    model_config = ConfigDict(frozen=True, extra="ignore", cache_strings="keys")

    event_name: str
    payload: Any = None
    channel: str
    domain: str
    timestamp: UtcDatetime = Field(default_factory=_utc_now)
    correlation_id: str = Field(default_factory=_new_correlation_id)

    @property
    def is_replay(self) -> bool:
        """True for chat history CyTube replayed when the bridge (re)joined the channel.

        Replays reach handlers only with ``replay: deliver``; compare with ``time`` too.
        """
        marks = self.__pydantic_private__
        return marks is not None and marks.get("replay") is True

    def mark_replay(self) -> None:
        """Mark this event as replayed history (done by the bot when it routes it)."""
        self._marks()["replay"] = True

    @property
    def redelivered(self) -> bool:
        """True when JetStream delivered this event again (``delivery: jetstream``): a
        process may have handled it before, e.g. one killed before its ack went out."""
        marks = self.__pydantic_private__
        return marks is not None and marks.get("redelivered") is True

    def mark_redelivered(self) -> None:
        """Mark this event as a possible duplicate (done by the bot when it delivers it)."""
        self._marks()["redelivered"] = True

    def _marks(self) -> dict[str, Any]:
        # What the bot sets on delivery (never read from the wire: a body cannot claim to be
        # a replay) lives in pydantic's per-instance private dict, made on the first mark.
        # Declared ``PrivateAttr``s would make pydantic run a Python initializer for every
        # validated event (~2 µs, a third of the typed decode: docs/performance.md).
        # Copies, pickling and equality treat this dict as they treat private attributes.
        marks = self.__pydantic_private__
        if marks is None:
            marks = {}
            object.__setattr__(self, "__pydantic_private__", marks)
        return marks

    def to_envelope_fields(self) -> dict[str, Any]:
        """The envelope fields as Python values (payload models turned back into dicts)."""
        return {
            "event_name": self.event_name,
            "payload": jsonable(self.payload),
            "channel": self.channel,
            "domain": self.domain,
            "timestamp": self.timestamp,
            "correlation_id": self.correlation_id,
        }

    def to_dict(self) -> dict[str, Any]:
        """The envelope as a JSON-ready dict, keys in the bridge's order."""
        return {
            "event_name": self.event_name,
            "payload": jsonable(self.payload),
            "channel": self.channel,
            "domain": self.domain,
            "timestamp": self.timestamp.isoformat(),
            "correlation_id": self.correlation_id,
        }

    def to_bytes(self) -> bytes:
        """The envelope exactly as kryten-robot serializes it (``json.dumps`` defaults, UTF-8).

        The bridge's key order and separators are kept so recorded traffic and a simulated
        bridge are byte-compatible with the real one.
        """
        return json.dumps(self.to_dict()).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | str) -> Self:
        """Validate an envelope from JSON.

        Raises :class:`KrytenValidationError` (listing every bad field) when ``data`` is not a
        JSON object with at least ``event_name``, ``channel`` and ``domain``.
        """
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise to_kryten_error(
                exc,
                what=f"{cls.__name__} envelope",
                hint="Expected the bridge's JSON event envelope (reference §4).",
            ) from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Like :meth:`from_bytes`, from an already decoded envelope dict."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise to_kryten_error(
                exc,
                what=f"{cls.__name__} envelope",
                hint="Expected the bridge's event envelope (reference §4).",
            ) from None
