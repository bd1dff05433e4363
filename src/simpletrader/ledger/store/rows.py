"""How one bar's entries are packed into one ``bars`` row, and unpacked again.

``meta`` is a JSON array holding kind, id and ref of each entry in turn ('' for no ref);
``payloads`` the entries' compact JSON, one a line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from simpletrader.journal.codec import EntryRow

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
