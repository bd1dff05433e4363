"""The figures a sweep ranks runs by: a few of the backtest's own metrics.

A run's figures are those of :attr:`simpletrader.backtest.result.Result.metrics` (same
conventions: simple bar-to-bar returns, risk-free 0, annualised with the data's own calendar),
with NaN where the backtest reports None, so a table column stays numeric. Like the backtest's,
they cover the traded bars, warm-up left out: a walk-forward window's figures are its own bars'.
A walk-forward's stitched out-of-sample curve has no single run behind it: :func:`curve_metrics`
computes the same figures from the curve with the backtest's own helpers.
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


def run_metrics(run: BacktestRun) -> dict[str, float | int]:
    """:data:`METRICS` of a finished run, as the backtest's metrics report them: over its traded
    bars, warm-up left out."""
    from simpletrader.backtest.result import Result

    metrics = Result(run).metrics
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
