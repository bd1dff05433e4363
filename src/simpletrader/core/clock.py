"""The environment's clock. Backtests use :class:`SimulatedClock`, advanced by the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def ns_to_datetime(ns: int) -> datetime:
    """Integer nanoseconds since the epoch to a tz-aware UTC datetime.

    Truncated to the microsecond (towards the past), exactly: integer arithmetic, no float
    seconds, so ``datetime_to_ns(ns_to_datetime(ns)) == ns`` for every whole microsecond.
    """
    return _EPOCH + timedelta(microseconds=ns // 1_000)


def datetime_to_ns(moment: datetime) -> int:
    """A tz-aware datetime to integer nanoseconds since the epoch (exact, before 1970 too).

    Raises ValueError for a naive datetime: its zone would be a guess.
    """
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment.isoformat()} is naive; give it a time zone")
    return (moment - _EPOCH) // _MICROSECOND * 1_000


class Clock(Protocol):
    """What the platform reads the time from: nanoseconds since the epoch, or a UTC datetime."""

    def now_ns(self) -> int: ...
    def now(self) -> datetime: ...


class SimulatedClock:
    """A clock that only moves when the engine sets it; reads are cheap and cached."""

    __slots__ = ("_dt", "_ns")

    def __init__(self, start_ns: int = 0) -> None:
        self._ns = start_ns
        self._dt: datetime | None = None

    def set(self, ns: int) -> None:
        """Move to ``ns`` (nanoseconds since the epoch); the engine calls this, never a plugin.

        The clock does not refuse to move backwards: the engine sets a bar's open and then its
        close, and a new run may start anywhere.
        """
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
