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


def returns_of(equity: FloatArray, starting_cash: float) -> FloatArray:
    """Simple returns per bar; the first is against the starting cash."""
    return _returns_into(equity, starting_cash, np.empty(len(equity), dtype=np.float64))


def _returns_into(equity: FloatArray, starting_cash: float, out: FloatArray) -> FloatArray:
    # Written into ``out`` without a curve copy: a million-bar summary would pay for both.
    equity = np.asarray(equity, dtype=np.float64)
    if len(equity):
        with np.errstate(divide="ignore", invalid="ignore"):
            out[0] = equity[0] / np.float64(float(starting_cash))
            np.divide(equity[1:], equity[:-1], out=out[1:])
            out -= 1.0
    return out


def _finite_returns(equity: FloatArray, starting_cash: float, out: FloatArray) -> FloatArray:
    """The finite returns, packed at the front of ``out``: a view of its first ones."""
    _returns_into(equity, starting_cash, out)
    finite = np.isfinite(out)
    if finite.all():
        return out
    kept = int(np.count_nonzero(finite))
    out[:kept] = out[finite]
    return out[:kept]


def _sample_std_in_place(values: FloatArray) -> float:
    """``np.std(values, ddof=1)`` bit for bit (numpy's own steps), but using ``values`` as its
    scratch instead of a copy: they are overwritten."""
    n = len(values)
    values -= np.add.reduce(values) / n
    np.multiply(values, values, out=values)
    return float(np.sqrt(np.add.reduce(values) / (n - 1)))


def _peaks(equity: FloatArray, starting_cash: float) -> FloatArray:
    """The running peak at each bar's close, the starting cash counted as the first one."""
    peaks = np.maximum.accumulate(np.asarray(equity, dtype=np.float64))
    np.maximum(peaks, np.float64(float(starting_cash)), out=peaks)
    return peaks


def _drawdown_in_place(equity: FloatArray, peaks: FloatArray) -> FloatArray:
    """``peaks`` overwritten with the drawdown below them (<= 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(equity, peaks, out=peaks)
    peaks -= 1.0
    return peaks


def drawdown_of(equity: FloatArray, starting_cash: float) -> FloatArray:
    """Drawdown at each bar's close (<= 0) from the running peak, starting cash included."""
    return _drawdown_in_place(equity, _peaks(equity, starting_cash))


def _longest_under(
    under: npt.NDArray[np.bool_], timestamps_ns: IntArray, bar_ns: int
) -> tuple[int, float]:
    """:func:`longest_drawdown` from whether each bar's close is below its running peak."""
    n = len(under) + 1  # marks: the run's start (first open), then each bar's close
    if not under.any():
        return 0, 0.0
    # Mark 0 is the starting cash, never under water; a mark past the end closes the last run.
    flags = np.zeros(n + 2, dtype=np.int8)
    flags[2:-1] = under
    edges = np.diff(flags)
    del flags
    starts = np.flatnonzero(edges == 1)  # first mark under water
    ends = np.flatnonzero(edges == -1)  # first mark back at the peak (n if never)
    del edges
    peak_marks = starts - 1
    recovered = np.minimum(ends, n - 1)
    lengths = recovered - peak_marks
    k = int(np.argmax(lengths))

    def mark(i: int) -> int:
        return int(timestamps_ns[0]) if i == 0 else int(timestamps_ns[i - 1]) + bar_ns

    days = float(mark(int(recovered[k])) - mark(int(peak_marks[k]))) / NS_PER_DAY
    return int(lengths[k]), days


def longest_drawdown(
    equity: FloatArray, starting_cash: float, timestamps_ns: IntArray, bar_ns: int
) -> tuple[int, float]:
    """The longest stretch below a previous peak: (bars, days) from the peak's mark to the mark
    that regains it, or to the last bar's close if it never does. (0, 0.0) without drawdown."""
    under = np.less(equity, _peaks(equity, starting_cash))
    return _longest_under(under, timestamps_ns, bar_ns)


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
    # reduceat cannot take a stop of n, and a sentinel appended would copy the bars: a trade
    # held to the end (an open position) gets its tail's extremes below instead.
    to_end = held & (stops == n)
    bounds = np.empty(2 * m, dtype=np.int64)
    bounds[0::2] = starts
    bounds[1::2] = np.where(held & ~to_end, stops, starts)
    hi = np.maximum.reduceat(high, bounds)[0::2]
    lo = np.minimum.reduceat(low, bounds)[0::2]
    for i in np.flatnonzero(to_end):
        hi[i] = np.max(high[starts[i] :])
        lo[i] = np.min(low[starts[i] :])
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
    """Fraction of bars on which at least one position was held (bars ``[entry, exit)``).

    The length of the union of the trades' intervals, from the intervals alone (no bars-long
    array): sorted by entry, each adds what reaches past the furthest exit before it.
    """
    if n_bars == 0 or len(entry_index) == 0:
        return 0.0
    starts = np.clip(np.asarray(entry_index, dtype=np.int64), 0, n_bars)
    stops = np.clip(np.asarray(exit_index, dtype=np.int64), 0, n_bars)
    order = np.argsort(starts, kind="stable")
    starts, stops = starts[order], stops[order]
    reach = np.empty_like(stops)
    reach[0] = 0
    np.maximum.accumulate(stops[:-1], out=reach[1:])
    covered = np.maximum(stops - np.maximum(starts, reach), 0)
    return float(int(covered.sum())) / n_bars


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

    equity = np.asarray(equity, dtype=np.float64)
    # One bars-long float buffer at a time: a million-bar summary runs after the loop, on top of
    # everything the run keeps, so its temporaries set the process peak.
    peaks = _peaks(equity, starting_cash)
    under = np.less(equity, peaks)
    max_dd = float(np.min(_drawdown_in_place(equity, peaks))) if n else 0.0
    del peaks
    dd_bars, dd_days = _longest_under(under, timestamps_ns, bar_ns) if n else (0, 0.0)
    del under

    buffer = np.empty(n, dtype=np.float64)
    returns = _finite_returns(equity, starting_cash, buffer)
    count = len(returns)
    mean = float(np.mean(returns)) if count else math.nan
    std = _sample_std_in_place(returns) if count > 1 else math.nan
    root = math.sqrt(ppy) if ppy > 0 else math.nan
    downside = 0.0
    if count:
        # The returns again (the deviations overwrote them), turned into squared losses.
        losses = _finite_returns(equity, starting_cash, buffer)
        np.minimum(losses, 0.0, out=losses)
        np.multiply(losses, losses, out=losses)
        downside = float(np.sqrt(np.mean(losses)))

    if final <= 0:
        cagr = -1.0
    elif years > 0:
        try:
            cagr = (final / starting_cash) ** (1.0 / years) - 1.0
        except OverflowError:
            # A large gain over minutes annualises beyond any float: undefined, not a crash.
            cagr = math.nan
    else:
        cagr = math.nan

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
