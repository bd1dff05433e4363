"""Bars: an immutable, array-backed series keyed by open time (DESIGN.md §2 "Time")."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from simpletrader.core.errors import DataError
from simpletrader.data import Bars

HOUR_NS = 3_600 * 10**9
START = datetime(2024, 1, 1, tzinfo=UTC)


def hourly(n: int, **overrides: object) -> Bars:
    prices = np.arange(1.0, n + 1.0)
    fields: dict[str, object] = {
        "symbol": "TEST",
        "timestamps": np.arange(n, dtype=np.int64) * HOUR_NS + 1_704_067_200 * 10**9,
        "open": prices,
        "high": prices + 1,
        "low": prices - 1,
        "close": prices,
        "volume": np.ones(n),
        "source": "test",
    }
    fields.update(overrides)
    return Bars(**fields)  # type: ignore[arg-type]


def test_timeframe_is_inferred_as_the_median_spacing() -> None:
    timestamps = np.array([0, 1, 2, 3, 10], dtype=np.int64) * HOUR_NS
    assert hourly(5, timestamps=timestamps).timeframe_seconds == 3_600


def test_given_timeframe_is_kept_and_one_bar_has_none() -> None:
    assert hourly(3, timeframe_seconds=7_200).timeframe_seconds == 7_200
    assert hourly(1).timeframe_seconds is None


def test_arrays_are_read_only_contiguous_float64_views() -> None:
    closes = np.arange(1.0, 5.0)
    bars = hourly(4, close=closes, volume=[1, 2, 3, 4])

    assert bars.volume.dtype == np.float64
    assert bars.close.flags.c_contiguous
    assert np.shares_memory(bars.close, closes)
    with pytest.raises(ValueError, match="read-only"):
        bars.close[0] = 9.0
    closes[0] = 9.0  # the caller's own array stays writable
    assert bars.close[0] == 9.0


def test_bars_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        hourly(2).symbol = "OTHER"  # type: ignore[misc]


def test_datetime_at_is_tz_aware_utc_and_accepts_negative_indexes() -> None:
    bars = hourly(3)
    assert bars.datetime_at(0) == START
    assert bars.datetime_at(0).tzinfo is UTC
    assert bars.datetime_at(-1) == START + timedelta(hours=2)


def test_slice_by_time_is_half_open_and_shares_memory() -> None:
    bars = hourly(10)
    part = bars.slice_by_time(START + timedelta(hours=2), START + timedelta(hours=5))

    assert [part.datetime_at(i) for i in range(len(part))] == [
        START + timedelta(hours=h) for h in (2, 3, 4)
    ]
    assert np.shares_memory(part.close, bars.close)
    assert part.timeframe_seconds == 3_600
    assert part.source == "test"


def test_slice_by_time_with_open_sides_and_other_zones() -> None:
    bars = hourly(10)
    paris = timezone(timedelta(hours=1))
    assert len(bars.slice_by_time(None, None)) == 10
    assert len(bars.slice_by_time(START + timedelta(minutes=30), None)) == 9
    assert len(bars.slice_by_time(None, datetime(2024, 1, 1, 3, tzinfo=paris))) == 2
    assert len(bars.slice_by_time(START + timedelta(hours=5), START)) == 0


def test_slice_by_time_rejects_naive_datetimes() -> None:
    with pytest.raises(DataError, match=r"start=2024-01-01T00:00:00 has no time zone"):
        hourly(3).slice_by_time(datetime(2024, 1, 1), None)


def test_mismatched_lengths_are_rejected() -> None:
    with pytest.raises(DataError, match=r"column 'close' has shape \(2,\); expected \(3,\)"):
        hourly(3, close=np.ones(2))


def test_timestamps_must_increase() -> None:
    timestamps = np.array([0, 2, 1], dtype=np.int64) * HOUR_NS
    with pytest.raises(DataError, match=r"bar 2 at 1970-01-01T01:00:00Z is not after bar 1"):
        hourly(3, timestamps=timestamps)
