"""How one bar's entries are packed into one ``bars`` row, and unpacked again.

``meta`` is a JSON array holding kind, id and ref of each entry in turn ('' for no ref);
``payloads`` the entries' compact JSON, one a line; ``bar_end`` the bar's open time (int64
ns) then every symbol's open, high, low, close and volume then every fact value (doubles,
little-endian), in the order ``runs.bar_layout`` names them (no facts when the row is short).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Sequence
from math import isfinite

from simpletrader.journal.codec import BarInfo, EntryRow

_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_ESCAPED = bytes(range(32)) + b'"\\'  # what JSON escapes in a string


def pack_meta(meta: list[str | None]) -> str:
    """``meta`` as a JSON array of strings, None written as ''.

    Ids are plain text in practice, so quoting and joining them is enough (and several times
    cheaper than ``json.dumps``); anything that would need escaping takes the slow path.
    """
    try:
        inner = '","'.join(meta)  # type: ignore[arg-type]  # a None raises: slow path
    except TypeError:
        return pack_meta(["" if m is None else m for m in meta])
    raw = inner.encode()
    # The separators hold 2 * (len - 1) quotes; anything more to escape is in the values.
    if len(raw) - len(raw.translate(None, _ESCAPED)) != 2 * len(meta) - 2:
        return json.dumps(meta, ensure_ascii=False)
    return '["' + inner + '"]'


def plain(text: str) -> bool:
    """Whether ``text`` is written as is between quotes in a JSON string (so ``instr`` finds it)."""
    return _NEEDS_ESCAPE.search(text) is None


def unpack(bar: int, first_seq: int, meta: str, payloads: str) -> list[EntryRow]:
    """The entries of one ``bars`` row, in sequence order."""
    fields: Sequence[str] = json.loads(meta)
    return [
        EntryRow(first_seq + j, bar, fields[3 * j], fields[3 * j + 1], fields[3 * j + 2] or None, p)
        for j, p in enumerate(payloads.split("\n"))
    ]


def bar_layout(symbols: Sequence[str], facts: Sequence[str]) -> str:
    """What ``bar_end`` holds, as ``runs.bar_layout`` records it."""
    return json.dumps({"symbols": list(symbols), "facts": list(facts)})


class BarReader:
    """Unpacks the ``bar_end`` of one run's rows (``layout``: its ``runs.bar_layout``)."""

    def __init__(self, layout: str) -> None:
        spec = json.loads(layout)
        self.symbols: list[str] = spec["symbols"]
        self.facts: list[str] = spec["facts"]
        self.market_size = struct.calcsize("<q" + "d" * 5 * len(self.symbols))

    def read(self, bar: int, first_seq: int, n: int, end: bytes) -> BarInfo:
        facts = len(self.facts) if len(end) > self.market_size else 0
        ts, *values = struct.unpack("<q" + "d" * (5 * len(self.symbols) + facts), end)
        known = [v if isfinite(v) else None for v in values]
        return BarInfo(
            bar=bar,
            ts=ts,
            first_seq=first_seq,
            last_seq=first_seq + n - 1,
            market={s: tuple(known[5 * i : 5 * i + 5]) for i, s in enumerate(self.symbols)},
            facts=dict(zip(self.facts[:facts], known[5 * len(self.symbols) :], strict=True)),
        )
