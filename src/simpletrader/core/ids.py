"""Identifiers: ``PREFIX_YYYYMMDD_HHMMSS_<8 hex>``.

The time part comes from the environment's clock (the simulated one in backtests); the hex part
from a seedable stream, so identical runs produce identical ids. One :class:`IdFormat` per
prefix both generates and validates; the pydantic id types below reuse its pattern, so a dumped
DTO always reloads.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from functools import lru_cache
from random import Random
from typing import Annotated, Final

from pydantic import StringConstraints


class IdFormat:
    """The format of one id prefix: generates ids and validates them with the same regex."""

    __slots__ = ("meaning", "pattern", "prefix", "regex")

    def __init__(self, prefix: str, meaning: str) -> None:
        self.prefix = prefix
        self.meaning = meaning
        self.pattern = rf"^{prefix}_[0-9]{{8}}_[0-9]{{6}}_[0-9a-f]{{8}}$"
        self.regex = re.compile(self.pattern)

    def format(self, stamp: str, bits: int) -> str:
        """Build an id from a ``YYYYMMDD_HHMMSS`` stamp and 32 random bits."""
        return f"{self.prefix}_{stamp}_{bits:08x}"

    def is_valid(self, value: str) -> bool:
        return self.regex.fullmatch(value) is not None

    def __repr__(self) -> str:
        return f"IdFormat({self.prefix!r})"


ID_FORMATS: Final[dict[str, IdFormat]] = {
    f.prefix: f
    for f in (
        IdFormat("TCK", "tick origin"),
        IdFormat("SCH", "schedule origin"),
        IdFormat("NWS", "news origin"),
        IdFormat("SIG", "signal"),
        IdFormat("RSK", "risk"),
        IdFormat("STR", "strategy directive"),
        IdFormat("ENT", "entry plan"),
        IdFormat("SIZ", "size plan"),
        IdFormat("EXT", "exit plan"),
        IdFormat("EXP", "execution plan"),
        IdFormat("EXC", "execution command"),
        IdFormat("BAT", "execution command batch"),
        IdFormat("TPL", "trade plan"),
        IdFormat("EXG", "execution group"),
        IdFormat("ORD", "order"),
        IdFormat("FIL", "fill"),
        IdFormat("JRN", "journal entry"),
        IdFormat("RUN", "run"),
    )
}
ORIGIN_PREFIXES: Final = ("TCK", "SCH", "NWS")


def _id_type(*prefixes: str) -> object:
    pattern = "|".join(ID_FORMATS[p].pattern for p in prefixes)
    if len(prefixes) > 1:
        pattern = "^(?:" + "|".join(ID_FORMATS[p].pattern[1:-1] for p in prefixes) + ")$"
    return StringConstraints(pattern=pattern)


OriginId = Annotated[str, _id_type(*ORIGIN_PREFIXES)]
SignalId = Annotated[str, _id_type("SIG")]
RiskId = Annotated[str, _id_type("RSK")]
DirectiveId = Annotated[str, _id_type("STR")]
EntryPlanId = Annotated[str, _id_type("ENT")]
SizePlanId = Annotated[str, _id_type("SIZ")]
ExitPlanId = Annotated[str, _id_type("EXT")]
ExecutionPlanId = Annotated[str, _id_type("EXP")]
PlanId = Annotated[str, _id_type("ENT", "SIZ", "EXT", "EXP")]
CommandId = Annotated[str, _id_type("EXC")]
BatchId = Annotated[str, _id_type("BAT")]
TradePlanId = Annotated[str, _id_type("TPL")]
GroupId = Annotated[str, _id_type("EXG")]
OrderId = Annotated[str, _id_type("ORD")]
FillId = Annotated[str, _id_type("FIL")]
JournalEntryId = Annotated[str, _id_type("JRN")]
RunId = Annotated[str, _id_type("RUN")]


def prefix_of(value: str) -> str:
    """The prefix of a well-formed id (``ValueError`` otherwise)."""
    prefix = value.split("_", 1)[0]
    fmt = ID_FORMATS.get(prefix)
    if fmt is None or not fmt.is_valid(value):
        raise ValueError(f"{value!r} is not a simpletrader id (PREFIX_YYYYMMDD_HHMMSS_<8 hex>)")
    return prefix


_TWO_DIGITS: Final = tuple(f"{n:02d}" for n in range(60))


def stamp_of(moment: datetime | int) -> str:
    """``YYYYMMDD_HHMMSS`` in UTC for a tz-aware datetime or integer nanoseconds since epoch."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("ids need a tz-aware timestamp")
        return moment.astimezone(UTC).strftime("%Y%m%d_%H%M%S")
    return _stamp_of_second(moment // 1_000_000_000)


@lru_cache(maxsize=64)
def _date_of_day(day: int) -> str:
    return time.strftime("%Y%m%d_", time.gmtime(day * 86_400))


def _stamp_of_second(second: int) -> str:
    # A simulated clock moves a bar at a time: the date changes once a day, so only the time
    # of day is built here, from a table (strftime costs a microsecond).
    day, second = divmod(second, 86_400)
    minute, second = divmod(second, 60)
    hour, minute = divmod(minute, 60)
    two = _TWO_DIGITS
    return _date_of_day(day) + two[hour] + two[minute] + two[second]


class _Heads:
    """The stamp and ``PREFIX_STAMP_`` heads of the latest second packed or unpacked: records
    are made and read in time order, so most calls find their second here."""

    __slots__ = ("heads", "second", "stamp")

    def __init__(self) -> None:
        self.second: int | None = None
        self.stamp = ""
        self.heads: dict[str, str] = {}

    def share(self, second: int, stamp: str) -> dict[str, str]:
        """Start ``second`` (whose stamp is ``stamp``) and hand out its heads to fill."""
        self.second, self.stamp, self.heads = second, stamp, {}
        return self.heads

    def head(self, prefix: str, moment_ns: int) -> str:
        second = moment_ns // 1_000_000_000
        if second != self.second:
            self.stamp = _stamp_of_second(second)
            self.second = second
            self.heads = {}
        head = self.heads.get(prefix)
        if head is None:
            head = self.heads[prefix] = f"{prefix}_{self.stamp}_"
        return head


_HEADS = _Heads()


def pack_id(value: str, prefix: str, moment_ns: int) -> int | str:
    """``value`` as its 32 random bits if it is exactly an id of ``prefix`` stamped in the second
    of ``moment_ns``, else ``value`` itself; :func:`unpack_id` gives the string back.

    For records that keep an id next to the instant it was drawn at: the bits take 32 bytes,
    the string 80.
    """
    heads = _HEADS
    head = heads.heads.get(prefix) if moment_ns // 1_000_000_000 == heads.second else None
    if head is None:
        head = heads.head(prefix, moment_ns)
    # One slice and compare: equal only when ``value`` is ``head`` and eight more characters.
    if value[:-8] != head:
        return value
    tail = value[-8:]
    try:
        bits = int(tail, 16)
    except ValueError:
        return value
    # ``int`` also reads signs, spaces, underscores and capitals: only the canonical form packs.
    if bits >= 0 and bits.to_bytes(4, "big").hex() == tail:
        return bits
    return value


def unpack_id(packed: int | str, prefix: str, moment_ns: int) -> str:
    """The id :func:`pack_id` was given for the same ``prefix`` and ``moment_ns``."""
    if isinstance(packed, str):
        return packed
    return _HEADS.head(prefix, moment_ns) + packed.to_bytes(4, "big").hex()


_BLOCK_WORDS = 256


class IdGenerator:
    """Seeded id source. Ids drawn in one second share a cached ``PREFIX_STAMP_`` head, and
    the random tails are drawn in blocks, so an id costs a list pop and one string join on the
    hot path."""

    __slots__ = ("_draw", "_heads", "_last_key", "_last_stamp", "_moment", "_rng", "_tails")

    def __init__(self, seed: int | None = None) -> None:
        self._rng = Random(seed)
        self._draw = self._rng.getrandbits
        self._tails: list[str] = []
        self._last_key: int | None = None
        self._last_stamp = ""
        self._heads: dict[str, str] = {}
        # The int instant of the last draw: a flow draws a dozen ids at one instant, and an
        # equal instant needs no second (floor division) or type check.
        self._moment: int | None = None

    def stamp(self, moment: datetime | int) -> str:
        self._moment = None
        if isinstance(moment, datetime):
            if moment.tzinfo is None:
                raise ValueError("ids need a tz-aware timestamp")
            key = int(moment.timestamp())
            if key != self._last_key:
                self._last_stamp = stamp_of(moment)
        else:
            key = moment // 1_000_000_000
            if key != self._last_key:
                self._last_stamp = _stamp_of_second(key)
                self._last_key = key
                # Shared with pack_id: records are packed in the second their ids were drawn.
                self._heads = _HEADS.share(key, self._last_stamp)
            return self._last_stamp
        if key != self._last_key:
            self._last_key = key
            self._heads = {}
        return self._last_stamp

    def new(self, prefix: str, moment: datetime | int) -> str:
        """A fresh id of ``prefix`` stamped with ``moment`` (the environment's clock)."""
        if moment != self._moment:
            if type(moment) is not int or moment // 1_000_000_000 != self._last_key:
                self.stamp(moment)
            if type(moment) is int:
                self._moment = moment
        head = self._heads.get(prefix)
        if head is None:
            if prefix not in ID_FORMATS:
                raise KeyError(prefix)
            head = self._heads[prefix] = f"{prefix}_{self._last_stamp}_"
        tails = self._tails
        if not tails:
            tails = self._refill()
        return head + tails.pop()

    def _refill(self) -> list[str]:
        """The next block of tails, the first due last (so ``pop`` hands them out in order).

        ``getrandbits(32 * n)`` is the next n 32-bit draws, the first in the lowest bits, so
        the block's big-endian hex holds the tails ``f"{draw:08x}"`` of n single draws from the
        last to the first: ids are the same as drawing each alone.
        """
        text = self._draw(32 * _BLOCK_WORDS).to_bytes(4 * _BLOCK_WORDS, "big").hex()
        self._tails = [text[i : i + 8] for i in range(0, 8 * _BLOCK_WORDS, 8)]
        return self._tails


def new_run_id(moment: datetime | None = None) -> str:
    """A run id, drawn outside every seeded stream so runs never collide in a store."""
    when = moment if moment is not None else datetime.now(UTC)
    return ID_FORMATS["RUN"].format(stamp_of(when), secrets.randbits(32))
