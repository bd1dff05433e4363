"""Performance metrics of a finished run, computed with numpy from the equity curve and trades.

Conventions (docs/api.md has the table):

- Returns are simple bar-to-bar returns of the equity marked at each bar's close, the first one
  against the starting cash. The risk-free rate is 0.
- Annualisation uses the data's own calendar: ``periods_per_year`` is the number of bar steps
  divided by the years between the first and the last bar, so daily equities get ~252, daily
  crypto ~365, hourly FX ~6,200 and 24/7 minute bars ~525,960. The run lasts ``bars /
  periods_per_year`` years (the first bar's open to the last bar's close).
- Fractions, not percentages: ``total_return = 0.25`` is +25 %; drawdowns are <= 0.
- A figure that is undefined (a Sharpe ratio of a flat curve, a win rate without trades) is
  None, never NaN or infinity, so the dict is valid JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NS_PER_DAY = 86_400 * 1_000_000_000
NS_PER_YEAR = 365.25 * NS_PER_DAY

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

METRIC_KEYS: tuple[str, ...] = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration_bars",
    "max_drawdown_duration_days",
    "calmar",
    "trades",
    "win_rate",
    "profit_factor",
    "avg_trade_pnl",
    "avg_trade_return",
    "best_trade_return",
    "worst_trade_return",
    "avg_mae",
    "avg_mfe",
    "avg_holding_bars",
    "avg_holding_days",
    "exposure",
    "fees",
    "buy_and_hold_return",
    "periods_per_year",
    "years",
)
"""Every key of :func:`compute_metrics`'s dict, in display order."""


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def periods_per_year(timestamps_ns: IntArray) -> float:
    """Bar steps per year of the data's span: (n - 1) / years from the first to the last bar.

    NaN for fewer than two bars. Weekends and holidays the data skips are not counted, which is
    what makes daily equity data ~252 and daily crypto data ~365 without being told.
    """
    n = len(timestamps_ns)
    if n < 2:
        return math.nan
    span = float(timestamps_ns[-1] - timestamps_ns[0])
    return (n - 1) * NS_PER_YEAR / span if span > 0 else math.nan


def curve_with_start(equity: FloatArray, starting_cash: float) -> FloatArray:
    """The equity curve with the starting cash in front: the base of every return."""
    return np.concatenate(([float(starting_cash)], np.asarray(equity, dtype=np.float64)))


def returns_of(equity: FloatArray, starting_cash: float) -> FloatArray:
    """Simple returns per bar; the first is against the starting cash."""
    curve = curve_with_start(equity, starting_cash)
    with np.errstate(divide="ignore", invalid="ignore"):
        return curve[1:] / curve[:-1] - 1.0


def drawdown_of(equity: FloatArray, starting_cash: float) -> FloatArray:
    """Drawdown at each bar's close (<= 0) from the running peak, starting cash included."""
    curve = curve_with_start(equity, starting_cash)
    peaks = np.maximum.accumulate(curve)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (curve / peaks - 1.0)[1:]


def longest_drawdown(
    equity: FloatArray, starting_cash: float, timestamps_ns: IntArray, bar_ns: int
) -> tuple[int, float]:
    """The longest stretch below a previous peak: (bars, days) from the peak's mark to the mark
    that regains it, or to the last bar's close if it never does. (0, 0.0) without drawdown."""
    curve = curve_with_start(equity, starting_cash)
    n = len(curve)
    peaks = np.maximum.accumulate(curve)
    under = curve < peaks
    if not under.any():
        return 0, 0.0
    # Marks: the run's start (first open), then each bar's close.
    marks = np.concatenate(([timestamps_ns[0]], timestamps_ns + bar_ns))
    flags = np.concatenate(([False], under, [False])).astype(np.int8)
    edges = np.diff(flags)
    starts = np.flatnonzero(edges == 1)  # first mark under water
    ends = np.flatnonzero(edges == -1)  # first mark back at the peak (n if never)
    peak_marks = starts - 1
    recovered = np.minimum(ends, n - 1)
    lengths = recovered - peak_marks
    k = int(np.argmax(lengths))
    days = float(marks[recovered[k]] - marks[peak_marks[k]]) / NS_PER_DAY
    return int(lengths[k]), days


@dataclass(frozen=True, slots=True)
class TradeColumns:
    """Closed trades as columns: net P&L (money, after fees), return on the entry value, MAE and
    MFE (fractions of the entry price; MAE <= 0 <= MFE), holding time in bars and nanoseconds."""

    pnl: FloatArray
    returns: FloatArray
    mae: FloatArray
    mfe: FloatArray
    holding_bars: IntArray
    holding_ns: IntArray

    @classmethod
    def empty(cls) -> TradeColumns:
        f = np.empty(0, dtype=np.float64)
        i = np.empty(0, dtype=np.int64)
        return cls(f, f, f, f, i, i)


