"""align: several symbols on the intersection of their calendars."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from simpletrader.core.errors import DataError
from simpletrader.data import Bars, align, load_bars


def without_rows(bars: Bars, rows: list[int], symbol: str | None = None) -> Bars:
    keep = np.setdiff1d(np.arange(len(bars)), rows)
    return Bars(
        symbol=symbol or bars.symbol,
        timestamps=bars.timestamps[keep],
        open=bars.open[keep],
        high=bars.high[keep],
        low=bars.low[keep],
        close=bars.close[keep],
        volume=bars.volume[keep],
        source=bars.source,
    )


def test_spx_and_nasdaq_share_one_calendar(caplog: pytest.LogCaptureFixture) -> None:
    spx, nasdaq = load_bars("SPX_1d"), load_bars("NASDAQ_1d")
    with caplog.at_level(logging.INFO, logger="simpletrader.data.alignment"):
        aligned_spx, aligned_nasdaq = align([spx, nasdaq])

    assert len(aligned_spx) == len(aligned_nasdaq) == 5031
    np.testing.assert_array_equal(aligned_spx.timestamps, aligned_nasdaq.timestamps)
    np.testing.assert_array_equal(aligned_nasdaq.close, nasdaq.close)
    assert [record.getMessage() for record in caplog.records] == [
        "align: SPX keeps 5031 of 5031 bars, dropped 0 not shared by all symbols",
        "align: NASDAQ keeps 5031 of 5031 bars, dropped 0 not shared by all symbols",
    ]


def test_a_timestamp_missing_from_one_symbol_is_dropped_from_all(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spx = without_rows(load_bars("SPX_1d"), [0, 10, 11])
    nasdaq = without_rows(load_bars("NASDAQ_1d"), [11, 5030])
    with caplog.at_level(logging.INFO, logger="simpletrader.data.alignment"):
        aligned_spx, aligned_nasdaq = align([spx, nasdaq])

    assert len(aligned_spx) == len(aligned_nasdaq) == 5031 - 4
    np.testing.assert_array_equal(aligned_spx.timestamps, aligned_nasdaq.timestamps)
    original = load_bars("NASDAQ_1d")
    rows = np.searchsorted(original.timestamps, aligned_nasdaq.timestamps)
    np.testing.assert_array_equal(aligned_nasdaq.close, original.close[rows])
    messages = [record.getMessage() for record in caplog.records]
    assert "align: SPX keeps 5027 of 5028 bars, dropped 1 not shared by all symbols" in messages
    assert "align: NASDAQ keeps 5027 of 5029 bars, dropped 2 not shared by all symbols" in messages


def test_repeated_symbols_are_rejected() -> None:
    spx = load_bars("SPX_1d")
    with pytest.raises(DataError, match=r"align: symbol SPX given more than once"):
        align([spx, load_bars("NASDAQ_1d"), spx])


def test_disjoint_calendars_are_rejected() -> None:
    spx = load_bars("SPX_1d")
    early, late = (
        spx.slice_by_time(None, spx.datetime_at(100)),
        spx.slice_by_time(spx.datetime_at(100), None),
    )
    late = without_rows(late, [], symbol="LATE")
    with pytest.raises(DataError) as caught:
        align([early, late])
    assert str(caught.value) == (
        "align: the symbols share no timestamp (SPX 1999-01-04..1999-05-26, LATE "
        "1999-05-27..2018-12-31); expected overlapping calendars"
    )


def test_different_timeframes_are_rejected() -> None:
    eurusd = load_bars("EURUSD_1h")
    with pytest.raises(DataError, match=r"different timeframes \(EURUSD=3600s, GOOG=86400s\)"):
        align([eurusd, load_bars("GOOG_1d")])


def test_nothing_to_align_is_rejected() -> None:
    with pytest.raises(DataError, match=r"no bars given"):
        align([])
