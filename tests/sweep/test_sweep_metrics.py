"""The figures a sweep ranks by: the backtest's own metrics, and the same for stitched curves."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import EXAMPLE, FAST, backtest_alone, edited_blueprint_text

import simpletrader.backtest
from simpletrader.backtest.result import Result
from simpletrader.config.loader import parse_blueprint
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


@pytest.mark.parametrize("start", [None, "2004-09-17", "2008-01-02"])
def test_a_sweep_row_with_warm_up_is_the_plain_backtest_alone(start: str | None) -> None:
    # 20 bars of GOOG_1d come before 2004-09-17: less than the warm-up asked for.
    changes = {"data.warmup_bars": 60, "data.start": start}
    blueprint = parse_blueprint(edited_blueprint_text(changes))
    frame = run_sweep(blueprint, {FAST: [5, 10]}, workers=1, base_dir=EXAMPLE.parent)
    for row in frame.to_dict("records"):
        plain = Result(backtest_alone({**changes, FAST: int(row[FAST])}))
        assert plain.warmup_bars == (20 if start == "2004-09-17" else 60)
        assert row["run_hash"] == plain.run_hash
        assert row["bars"] == plain.n_bars
        for key in ("total_return", "sharpe", "max_drawdown", "trades"):
            assert row[key] == plain.metrics[key], key
        assert row["final_equity"] == round(plain.final_equity, 2)


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
