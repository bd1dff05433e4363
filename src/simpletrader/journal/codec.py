"""Serialising journal events to JSON and back, deterministically and in bulk.

An entry's *payload* is its event as a compact JSON object: dataclass fields in declaration
order, Decimals as strings, enums as their values. Flow entries hold ``{"at", "type", "dto"}``
with the DTO's fields that differ from their defaults. An entry's *line* is
``kind TAB payload LF``; the run hash is a hash over the lines, so it depends only on the
entries (not on process, hash seed or store).

Each event class and flow DTO class gets a generated encoder the first time it is seen
(:mod:`simpletrader.journal.encoders`; pydantic's serializer for a field type it does not
know). Lines are generated whole, prefix included (a flow entry's DTO too), and joined per
chunk: about 1 µs per simple entry, 4 µs per directive or batch. Decoding goes through pydantic
validators.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import from_json

from simpletrader import dtos
from simpletrader.core.errors import StoreError
from simpletrader.journal import encoders
from simpletrader.journal.events import EVENT_TYPES, FlowRecorded, JournalEvent

FLOW_DTOS: dict[str, type[BaseModel]] = {
    name: getattr(dtos, name)
    for name in ("Origin", "Signal", "Risk", "StrategyDirective", "ExecutionCommandBatch")
}
"""The DTO types a flow entry may hold, by class name."""

FLOW_ID_FIELDS: dict[str, str] = {
    "Origin": "id",
    "Signal": "signal_id",
    "Risk": "risk_id",
    "StrategyDirective": "directive_id",
    "ExecutionCommandBatch": "batch_id",
}
"""The field holding each flow DTO's own id (the entry's primary id)."""

TextEncoder = encoders.TextEncoder

DECODE_ERRORS = (ValueError, TypeError, AttributeError, LookupError, ArithmeticError, struct.error)
"""What decoding a damaged stored value raises: pydantic's ValidationError, JSONDecodeError and
UnicodeDecodeError are ValueErrors; a value of the wrong type gives a TypeError or an
AttributeError, a short list a LookupError, a bad amount an ArithmeticError, bad bar bytes a
``struct.error``."""


def describe(exc: BaseException) -> str:
    """One line naming a decoding error: the field and reason of a failed validation, else the
    error's class and the first line of its message."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        return f"{exc.title}.{where}: {first['msg']}" if where else f"{exc.title}: {first['msg']}"
    text = str(exc)
    return f"{exc.__class__.__name__}: {text.splitlines()[0]}" if text else exc.__class__.__name__


_ADAPTERS: dict[type[JournalEvent], TypeAdapter[Any]] = {}


