"""``Bars``: one symbol's OHLCV series as contiguous numpy arrays, the backtest's hot-path input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from simpletrader.core.errors import DataError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_SECOND = 1_000_000_000
_NS_PER_MICROSECOND = 1_000


@dataclass(frozen=True, slots=True)
class Bars:
    """One symbol's bars, oldest first.

    ``timestamps`` are int64 nanoseconds since the Unix epoch, UTC, and mark each bar's OPEN
    time; they are strictly increasing. ``open``/``high``/``low``/``close``/``volume`` are float64.
    All arrays are C-contiguous, of equal length and read-only (the arrays are shared, never
    copied, by slicing). ``source`` is the file path or sample name, used in messages.
    ``timeframe_seconds`` is the bar length; when not given it is inferred as the median spacing
    between timestamps (None for fewer than two bars).

    Construction checks shapes, dtypes and timestamp order only; price consistency is checked
    by the loader, which is the boundary for outside data.
    """

    symbol: str
    timestamps: npt.NDArray[np.int64]
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    volume: npt.NDArray[np.float64]
    source: str = ""
    timeframe_seconds: int | None = field(default=None)

    def __post_init__(self) -> None:
        # object.__setattr__ because the dataclass is frozen; the coercions are no-ops (no copy)
        # for arrays that already have the right dtype and layout, which is the loader's case.
        timestamps = _frozen_array(self.timestamps, np.int64)
        object.__setattr__(self, "timestamps", timestamps)
        n = len(timestamps)
        for name in ("open", "high", "low", "close", "volume"):
            array = _frozen_array(getattr(self, name), np.float64)
            if array.shape != (n,):
                raise DataError(
                    f"{self._where()}: column '{name}' has shape {array.shape}; expected ({n},) "
                    f"like 'timestamps'"
                )
            object.__setattr__(self, name, array)
        if n > 1:
            steps = np.diff(timestamps)
            bad = steps <= 0
            if bad.any():
                i = int(bad.argmax()) + 1
                raise DataError(
                    f"{self._where()}: bar {i} at {_iso(int(timestamps[i]))} is not after bar "
                    f"{i - 1} at {_iso(int(timestamps[i - 1]))}; expected strictly increasing "
                    f"timestamps"
                )
            if self.timeframe_seconds is None:
                object.__setattr__(
                    self, "timeframe_seconds", int(np.median(steps)) // _NS_PER_SECOND
                )
        if self.timeframe_seconds is not None and self.timeframe_seconds <= 0:
            raise DataError(
                f"{self._where()}: timeframe_seconds={self.timeframe_seconds}; expected > 0"
            )

    def __len__(self) -> int:
        return len(self.timestamps)

    def datetime_at(self, index: int) -> datetime:
        """The open time of bar ``index`` (negative counts from the end) as a tz-aware UTC
        datetime, truncated to microseconds (datetime's resolution)."""
        return _to_datetime(int(self.timestamps[index]))

    def slice_by_time(self, start: datetime | None = None, end: datetime | None = None) -> Bars:
        """The bars whose open time is in ``[start, end)``; None leaves that side open.

        Half-open, so consecutive slices never share a bar. ``start`` and ``end`` must be
        tz-aware. The result shares this object's arrays (no copy) and keeps its timeframe.
        """
        lo = 0 if start is None else int(np.searchsorted(self.timestamps, _to_ns(start, "start")))
        hi = (
            len(self)
            if end is None
            else int(np.searchsorted(self.timestamps, _to_ns(end, "end"), side="left"))
        )
        hi = max(lo, hi)
        return Bars(
            symbol=self.symbol,
            timestamps=self.timestamps[lo:hi],
            open=self.open[lo:hi],
            high=self.high[lo:hi],
            low=self.low[lo:hi],
            close=self.close[lo:hi],
            volume=self.volume[lo:hi],
            source=self.source,
            timeframe_seconds=self.timeframe_seconds,
        )

    def _where(self) -> str:
        return f"{self.source or '<bars>'} ({self.symbol})"


def _frozen_array(values: object, dtype: type[np.generic]) -> npt.NDArray[np.generic]:
    """A read-only, C-contiguous, one-dimensional view of ``values`` as ``dtype``.

    A view, so freezing it does not make the caller's own array read-only.
    """
    array = np.ascontiguousarray(values, dtype=dtype)
    if array.ndim != 1:
        raise DataError(f"bar arrays must be one-dimensional; got shape {array.shape}")
    view = array.view()
    view.flags.writeable = False
    return view


def _to_ns(moment: datetime, name: str) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DataError(
            f"slice_by_time: {name}={moment.isoformat()} has no time zone; pass a tz-aware "
            f"datetime such as datetime(2020, 1, 1, tzinfo=UTC)"
        )
    # Integer arithmetic on timedeltas: datetime.timestamp() is a float and loses microseconds.
    return ((moment - _EPOCH) // timedelta(microseconds=1)) * _NS_PER_MICROSECOND


def _to_datetime(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // _NS_PER_MICROSECOND)


def _iso(ns: int) -> str:
    return _to_datetime(ns).isoformat().replace("+00:00", "Z")
