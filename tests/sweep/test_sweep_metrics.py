"""The figures a sweep ranks by: the backtest's own metrics, and the same for stitched curves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sweep_helpers import EXAMPLE

import simpletrader.backtest
from simpletrader.sweep import run_sweep
from simpletrader.sweep.metrics import curve_metrics

DAY_NS = 86_400 * 1_000_000_000


def test_sweep_row_reports_the_backtests_own_metrics() -> None:
    row = run_sweep(EXAMPLE, workers=1).iloc[0]
    result = simpletrader.backtest(EXAMPLE)
    assert row["run_hash"] == result.run_hash
    for key in ("total_return", "sharpe", "max_drawdown", "trades"):
        assert row[key] == result.metrics[key]
    assert row["final_equity"] == round(result.final_equity, 2)


def test_curve_metrics_match_a_hand_computation() -> None:
    equity = np.array([101.0, 99.0, 104.0, 98.0, 110.0])
    stamps = np.arange(5, dtype=np.int64) * DAY_NS
    got = curve_metrics(equity, stamps, 100.0, trades=3)

    curve = pd.Series([100.0, *equity])
    returns = curve.pct_change().dropna()
    per_year = 4 / (4 / 365.25)  # four daily steps over four days
    sharpe = returns.mean() / returns.std() * math.sqrt(per_year)

    assert math.isclose(got["total_return"], 0.1, rel_tol=1e-12)
    assert math.isclose(got["sharpe"], sharpe, rel_tol=1e-12)
    assert math.isclose(got["max_drawdown"], 98 / 104 - 1, rel_tol=1e-12)
    assert got["trades"] == 3
    assert got["final_equity"] == 110.0


def test_flat_curve_has_no_sharpe_and_no_drawdown() -> None:
    stamps = np.arange(3, dtype=np.int64) * DAY_NS
    got = curve_metrics(np.full(3, 100.0), stamps, 100.0, trades=0)
    assert math.isnan(got["sharpe"])
    assert got["max_drawdown"] == 0.0
    assert got["total_return"] == 0.0
