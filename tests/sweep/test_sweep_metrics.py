"""The figures a sweep ranks by, checked against a computation written out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simpletrader.sweep.metrics import bars_per_year, equity_metrics

DAY_NS = 86_400 * 1_000_000_000


def test_metrics_of_a_small_curve_match_a_hand_computation() -> None:
    equity = np.array([101.0, 99.0, 104.0, 98.0, 110.0])
    stamps = np.arange(5, dtype=np.int64) * DAY_NS
    got = equity_metrics(equity, stamps, 100.0, trades=3)

    curve = pd.Series([100.0, *equity])
    returns = curve.pct_change().dropna()
    per_year = 4 / (4 / 365.25)  # four daily steps over four days
    sharpe = returns.mean() / returns.std() * math.sqrt(per_year)
    drawdown = (curve / curve.cummax() - 1).min()

    assert got["total_return"] == 0.10000000000000009
    assert math.isclose(got["sharpe"], sharpe, rel_tol=1e-12)
    assert math.isclose(got["max_drawdown"], drawdown, rel_tol=1e-12)
    assert math.isclose(got["max_drawdown"], 98 / 104 - 1, rel_tol=1e-12)
    assert got["trades"] == 3
    assert got["final_equity"] == 110.0


def test_flat_curve_has_no_sharpe_and_no_drawdown() -> None:
    stamps = np.arange(3, dtype=np.int64) * DAY_NS
    got = equity_metrics(np.full(3, 100.0), stamps, 100.0, trades=0)
    assert math.isnan(got["sharpe"])
    assert got["max_drawdown"] == 0.0
    assert got["total_return"] == 0.0


def test_bars_per_year_follows_the_data_calendar() -> None:
    weekdays = pd.bdate_range("2020-01-01", "2021-12-31", tz="UTC").as_unit("ns").asi8
    assert 255 < bars_per_year(weekdays) < 263
    minutes = np.arange(10_000, dtype=np.int64) * 60 * 1_000_000_000
    assert math.isclose(bars_per_year(minutes), 365.25 * 1440, rel_tol=1e-9)
    assert math.isnan(bars_per_year(minutes[:1]))
