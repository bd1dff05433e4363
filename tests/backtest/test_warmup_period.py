"""Warm-up (``data.warmup_bars``): the bars put before ``start``, untraded and left out of every
figure, table and chart of the run, which cover the traded period alone."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import simpletrader
from simpletrader.backtest.report import equity_figure, price_figure
from simpletrader.backtest.result import Result
from simpletrader.core.errors import ConfigError, DataError

# GOOG_1d begins 2004-08-19: 20 daily bars come before this start.
SHORT_START = "2004-09-17"
SHORT_HISTORY = 20
START = "2006-01-03"
WARMUP = 50
CASH = 100_000.0


def _run(**kwargs: object) -> Result:
    return simpletrader.backtest(**kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def warm() -> Result:
    return _run(start=START, end="2009-12-31", data__warmup_bars=WARMUP)


def test_a_start_with_less_history_than_the_warm_up_trades_from_the_start() -> None:
    period = {"start": SHORT_START, "end": "2005-06-30"}
    asked = _run(data__warmup_bars=100, **period)
    enough = _run(data__warmup_bars=SHORT_HISTORY, **period)
    assert asked.warmup_bars == enough.warmup_bars == SHORT_HISTORY
    assert asked.run_hash == enough.run_hash
    pd.testing.assert_frame_equal(asked.trades, enough.trades)
    assert asked.start == pd.Timestamp(SHORT_START, tz="UTC")
    # The flow runs from the start: a trade opens within the 80 bars a warm-up of 100 counted
    # from the data's first bar would have kept idle.
    entries = asked.trades["entry_time"]
    assert entries.min() >= asked.start
    assert entries.min() < asked.equity.index[100 - SHORT_HISTORY]


def test_without_a_start_the_first_warm_up_bars_are_the_warm_up() -> None:
    result = _run(end="2006-12-31", data__warmup_bars=WARMUP)
    loaded = result.run.bars["GOOG"]
    assert result.warmup_bars == WARMUP
    assert result.n_bars == len(loaded) - WARMUP == len(result.equity)
    assert result.start == pd.Timestamp(loaded.datetime_at(WARMUP))
    assert (result.trades["entry_time"] >= result.start).all()


def test_a_warm_up_leaving_no_bar_to_trade_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"data\.warmup_bars: 5000 leaves no bar to trade"):
        _run(data__warmup_bars=5000)
    with pytest.raises(DataError, match=r"start 2030-01-01 is after the last bar \(2013-"):
        _run(start="2030-01-01", data__warmup_bars=10)


def test_the_period_shown_is_the_traded_one(warm: Result) -> None:
    loaded = warm.run.bars["GOOG"]
    assert warm.warmup_bars == WARMUP
    assert warm.start == pd.Timestamp(START, tz="UTC")
    assert warm.n_bars == len(loaded) - WARMUP
    summary = warm.summary()
    assert summary["start"] == f"{START}T00:00:00+00:00"
    assert summary["bars"] == warm.n_bars
    assert summary["warmup_bars"] == WARMUP
    # The warm-up was loaded and flat: nothing traded on it.
    assert np.all(warm.run.ledger.equity_curve[:WARMUP] == CASH)
    assert len(loaded) == warm.n_bars + WARMUP


def test_the_equity_table_has_no_warm_up_rows(warm: Result) -> None:
    equity = warm.equity
    assert len(equity) == warm.n_bars
    assert equity.index[0] == warm.start
    assert equity.index[-1] == warm.end
    np.testing.assert_array_equal(
        equity["equity"].to_numpy(), warm.run.ledger.equity_curve[WARMUP:]
    )


def _independent_figures(result: Result) -> dict[str, float]:
    """The curve's figures from the bars on and after the blueprint's start, with pandas."""
    bars = result.run.bars["GOOG"]
    stamps = pd.to_datetime(np.asarray(bars.timestamps), utc=True)
    traded = stamps >= pd.Timestamp(START, tz="UTC")
    equity = pd.Series(result.run.ledger.equity_curve[traded], index=stamps[traded])
    close = pd.Series(np.asarray(bars.close)[traded], index=stamps[traded])
    n = len(equity)
    span_years = (equity.index[-1] - equity.index[0]).total_seconds() / (365.25 * 86_400)
    per_year = (n - 1) / span_years
    returns = pd.concat([pd.Series([CASH]), equity.reset_index(drop=True)]).pct_change().dropna()
    with_start = pd.concat([pd.Series([CASH]), equity.reset_index(drop=True)])
    drawdown = with_start / with_start.cummax() - 1
    held = np.zeros(n, dtype=bool)
    for entry, exit_ in zip(result.trades["entry_time"], result.trades["exit_time"], strict=True):
        last = equity.index[-1] + pd.Timedelta(days=1) if pd.isna(exit_) else exit_
        held |= (equity.index >= entry) & (equity.index < last)
    return {
        "n_bars": n,
        "total_return": equity.iloc[-1] / CASH - 1,
        "sharpe": returns.mean() / returns.std() * math.sqrt(per_year),
        "volatility": returns.std() * math.sqrt(per_year),
        "max_drawdown": drawdown.min(),
        "periods_per_year": per_year,
        "years": n / per_year,
        "exposure": held.mean(),
        "buy_and_hold_return": close.iloc[-1] / close.iloc[0] - 1,
    }


def test_metrics_with_warm_up_are_those_of_the_traded_bars(warm: Result) -> None:
    expected = _independent_figures(warm)
    assert warm.n_bars == expected.pop("n_bars")
    for key, value in expected.items():
        assert warm.metrics[key] == pytest.approx(value, rel=1e-9), key
    assert warm.metrics["trades"] > 0


def test_metrics_with_warm_up_equal_those_of_the_same_traded_bars_without() -> None:
    # With enough history before the start, a long warm-up changes nothing the strategy does
    # (its indicators are warm either way) and nothing any figure covers.
    short = _run(start=START, end="2009-12-31", data__warmup_bars=WARMUP)
    long = _run(start=START, end="2009-12-31", data__warmup_bars=3 * WARMUP)
    assert short.run_hash == long.run_hash
    assert short.metrics == long.metrics
    assert short.start == long.start
    assert short.n_bars == long.n_bars
    pd.testing.assert_frame_equal(short.equity, long.equity)


def test_report_charts_cover_the_traded_bars(warm: Result) -> None:
    start = np.datetime64(warm.start.tz_convert(None))
    fig, _ = equity_figure(warm)
    for trace in fig.data:
        assert np.datetime64(trace.x[0]) == start, trace.name
    hold = fig.data[1].y
    assert hold[0] == pytest.approx(CASH)
    price, _ = price_figure(warm, "GOOG")
    assert np.datetime64(price.data[0].x[0]) == start
    assert len(price.data[0].x) == warm.n_bars


def test_a_run_without_warm_up_is_unchanged() -> None:
    # Figures of the bundled example as they were before warm-up was left out of reports: a
    # run without warm-up must not move.
    result = _run()
    loaded = result.run.bars["GOOG"]
    assert result.warmup_bars == 0
    assert result.n_bars == len(loaded) == len(result.equity) == 2148
    assert result.start == pd.Timestamp(loaded.datetime_at(0))
    summary = result.summary()
    assert summary["start"] == "2004-08-19T00:00:00+00:00"
    assert summary["warmup_bars"] == 0
    assert summary["final_equity"] == 582079.55
    metrics = result.metrics
    assert metrics["trades"] == 32
    assert metrics["total_return"] == pytest.approx(4.820795500000001, rel=1e-12)
    assert metrics["sharpe"] == pytest.approx(1.0328178901317486, rel=1e-12)
    assert metrics["max_drawdown"] == pytest.approx(-0.29695349753675726, rel=1e-12)
    assert metrics["exposure"] == pytest.approx(0.5609869646182495, rel=1e-12)
    assert metrics["buy_and_hold_return"] == pytest.approx(7.034582419772773, rel=1e-12)
