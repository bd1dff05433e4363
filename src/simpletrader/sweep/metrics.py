"""The figures a sweep ranks runs by, computed from an equity curve.

Returns are simple bar-to-bar returns of the equity marked at each close, the first one against
the starting cash. Annualisation uses the data's own calendar: bars per year is the number of
bar steps divided by the years the data spans, so daily stock data (no weekends) gets ~252 and
24/7 minute data ~525,960. The risk-free rate is 0.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

METRICS: tuple[str, ...] = ("total_return", "sharpe", "max_drawdown", "trades", "final_equity")
"""Columns every sweep row has; ``max_drawdown`` is <= 0, so for every one higher is better."""

_NS_PER_YEAR = 365.25 * 86_400 * 1_000_000_000


def bars_per_year(timestamps_ns: npt.NDArray[np.int64]) -> float:
    """Bar steps per year of the data's span (NaN for fewer than two bars)."""
    n = len(timestamps_ns)
    if n < 2:
        return math.nan
    span = float(timestamps_ns[-1] - timestamps_ns[0])
    return (n - 1) * _NS_PER_YEAR / span if span > 0 else math.nan


def equity_metrics(
    equity: npt.NDArray[np.float64],
    timestamps_ns: npt.NDArray[np.int64],
    starting_cash: float,
    trades: int,
) -> dict[str, float | int]:
    """``total_return`` and ``max_drawdown`` as fractions, ``sharpe`` annualised, ``trades``
    (closed round trips) and ``final_equity``; NaN where a figure is undefined (a flat curve has
    no Sharpe)."""
    curve = np.concatenate(([starting_cash], np.asarray(equity, dtype=np.float64)))
    peaks = np.maximum.accumulate(curve)
    drawdown = float(np.min(curve / peaks - 1.0))
    returns = curve[1:] / curve[:-1] - 1.0
    sharpe = math.nan
    if len(returns) >= 2:
        std = float(np.std(returns, ddof=1))
        if std > 0:
            sharpe = float(np.mean(returns)) / std * math.sqrt(bars_per_year(timestamps_ns))
    final = float(curve[-1])
    return {
        "total_return": final / starting_cash - 1.0,
        "sharpe": sharpe,
        "max_drawdown": drawdown,
        "trades": int(trades),
        "final_equity": round(final, 2),
    }
