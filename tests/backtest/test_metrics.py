"""Every metric against an independent, plain-Python computation on the same equity curve."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from simpletrader.backtest.metrics import (
    METRIC_KEYS,
    TradeColumns,
    buy_and_hold,
    compute_metrics,
    excursions,
    exposure_of,
    longest_drawdown,
    periods_per_year,
)

DAY_NS = 86_400 * 1_000_000_000
YEAR_DAYS = 365.25


def _weekdays(n: int, start: datetime = datetime(2020, 1, 1, tzinfo=UTC)) -> np.ndarray:
    days: list[int] = []
    day = start
    while len(days) < n:
        if day.weekday() < 5:
            days.append(int(day.timestamp()) * 1_000_000_000)
        day += timedelta(days=1)
    return np.array(days, dtype=np.int64)


def _curve(n: int = 600, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100_000.0 * np.cumprod(1.0 + rng.normal(0.0004, 0.012, n))


def _trades() -> TradeColumns:
    return TradeColumns(
        pnl=np.array([120.0, -40.0, 300.0, -60.0, 0.0]),
        returns=np.array([0.012, -0.004, 0.03, -0.006, 0.0]),
        mae=np.array([-0.01, -0.02, -0.005, -0.03, 0.0]),
        mfe=np.array([0.02, 0.001, 0.04, 0.0, 0.0]),
        holding_bars=np.array([5, 3, 10, 2, 1], dtype=np.int64),
        holding_ns=np.array([5, 3, 14, 2, 1], dtype=np.int64) * DAY_NS,
    )


@pytest.fixture(scope="module")
def figures() -> tuple[dict[str, float | int | None], list[float], list[int]]:
    equity = _curve()
    timestamps = _weekdays(len(equity))
    metrics = compute_metrics(
        equity,
        100_000.0,
        timestamps,
        86_400,
        _trades(),
        exposure=0.4,
        fees=12.5,
        buy_and_hold_return=0.1,
    )
    return metrics, [float(x) for x in equity], [int(t) for t in timestamps]


def _reference(equity: list[float], timestamps: list[int]) -> dict[str, float]:
    """The textbook definitions, one loop each, no numpy."""
    cash = 100_000.0
    curve = [cash, *equity]
    returns = [curve[i] / curve[i - 1] - 1 for i in range(1, len(curve))]
    span_years = (timestamps[-1] - timestamps[0]) / DAY_NS / YEAR_DAYS
    ppy = (len(timestamps) - 1) / span_years
    years = len(equity) / ppy
    mean = sum(returns) / len(returns)
    std = statistics.stdev(returns)
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    peak, worst = curve[0], 0.0
    for value in curve:
        peak = max(peak, value)
        worst = min(worst, value / peak - 1)
    cagr = (curve[-1] / cash) ** (1 / years) - 1
    return {
        "periods_per_year": ppy,
        "years": years,
        "total_return": curve[-1] / cash - 1,
        "cagr": cagr,
        "volatility": std * math.sqrt(ppy),
        "sharpe": mean / std * math.sqrt(ppy),
        "sortino": mean / downside * math.sqrt(ppy),
        "max_drawdown": worst,
        "calmar": cagr / abs(worst),
    }


@pytest.mark.parametrize(
    "key",
    [
        "periods_per_year",
        "years",
        "total_return",
        "cagr",
        "volatility",
        "sharpe",
        "sortino",
        "max_drawdown",
        "calmar",
    ],
)
def test_equity_metric_matches_the_textbook_definition(
    figures: tuple[dict[str, float | int | None], list[float], list[int]], key: str
) -> None:
    metrics, equity, timestamps = figures
    assert metrics[key] == pytest.approx(_reference(equity, timestamps)[key], rel=1e-9)


def test_drawdown_duration_matches_a_walk_over_the_curve(
    figures: tuple[dict[str, float | int | None], list[float], list[int]],
) -> None:
    metrics, equity, timestamps = figures
    curve = [100_000.0, *equity]
    marks = [timestamps[0]] + [t + DAY_NS for t in timestamps]
    best_bars, best_ns, peak, peak_at = 0, 0, curve[0], 0
    for i, value in enumerate(curve):
        if value >= peak:
            # Every mark between two peaks more than one apart was below the first.
            if i - peak_at > 1 and i - peak_at > best_bars:
                best_bars, best_ns = i - peak_at, marks[i] - marks[peak_at]
            peak, peak_at = value, i
    last = len(curve) - 1
    if last - peak_at > best_bars:
        best_bars, best_ns = last - peak_at, marks[last] - marks[peak_at]
    assert metrics["max_drawdown_duration_bars"] == best_bars
    assert metrics["max_drawdown_duration_days"] == pytest.approx(best_ns / DAY_NS)


def test_trade_metrics_match_their_definitions(
    figures: tuple[dict[str, float | int | None], list[float], list[int]],
) -> None:
    metrics = figures[0]
    trades = _trades()
    pnl = list(trades.pnl)
    assert metrics["trades"] == 5
    assert metrics["win_rate"] == pytest.approx(2 / 5)
    assert metrics["profit_factor"] == pytest.approx((120 + 300) / (40 + 60))
    assert metrics["avg_trade_pnl"] == pytest.approx(sum(pnl) / 5)
    assert metrics["avg_trade_return"] == pytest.approx(sum(trades.returns) / 5)
    assert metrics["best_trade_return"] == pytest.approx(0.03)
    assert metrics["worst_trade_return"] == pytest.approx(-0.006)
    assert metrics["avg_mae"] == pytest.approx(sum(trades.mae) / 5)
    assert metrics["avg_mfe"] == pytest.approx(sum(trades.mfe) / 5)
    assert metrics["avg_holding_bars"] == pytest.approx(21 / 5)
    assert metrics["avg_holding_days"] == pytest.approx(25 / 5)
    assert metrics["exposure"] == 0.4
    assert metrics["fees"] == 12.5
    assert metrics["buy_and_hold_return"] == 0.1


@pytest.mark.parametrize(("n", "wipe_out_at"), [(600, None), (20_000, None), (20_000, 7_000)])
def test_return_figures_equal_plain_numpy_bit_for_bit(n: int, wipe_out_at: int | None) -> None:
    # The metrics reuse one buffer in place; they must equal the straightforward expressions
    # exactly, also when a zero equity makes a return infinite (left out, as NaN ones are).
    equity = _curve(n)
    if wipe_out_at is not None:
        equity[wipe_out_at] = 0.0
    timestamps = np.arange(n, dtype=np.int64) * 60_000_000_000
    metrics = compute_metrics(
        equity,
        100_000.0,
        timestamps,
        60,
        TradeColumns.empty(),
        exposure=0.0,
        fees=0.0,
        buy_and_hold_return=0.0,
    )
    curve = np.concatenate(([100_000.0], equity))
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = curve[1:] / curve[:-1] - 1.0
        drawdown = curve / np.maximum.accumulate(curve) - 1.0
    returns = returns[np.isfinite(returns)]
    root = math.sqrt(periods_per_year(timestamps))
    mean, std = float(np.mean(returns)), float(np.std(returns, ddof=1))
    downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)))
    assert metrics["volatility"] == std * root
    assert metrics["sharpe"] == mean / std * root
    assert metrics["sortino"] == mean / downside * root
    assert metrics["max_drawdown"] == float(np.min(drawdown[1:]))


def test_every_metric_key_is_present_in_display_order(
    figures: tuple[dict[str, float | int | None], list[float], list[int]],
) -> None:
    assert tuple(figures[0]) == METRIC_KEYS


@pytest.mark.parametrize(
    ("step", "skip_weekends", "expected"),
    [
        (timedelta(days=1), True, 252),  # equities: weekdays only
        (timedelta(days=1), False, 365),  # crypto: every day
        (timedelta(hours=1), False, 24 * 365),
        (timedelta(minutes=1), False, 525_960),
    ],
)
def test_periods_per_year_come_from_the_data_calendar(
    step: timedelta, skip_weekends: bool, expected: int
) -> None:
    start = datetime(2015, 1, 1, tzinfo=UTC)
    moments = []
    t = start
    while t < start + timedelta(days=4 * 366) and len(moments) < 200_000:
        if not (skip_weekends and t.weekday() >= 5):
            moments.append(int(t.timestamp()) * 1_000_000_000)
        t += step
    ppy = periods_per_year(np.array(moments, dtype=np.int64))
    assert ppy == pytest.approx(expected, rel=0.04)


def test_undefined_figures_are_none_not_nan() -> None:
    flat = np.full(10, 1000.0)
    metrics = compute_metrics(
        flat,
        1000.0,
        _weekdays(10),
        86_400,
        TradeColumns.empty(),
        exposure=0.0,
        fees=0.0,
        buy_and_hold_return=math.nan,
    )
    for key in ("sharpe", "sortino", "calmar", "win_rate", "profit_factor", "avg_mae"):
        assert metrics[key] is None, key
    assert metrics["buy_and_hold_return"] is None
    assert metrics["max_drawdown"] == 0.0
    assert metrics["max_drawdown_duration_bars"] == 0
    assert metrics["trades"] == 0


def test_a_curve_that_never_recovers_runs_its_drawdown_to_the_last_close() -> None:
    equity = np.array([110.0, 100.0, 90.0, 95.0])
    ts = np.arange(4, dtype=np.int64) * DAY_NS
    assert longest_drawdown(equity, 100.0, ts, DAY_NS) == (3, 3.0)


def test_excursions_see_highs_and_lows_while_held_and_the_exit_price() -> None:
    high = np.array([11.0, 12.0, 15.0, 10.5, 20.0])
    low = np.array([9.0, 8.0, 9.5, 7.0, 19.0])
    # Long entered at bar 1's open (10), exited at bar 3's open (10): sees bars 1 and 2.
    # Short entered at bar 2 (10), exited at bar 4's open (9): sees bars 2 and 3.
    mae, mfe = excursions(
        np.array([1, 2]),
        np.array([3, 4]),
        np.array([10.0, 10.0]),
        np.array([10.0, 9.0]),
        np.array([True, False]),
        high,
        low,
    )
    assert mae == pytest.approx([-0.2, -0.5])
    assert mfe == pytest.approx([0.5, 0.3])


def test_excursions_of_positions_held_to_the_last_bar_see_every_bar_after_entry() -> None:
    high = np.array([11.0, 12.0, 15.0, 10.5, 20.0])
    low = np.array([9.0, 8.0, 9.5, 7.0, 19.0])
    # Open at the end (exit index = bars): a long from bar 3 and a short from bar 1, both
    # marked at the last close (19.5); a closed long over bar 0 beside them.
    mae, mfe = excursions(
        np.array([3, 1, 0]),
        np.array([5, 5, 1]),
        np.array([10.0, 10.0, 10.0]),
        np.array([19.5, 19.5, 10.0]),
        np.array([True, False, True]),
        high,
        low,
    )
    assert mae == pytest.approx([-0.3, -1.0, -0.1])
    assert mfe == pytest.approx([1.0, 0.3, 0.1])


def test_exposure_counts_bars_with_any_position_once() -> None:
    # Two overlapping trades over bars 2..5 and 4..7 of 10: bars 2..7 are exposed.
    assert exposure_of(np.array([2, 4]), np.array([6, 8]), 10) == pytest.approx(0.6)


def test_exposure_of_nested_and_touching_trades_and_one_open_at_the_end() -> None:
    # Bars 1..8 (a trade 2..3 nested in it), bars 9..9 touching it, then one still open at the
    # end (exit = n): bars 12..19. Listed out of entry order on purpose.
    entries = np.array([12, 2, 9, 1])
    exits = np.array([20, 4, 10, 9])
    assert exposure_of(entries, exits, 20) == 17 / 20


def _exposure_by_walking(entries: list[int], exits: list[int], n_bars: int) -> float:
    held = [any(e <= b < x for e, x in zip(entries, exits, strict=True)) for b in range(n_bars)]
    return sum(held) / n_bars


@pytest.mark.parametrize("seed", range(20))
def test_exposure_matches_a_walk_over_the_bars(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_bars = int(rng.integers(1, 60))
    entries = rng.integers(-3, n_bars + 3, int(rng.integers(0, 12)))
    exits = entries + rng.integers(0, 15, len(entries))
    expected = _exposure_by_walking([int(e) for e in entries], [int(x) for x in exits], n_bars)
    assert exposure_of(entries, exits, n_bars) == expected


def test_buy_and_hold_weights_symbols_equally() -> None:
    assert buy_and_hold([np.array([10.0, 20.0]), np.array([50.0, 40.0])]) == pytest.approx(0.4)


def test_a_cagr_too_large_for_a_float_is_none() -> None:
    # Tenfold in three minutes annualises to far beyond the largest float.
    equity = np.array([1000.0, 5000.0, 10_000.0])
    metrics = compute_metrics(
        equity,
        1000.0,
        np.arange(3, dtype=np.int64) * 60_000_000_000,
        60,
        TradeColumns.empty(),
        exposure=0.0,
        fees=0.0,
        buy_and_hold_return=math.nan,
    )
    assert metrics["cagr"] is None
    assert metrics["calmar"] is None
    assert metrics["total_return"] == 9.0
