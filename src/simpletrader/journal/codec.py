"""Serialising journal events to JSON and back, deterministically and in bulk.

An entry's *payload* is its event as a compact JSON object: dataclass fields in declaration
order, Decimals as strings, enums as their values. Flow entries hold ``{"at", "type", "dto"}``
with the DTO's fields that differ from their defaults. An entry's *line* is
``kind TAB payload LF``; the run hash is a hash over the lines, so it depends only on the
entries (not on process, hash seed or store).

Each event class gets a compiled pydantic serializer and validator the first time it is seen,
which costs about 2 µs per entry either way, several times less than ``json.dumps``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic_core import from_json

from simpletrader import dtos
from simpletrader.core.errors import StoreError
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

Encoder = Callable[[Any], bytes]

_ADAPTERS: dict[type[JournalEvent], TypeAdapter[Any]] = {}
_ENCODERS: dict[type, Encoder] = {}


def _adapter(cls: type[JournalEvent]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


def _encode_flow(event: FlowRecorded) -> bytes:
    # Fields equal to their defaults are left out: directives and batches shrink by half or
    # more, which matters at one row per entry. A changed DTO default is therefore a change
    # of the stored format (see docs/journal.md).
    dto = event.dto
    return b'{"at":%d,"type":"%s","dto":%s}' % (
        event.at,
        type(dto).__name__.encode(),
        dto.__pydantic_serializer__.to_json(dto, exclude_defaults=True),
    )


def _encoder(cls: type) -> Encoder:
    encoder = _ENCODERS.get(cls)
    if encoder is None:
        encoder = _encode_flow if cls is FlowRecorded else _adapter(cls).serializer.to_json
        _ENCODERS[cls] = encoder
    return encoder


def encode(event: JournalEvent) -> bytes:
    """The payload of one event."""
    return _encoder(type(event))(event)


def encode_many(events: Iterable[JournalEvent]) -> list[bytes]:
    """The payloads of many events (the bulk path: one dict lookup per entry)."""
    encoders = _ENCODERS
    out = []
    for event in events:
        cls = type(event)
        encoder = encoders.get(cls) or _encoder(cls)
        out.append(encoder(event))
    return out


def line(kind: str, payload: bytes) -> bytes:
    """The hashed, chunked form of one entry: ``kind TAB payload LF``."""
    return b"%s\t%s\n" % (kind.encode(), payload)


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
        return record(self.seq, self.kind, self.payload)

    def raw(self) -> bytes:
        """The payload as bytes, as the journal hashes it."""
        payload = self.payload
        return payload.encode() if isinstance(payload, str) else payload

    def event(self) -> JournalEvent:
        return decode(self.kind, self.payload)

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