def _adapter(cls: type[JournalEvent]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


def _pydantic_event(cls: type) -> TextEncoder:
    to_json = _adapter(cls).serializer.to_json
    return lambda event: to_json(event).decode()


def _pydantic_model(cls: type[BaseModel]) -> TextEncoder:
    # Fields equal to their defaults are left out, as by the generated encoders.
    to_json = cls.__pydantic_serializer__.to_json
    return lambda dto: to_json(dto, exclude_defaults=True).decode()


class _ByClass(dict[type, TextEncoder]):
    """Encoders by class, each built the first time its class is seen."""

    def __init__(self, build: Callable[[type], TextEncoder]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, cls: type) -> TextEncoder:
        encoder = self[cls] = self._build(cls)
        return encoder


_DTOS = _ByClass(lambda cls: encoders.model_encoder(cls) or _pydantic_model(cls))


def _flow_encoder(prefix: str, suffix: str) -> TextEncoder:
    # A changed DTO default is a change of the stored format (see docs/journal.md).
    def build(cls: type) -> TextEncoder:
        literal, name = encoders.literal, encoders.escape(cls.__name__)
        head = literal(prefix) + '{"at":%d,"type":' + literal(name) + ',"dto":'
        held = encoders.held_model_encoder(cls, "dto", head, ["at"], "}" + suffix)
        if held is not None:
            return held
        template = literal(prefix) + '{"at":%d,"type":%s,"dto":%s}' + literal(suffix)
        to_json = _DTOS[cls]
        return lambda event: template % (event.at, name, to_json(event.dto))

    by_class = _ByClass(build)

    def encode(event: FlowRecorded) -> str:
        dto = event.dto
        return by_class[type(dto)](event)

    return encode


def _payload_encoder(cls: type) -> TextEncoder:
    if cls is FlowRecorded:
        return _flow_encoder("", "")
    return encoders.event_encoder(cls) or _pydantic_event(cls)


def _line_encoder(cls: type) -> TextEncoder:
    kind: str = cls.kind  # type: ignore[attr-defined]
    prefix = kind + "\t"
    if cls is FlowRecorded:
        return _flow_encoder(prefix, "\n")
    generated = encoders.event_encoder(cls, prefix, "\n")
    if generated is not None:
        return generated
    payload = _PAYLOADS[cls]
    return lambda event: prefix + payload(event) + "\n"


_PAYLOADS = _ByClass(_payload_encoder)
_LINES = _ByClass(_line_encoder)


def encode(event: JournalEvent) -> bytes:
    """The payload of one event."""
    return _PAYLOADS[type(event)](event).encode()


def encode_many(events: Iterable[JournalEvent]) -> list[bytes]:
    """The payloads of many events."""
    payloads = _PAYLOADS
    return [payloads[type(e)](e).encode() for e in events]


def new_run_hasher() -> hashlib.blake2b:
    """The hash ``run_hash`` is the hex digest of, fed the entries' lines in order."""
    return hashlib.blake2b(digest_size=16)


def line(kind: str, payload: bytes) -> bytes:
    """The hashed, chunked form of one entry: ``kind TAB payload LF``."""
    return b"%s\t%s\n" % (kind.encode(), payload)


def lines(events: Iterable[JournalEvent]) -> bytes:
    """The lines of many events, joined (the bulk path: one generated call per entry)."""
    encoders = _LINES
    return "".join([encoders[type(e)](e) for e in events]).encode()


def payloads_and_lines(events: Sequence[JournalEvent]) -> tuple[list[bytes], bytes]:
    """The payloads of many events and their joined lines (what a sink and the hash need)."""
    payloads = _PAYLOADS
    texts = [payloads[type(e)](e) for e in events]
    joined = "".join([f"{e.kind}\t{t}\n" for e, t in zip(events, texts, strict=True)])
    return [t.encode() for t in texts], joined.encode()


def decode(kind: str, payload: bytes | str) -> JournalEvent:
    """Rebuild the event of ``kind`` from its payload (``StoreError`` on an unknown kind)."""
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        known = ", ".join(sorted(EVENT_TYPES))
        raise StoreError(f"unknown journal entry kind {kind!r}; this version knows: {known}")
    if cls is FlowRecorded:
        record = from_json(payload)
        name = record["type"]
        model = FLOW_DTOS[name].model_validate(record["dto"])
        return FlowRecorded(at=record["at"], dto=model, key=getattr(model, FLOW_ID_FIELDS[name]))
    event: JournalEvent = _adapter(cls).validate_json(payload)
    return event


def record(seq: int, kind: str, payload: bytes | str) -> dict[str, Any]:
    """A JSON-ready dict of one entry: its payload's fields plus ``seq``, ``kind`` and ``id``."""
    out: dict[str, Any] = from_json(payload)
    cls = EVENT_TYPES.get(kind)
    out["seq"] = seq
    out["kind"] = kind
    if cls is FlowRecorded:
        out["id"] = out["dto"][FLOW_ID_FIELDS[out["type"]]]
    else:
        out["id"] = out.get(cls.id_field) if cls is not None else None
    return out


class EntryRow:
    """One stored journal entry: what stores return and ``explain`` walks.

    ``bar`` is the bar whose end committed it; ``id``/``ref`` are the event's ``primary_id()``
    and ``ref_id()``; ``payload`` its JSON.
    """

    __slots__ = ("bar", "id", "kind", "payload", "ref", "seq")

    def __init__(
        self, seq: int, bar: int, kind: str, id: str, ref: str | None, payload: bytes | str
    ) -> None:
        self.seq = seq
        self.bar = bar
        self.kind = kind
        self.id = id
        self.ref = ref
        self.payload = payload

    def record(self) -> dict[str, Any]:
        try:
            return record(self.seq, self.kind, self.payload)
        except DECODE_ERRORS as exc:
            raise self._damaged(exc) from None

    def raw(self) -> bytes:
        """The payload as bytes, as the journal hashes it."""
        payload = self.payload
        return payload.encode() if isinstance(payload, str) else payload

    def event(self) -> JournalEvent:
        try:
            return decode(self.kind, self.payload)
        except DECODE_ERRORS as exc:
            raise self._damaged(exc) from None

    def _damaged(self, exc: BaseException) -> StoreError:
        # Rows only come from a store: an entry the journal wrote always decodes.
        return StoreError(
            f"journal entry {self.seq} ({self.kind}) is corrupt and does not decode "
            f"({describe(exc)}); restore the store from a copy or start a new one"
        )

    def __repr__(self) -> str:
        return f"EntryRow(seq={self.seq}, bar={self.bar}, kind={self.kind!r}, id={self.id!r})"


class BarInfo(BaseModel):
    """A committed bar: its open time, every symbol's OHLCV and the fact values on it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bar: int
    ts: int
    first_seq: int
    last_seq: int
    market: dict[str, tuple[float | None, ...]]
    facts: dict[str, float | None]
