"""The append-only journal: the run's source of truth.

Entries are kept as compact event objects while fresh and serialised in bulk into compressed
chunks (JSON lines), which also feed the running ``run_hash``. Sinks (a store) receive the
entries of each bar that appended any, so a store can commit one transaction per bar.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import fields
from decimal import Decimal
from enum import Enum
from typing import Any, get_args, get_type_hints

from pydantic import BaseModel

from simpletrader import dtos
from simpletrader.journal import events as ev

EVENT_TYPES: dict[str, type[ev.JournalEvent]] = {
    cls.kind: cls
    for cls in (
        ev.FlowRecorded,
        ev.DirectiveNotPlanned,
        ev.TradePlanOpened,
        ev.TradePlanClosed,
        ev.GroupCreated,
        ev.GroupStatusChanged,
        ev.OrderSubmitted,
        ev.OrderStatusChanged,
        ev.OrderFilled,
        ev.CommandEnded,
        ev.BatchEnded,
    )
}
FLOW_DTOS: dict[str, type[BaseModel]] = {
    name: getattr(dtos, name)
    for name in ("Origin", "Signal", "Risk", "StrategyDirective", "ExecutionCommandBatch")
}

Entry = tuple[int, ev.JournalEvent]
Sink = Callable[[list[Entry]], None]


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot serialise {type(value).__name__}")


def encode_entry(seq: int, event: ev.JournalEvent) -> dict[str, Any]:
    record = event.to_record()
    record["seq"] = seq
    record["kind"] = event.kind
    record["id"] = event.primary_id()
    return record


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, default=_default, sort_keys=True, separators=(",", ":"))


class _Decoder:
    """Rebuilds event objects from their records (journal replay, store reads)."""

    def __init__(self) -> None:
        self._converters: dict[str, dict[str, Callable[[Any], Any]]] = {}
        for kind, cls in EVENT_TYPES.items():
            hints = get_type_hints(cls)
            conv: dict[str, Callable[[Any], Any]] = {}
            for f in fields(cls):  # type: ignore[arg-type]
                conv[f.name] = _converter(hints[f.name])
            self._converters[kind] = conv

    def decode(self, record: dict[str, Any]) -> ev.JournalEvent:
        kind = record["kind"]
        cls = EVENT_TYPES[kind]
        if cls is ev.FlowRecorded:
            model = FLOW_DTOS[record["type"]].model_validate(record["dto"])
            return ev.FlowRecorded(at=record["at"], dto=model, key=record["id"])
        conv = self._converters[kind]
        return cls(**{name: fn(record[name]) for name, fn in conv.items()})


def _converter(hint: Any) -> Callable[[Any], Any]:
    args = [a for a in get_args(hint) if a is not type(None)]
    target = args[0] if args else hint
    if isinstance(target, type) and issubclass(target, Enum):
        enum_type = target
        return lambda v: None if v is None else enum_type(v)
    if target is Decimal:
        return lambda v: None if v is None else Decimal(v)
    return lambda v: v


_DECODER: _Decoder | None = None


def decode_entry(record: dict[str, Any]) -> ev.JournalEvent:
    global _DECODER
    if _DECODER is None:
        _DECODER = _Decoder()
    return _DECODER.decode(record)


class Journal:
    """Append-only log of journal events with a running hash."""

    __slots__ = ("_bar_mark", "_chunk_size", "_chunks", "_hasher", "_pending", "_seq", "_sinks")

    def __init__(self, chunk_size: int = 4096) -> None:
        self._chunk_size = chunk_size
        self._pending: list[ev.JournalEvent] = []
        self._chunks: list[bytes] = []
        self._hasher = hashlib.blake2b(digest_size=16)
        self._seq = 0
        self._bar_mark = 0
        self._sinks: list[Sink] = []

    def __len__(self) -> int:
        return self._seq

    def append(self, event: ev.JournalEvent) -> int:
        """Append one event; return its sequence number (1-based)."""
        self._pending.append(event)
        self._seq += 1
        if len(self._pending) >= self._chunk_size and not self._sinks:
            self._flush()
        return self._seq

    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    def end_bar(self) -> None:
        """Hand the bar's entries to the sinks (one store transaction per active bar)."""
        if self._seq == self._bar_mark:
            return
        if self._sinks:
            first = self._seq - len(self._pending) + 1
            start = self._bar_mark - first + 1
            entries = [(first + k, e) for k, e in enumerate(self._pending[start:], start)]
            for sink in self._sinks:
                sink(entries)
            if len(self._pending) >= self._chunk_size:
                self._flush()
        self._bar_mark = self._seq

    def _flush(self) -> None:
        if not self._pending:
            return
        first = self._seq - len(self._pending) + 1
        lines = [dumps(encode_entry(first + k, e)) for k, e in enumerate(self._pending)]
        blob = ("\n".join(lines) + "\n").encode()
        self._hasher.update(blob)
        self._chunks.append(zlib.compress(blob, 1))
        self._pending = []

    @property
    def run_hash(self) -> str:
        """Hash over every entry so far; identical runs give identical hashes."""
        self._flush()
        return self._hasher.hexdigest()

    def records(self) -> Iterator[dict[str, Any]]:
        """Every entry as a JSON-ready record, in sequence order."""
        self._flush()
        for chunk in self._chunks:
            for line in zlib.decompress(chunk).decode().splitlines():
                yield json.loads(line)

    def events(self) -> Iterator[ev.JournalEvent]:
        """Every entry decoded back into its event object (for replay)."""
        for record in self.records():
            yield decode_entry(record)