def excursions(
    entry_index: IntArray,
    exit_index: IntArray,
    entry_price: FloatArray,
    exit_price: FloatArray,
    is_long: npt.NDArray[np.bool_],
    high: FloatArray,
    low: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Maximum adverse and favourable excursion of each trade, as fractions of its entry price.

    A trade held bars ``[entry_index, exit_index)`` sees those bars' highs and lows and its own
    entry and exit prices (an exit at a bar's open sees only that open). Vectorised: one
    ``reduceat`` over all trades.
    """
    m = len(entry_index)
    if m == 0:
        empty = np.empty(0, dtype=np.float64)
        return empty, empty
    n = len(high)
    starts = np.clip(entry_index, 0, n - 1)
    stops = np.clip(exit_index, 0, n)
    held = stops > starts
    # Interleaved [start, stop] pairs: reduceat gives the segment reduction at even positions.
    # A sentinel at the end lets a stop equal n; empty segments are masked out below.
    bounds = np.empty(2 * m, dtype=np.int64)
    bounds[0::2] = starts
    bounds[1::2] = np.where(held, stops, starts)
    hi = np.maximum.reduceat(np.append(high, -np.inf), bounds)[0::2]
    lo = np.minimum.reduceat(np.append(low, np.inf), bounds)[0::2]
    hi = np.where(held, hi, -np.inf)
    lo = np.where(held, lo, np.inf)
    top = np.maximum(np.maximum(hi, entry_price), exit_price)
    bottom = np.minimum(np.minimum(lo, entry_price), exit_price)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = top / entry_price - 1.0
        down = bottom / entry_price - 1.0
    mae = np.where(is_long, down, -up)
    mfe = np.where(is_long, up, -down)
    return mae, mfe


def exposure_of(entry_index: IntArray, exit_index: IntArray, n_bars: int) -> float:
    """Fraction of bars on which at least one position was held (bars ``[entry, exit)``)."""
    if n_bars == 0 or len(entry_index) == 0:
        return 0.0
    depth = np.zeros(n_bars + 1, dtype=np.int64)
    np.add.at(depth, np.clip(entry_index, 0, n_bars), 1)
    np.add.at(depth, np.clip(exit_index, 0, n_bars), -1)
    return float(np.count_nonzero(np.cumsum(depth[:-1]) > 0)) / n_bars


def buy_and_hold(closes: Sequence[FloatArray]) -> float:
    """Return of holding each symbol from the first close to the last, equally weighted."""
    values = [float(c[-1]) / float(c[0]) - 1.0 for c in closes if len(c) and float(c[0]) > 0]
    return sum(values) / len(values) if values else math.nan


def compute_metrics(
    equity: FloatArray,
    starting_cash: float,
    timestamps_ns: IntArray,
    bar_seconds: int,
    trades: TradeColumns,
    *,
    exposure: float,
    fees: float,
    buy_and_hold_return: float,
) -> dict[str, float | int | None]:
    """Every figure of :data:`METRIC_KEYS` for one run (see the module docstring)."""
    n = len(equity)
    bar_ns = bar_seconds * 1_000_000_000
    ppy = periods_per_year(timestamps_ns)
    years = n / ppy if ppy > 0 else math.nan
    final = float(equity[-1]) if n else float(starting_cash)
    total_return = final / starting_cash - 1.0

    returns = returns_of(equity, starting_cash)
    returns = returns[np.isfinite(returns)]
    mean = float(np.mean(returns)) if len(returns) else math.nan
    std = float(np.std(returns, ddof=1)) if len(returns) > 1 else math.nan
    root = math.sqrt(ppy) if ppy > 0 else math.nan
    downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2))) if len(returns) else 0.0

    if final <= 0:
        cagr = -1.0
    elif years > 0:
        cagr = (final / starting_cash) ** (1.0 / years) - 1.0
    else:
        cagr = math.nan
    max_dd = float(np.min(drawdown_of(equity, starting_cash))) if n else 0.0
    dd_bars, dd_days = (
        longest_drawdown(equity, starting_cash, timestamps_ns, bar_ns) if n else (0, 0.0)
    )

    pnl = trades.pnl
    wins = pnl[pnl > 0]
    losses = pnl[pnl < 0]
    count = len(pnl)
    gross_loss = -float(np.sum(losses))

    def avg(values: FloatArray | IntArray) -> float:
        return float(np.mean(values)) if len(values) else math.nan

    raw: dict[str, float | int] = {
        "total_return": total_return,
        "cagr": cagr,
        "volatility": std * root,
        "sharpe": mean / std * root if std > 0 else math.nan,
        "sortino": mean / downside * root if downside > 0 else math.nan,
        "max_drawdown": max_dd,
        "max_drawdown_duration_bars": dd_bars,
        "max_drawdown_duration_days": dd_days,
        "calmar": cagr / -max_dd if max_dd < 0 else math.nan,
        "trades": count,
        "win_rate": len(wins) / count if count else math.nan,
        "profit_factor": float(np.sum(wins)) / gross_loss if gross_loss > 0 else math.nan,
        "avg_trade_pnl": avg(pnl),
        "avg_trade_return": avg(trades.returns),
        "best_trade_return": float(np.max(trades.returns)) if count else math.nan,
        "worst_trade_return": float(np.min(trades.returns)) if count else math.nan,
        "avg_mae": avg(trades.mae),
        "avg_mfe": avg(trades.mfe),
        "avg_holding_bars": avg(trades.holding_bars),
        "avg_holding_days": avg(trades.holding_ns) / NS_PER_DAY,
        "exposure": exposure,
        "fees": fees,
        "buy_and_hold_return": buy_and_hold_return,
        "periods_per_year": ppy,
        "years": years,
    }
    return {key: value if isinstance(value, int) else _finite(value) for key, value in raw.items()}
