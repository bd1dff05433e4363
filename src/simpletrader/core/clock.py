"""The environment's clock. Backtests use :class:`SimulatedClock`, advanced by the engine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


def ns_to_datetime(ns: int) -> datetime:
    """Integer nanoseconds since epoch to a tz-aware UTC datetime (microsecond precision)."""
    return datetime.fromtimestamp(ns // 1_000 / 1_000_000, tz=UTC)


def datetime_to_ns(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be tz-aware")
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


class Clock(Protocol):
    def now_ns(self) -> int: ...
    def now(self) -> datetime: ...


class SimulatedClock:
    """A clock that only moves when the engine sets it; reads are cheap and cached."""

    __slots__ = ("_dt", "_ns")

    def __init__(self, start_ns: int = 0) -> None:
        self._ns = start_ns
        self._dt: datetime | None = None

    def set(self, ns: int) -> None:
        if ns != self._ns:
            self._ns = ns
            self._dt = None

    def now_ns(self) -> int:
        return self._ns

    def now(self) -> datetime:
        if self._dt is None:
            self._dt = ns_to_datetime(self._ns)
        return self._dt


class WallClock:
    """Real time, for paper and live environments."""

    def now_ns(self) -> int:
        return datetime_to_ns(datetime.now(UTC))

    def now(self) -> datetime:
        return datetime.now(UTC)
