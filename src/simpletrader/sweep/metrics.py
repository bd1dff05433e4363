"""The figures a sweep ranks runs by: a few of the backtest's own metrics.

A run's figures are those of :attr:`simpletrader.backtest.result.Result.metrics` (same
conventions: simple bar-to-bar returns, risk-free 0, annualised with the data's own calendar),
with NaN where the backtest reports None, so a table column stays numeric. A walk-forward
window's run has warm-up bars in front of the window; its figures are those of the window's bars
alone (:func:`run_metrics` with ``skip``). A walk-forward's stitched out-of-sample curve has no
single run behind it: :func:`curve_metrics` computes the same figures from the curve with the
backtest's own helpers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from simpletrader.backtest.metrics import drawdown_of, periods_per_year, returns_of

if TYPE_CHECKING:
    from simpletrader.backtest.engine import BacktestRun

METRICS: tuple[str, ...] = ("total_return", "sharpe", "max_drawdown", "trades", "final_equity")
"""Columns every sweep row has; ``max_drawdown`` is <= 0, so for every one higher is better."""


def run_metrics(run: BacktestRun, skip: int = 0) -> dict[str, float | int]:
    """:data:`METRICS` of a finished run, as the backtest's metrics report them, over its bars
    from ``skip`` on (the first ``skip`` bars being warm-up, on which the strategy did not trade).
    """
    from simpletrader.backtest.metrics import TradeColumns, compute_metrics
    from simpletrader.backtest.result import Result

    metrics = Result(run).metrics
    if skip:
        # Trades all fall after the warm-up, so their count stands; the curve's figures (the
        # Sharpe ratio above all: flat warm-up bars add zero returns and stretch its calendar)
        # are those of the window's bars alone, by the backtest's own formulas.
        primary = next(iter(run.bars.values()))
        curve = compute_metrics(
            run.ledger.equity_curve[skip:],
            float(run.ledger.starting_cash),
            primary.timestamps[skip:],
            primary.timeframe_seconds or 60,
            TradeColumns.empty(),
            exposure=0.0,
            fees=0.0,
            buy_and_hold_return=math.nan,
        )
        metrics = {**metrics, **{k: curve[k] for k in ("total_return", "sharpe", "max_drawdown")}}
    figures: dict[str, float | int] = {
        key: math.nan if metrics[key] is None else metrics[key]  # type: ignore[misc]
        for key in ("total_return", "sharpe", "max_drawdown", "trades")
    }
    figures["final_equity"] = round(run.final_equity, 2)
    return figures


def curve_metrics(
    equity: npt.NDArray[np.float64],
    timestamps_ns: npt.NDArray[np.int64],
    starting_cash: float,
    trades: int,
) -> dict[str, float | int]:
    """:data:`METRICS` of an equity curve marked at the bars ``timestamps_ns`` (NaN where
    undefined: a flat curve has no Sharpe ratio)."""
    returns = returns_of(equity, starting_cash)
    sharpe = math.nan
    if len(returns) >= 2:
        std = float(np.std(returns, ddof=1))
        if std > 0:
            ppy = periods_per_year(timestamps_ns)
            sharpe = float(np.mean(returns)) / std * math.sqrt(ppy)
    final = float(equity[-1]) if len(equity) else float(starting_cash)
    return {
        "total_return": final / starting_cash - 1.0,
        "sharpe": sharpe,
        "max_drawdown": float(np.min(drawdown_of(equity, starting_cash))) if len(equity) else 0.0,
        "trades": int(trades),
        "final_equity": round(final, 2),
    }
