"""resample: OHLCV aggregation into coarser bins labelled at their start."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simpletrader.core.errors import DataError
from simpletrader.data import Bars, load_bars, resample

AGGREGATION = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


def pandas_resample(bars: Bars, rule: str) -> pd.DataFrame:
    """The independent reference: pandas' own resampler, bins closed and labelled left."""
    frame = pd.DataFrame(
        {
            "open": bars.open,
            "high": bars.high,
            "low": bars.low,
            "close": bars.close,
            "volume": bars.volume,
        },
        index=pd.to_datetime(bars.timestamps, unit="ns", utc=True),
    )
    result = frame.resample(rule, label="left", closed="left").agg(AGGREGATION)
    return result.dropna(subset=["open"])


def assert_matches(actual: Bars, expected: pd.DataFrame) -> None:
    np.testing.assert_array_equal(
        actual.timestamps, pd.DatetimeIndex(expected.index).as_unit("ns").asi8
    )
    for name in AGGREGATION:
        np.testing.assert_array_equal(getattr(actual, name), expected[name].to_numpy(), name)


def test_eurusd_hourly_to_daily_matches_pandas() -> None:
    hourly = load_bars("EURUSD_1h")
    daily = resample(hourly, "1d")

    assert_matches(daily, pandas_resample(hourly, "1D"))
    assert daily.timeframe_seconds == 86_400
    assert daily.symbol == "EURUSD"
    assert daily.volume.sum() == hourly.volume.sum()


def test_eurusd_hourly_to_four_hours_matches_pandas() -> None:
    hourly = load_bars("EURUSD_1h")
    assert_matches(resample(hourly, "4h"), pandas_resample(hourly, "4h"))


def test_weeks_start_on_monday_utc() -> None:
    daily = load_bars("GOOG_1d")
    weekly = resample(daily, "1w")

    assert_matches(weekly, pandas_resample(daily, "W-MON"))
    assert {weekly.datetime_at(i).weekday() for i in range(len(weekly))} == {0}
    # 2004-08-19 was a Thursday: its week starts on Monday 2004-08-16.
    assert weekly.datetime_at(0) == datetime(2004, 8, 16, tzinfo=UTC)


def test_same_timeframe_keeps_the_bars() -> None:
    daily = load_bars("SPX_1d")
    same = resample(daily, "1d")
    np.testing.assert_array_equal(same.timestamps, daily.timestamps)
    np.testing.assert_array_equal(same.close, daily.close)


def test_finer_target_is_rejected() -> None:
    with pytest.raises(DataError) as caught:
        resample(load_bars("EURUSD_1h"), "5m")
    assert str(caught.value) == (
        "EURUSD_1h: cannot resample 3600s bars to '5m' (300s): the target is finer than the "
        "source; expected a timeframe of at least 3600s"
    )


def test_target_that_is_not_a_multiple_is_rejected() -> None:
    with pytest.raises(DataError, match=r"expected a whole multiple of 3600s"):
        resample(load_bars("EURUSD_1h"), "90m")


@pytest.mark.parametrize("timeframe", ["1M", "0h", "h", "1y", "1.5h", ""])
def test_invalid_timeframe_is_rejected(timeframe: str) -> None:
    with pytest.raises(DataError, match=r"expected a positive count and a unit s, m, h, d or w"):
        resample(load_bars("EURUSD_1h"), timeframe)


@given(
    gaps=st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=300),
    factor=st.sampled_from([2, 3, 5, 15, 60, 1440]),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_minute_bars_with_gaps_match_pandas(gaps: list[int], factor: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    minutes = np.cumsum(gaps)
    n = len(minutes)
    close = 100 + rng.normal(size=n).cumsum()
    open_ = close + rng.normal(size=n)
    bars = Bars(
        symbol="X",
        timestamps=(1_700_000_000 // 60 + minutes) * 60 * 10**9,
        open=open_,
        high=np.maximum(open_, close) + rng.random(n),
        low=np.minimum(open_, close) - rng.random(n),
        close=close,
        volume=rng.integers(0, 100, n).astype(float),
        timeframe_seconds=60,
    )
    assert_matches(resample(bars, f"{factor}m"), pandas_resample(bars, f"{factor}min"))
