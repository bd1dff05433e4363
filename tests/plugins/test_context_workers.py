"""Built-in context workers on hand-checked data and on GOOG_1d against independent loops."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from plugin_kit import make_bars

from simpletrader.data import Bars, load_bars
from simpletrader.pipeline.bootstrap import compute_facts
from simpletrader.plugins.base import ContextWorker
from simpletrader.plugins.context import (
    AtrParams,
    AverageTrueRange,
    DonchianChannel,
    DonchianParams,
    EmaParams,
    ExponentialMovingAverage,
    RelativeStrengthIndex,
    RsiParams,
    SimpleMovingAverage,
    SmaParams,
    SpreadZScore,
    SpreadZScoreParams,
)


@pytest.fixture(scope="module")
def goog() -> Bars:
    return load_bars("GOOG_1d", symbol="GOOG")


def _frame(bars: Bars) -> pd.DataFrame:
    return pd.DataFrame({"high": bars.high, "low": bars.low, "close": bars.close})


def _sma_loop(values: list[float], n: int) -> list[float]:
    return [
        sum(values[i - n + 1 : i + 1]) / n if i >= n - 1 else math.nan for i in range(len(values))
    ]


def _ema_loop(values: list[float], n: int) -> list[float]:
    alpha = 2 / (n + 1)
    out = [math.nan] * len(values)
    for i in range(n - 1, len(values)):
        out[i] = (
            sum(values[:n]) / n if i == n - 1 else out[i - 1] + alpha * (values[i] - out[i - 1])
        )
    return out


def _wilder_loop(values: list[float], n: int) -> list[float]:
    """Wilder's average of values[1:], seeded by the mean of values[1..n] at index n."""
    out = [math.nan] * len(values)
    for i in range(n, len(values)):
        if i == n:
            out[i] = sum(values[1 : n + 1]) / n
        else:
            out[i] = (out[i - 1] * (n - 1) + values[i]) / n
    return out


def _rsi_loop(closes: list[float], n: int) -> list[float]:
    changes = [0.0] + [closes[i] - closes[i - 1] for i in range(1, len(closes))]
    gains = _wilder_loop([max(c, 0.0) for c in changes], n)
    losses = _wilder_loop([max(-c, 0.0) for c in changes], n)
    out = []
    for g, loss in zip(gains, losses, strict=True):
        if math.isnan(g):
            out.append(math.nan)
        elif loss == 0:
            out.append(100.0 if g > 0 else 50.0)
        else:
            out.append(100 - 100 / (1 + g / loss))
    return out


def _compute(worker: ContextWorker, bars: Bars | dict[str, Bars]) -> dict[str, np.ndarray]:
    mapping = bars if isinstance(bars, dict) else {bars.symbol: bars}
    return {k: np.asarray(v) for k, v in worker.compute(mapping).items()}


def test_sma_on_hand_checked_closes() -> None:
    out = _compute(SimpleMovingAverage(SmaParams(period=3)), make_bars("X", [1, 2, 3, 4, 8]))
    np.testing.assert_allclose(out["value"], [np.nan, np.nan, 2.0, 3.0, 5.0])


def test_ema_seeds_with_the_sma_then_smooths() -> None:
    out = _compute(ExponentialMovingAverage(EmaParams(period=3)), make_bars("X", [1, 2, 3, 7]))
    # seed mean(1, 2, 3) = 2 at bar 2; then 2 + 0.5 * (7 - 2) = 4.5
    np.testing.assert_allclose(out["value"], [np.nan, np.nan, 2.0, 4.5])


def test_rsi_on_hand_checked_closes() -> None:
    closes = [10, 11, 10, 12, 12, 11]
    out = _compute(RelativeStrengthIndex(RsiParams(period=2)), make_bars("X", closes))
    # changes +1 -1 +2 0 -1; at bar 2: gain 0.5, loss 0.5 -> 50
    # bar 3: gain (0.5 + 2) / 2 = 1.25, loss 0.25 -> 100 - 100 / 6
    # bar 4: gain 0.625, loss 0.125 -> same ratio 5; bar 5: gain 0.3125, loss 0.5625
    expected = [
        np.nan,
        np.nan,
        50.0,
        100 - 100 / 6,
        100 - 100 / 6,
        100 - 100 / (1 + 0.3125 / 0.5625),
    ]
    np.testing.assert_allclose(out["value"], expected)


def test_rsi_is_100_without_losses_and_50_without_moves() -> None:
    up = _compute(RelativeStrengthIndex(RsiParams(period=2)), make_bars("X", [1, 2, 3, 4]))
    flat = _compute(RelativeStrengthIndex(RsiParams(period=2)), make_bars("X", [5, 5, 5, 5]))
    assert list(up["value"][2:]) == [100.0, 100.0]
    assert list(flat["value"][2:]) == [50.0, 50.0]


def test_atr_uses_the_true_range_across_gaps() -> None:
    bars = make_bars("X", [10, 14, 12], highs=[11, 15, 13], lows=[9, 13, 8], opens=[10, 14, 12])
    out = _compute(AverageTrueRange(AtrParams(period=2)), bars)
    # TR: bar1 max(2, |15-10|, |13-10|) = 5; bar2 max(5, |13-14|, |8-14|) = 6; ATR(2) at bar 2 = 5.5
    np.testing.assert_allclose(out["value"], [np.nan, np.nan, 5.5])


def test_donchian_bands_include_the_current_bar() -> None:
    bars = make_bars("X", [5, 6, 4, 7], highs=[6, 8, 5, 9], lows=[4, 5, 3, 6])
    out = _compute(DonchianChannel(DonchianParams(period=2)), bars)
    np.testing.assert_allclose(out["upper"], [np.nan, 8, 8, 9])
    np.testing.assert_allclose(out["lower"], [np.nan, 4, 3, 3])
    np.testing.assert_allclose(out["middle"], [np.nan, 6, 5.5, 6])


def test_spread_zscore_with_a_fixed_hedge_ratio() -> None:
    a = make_bars("A", [10, 12, 11, 15])
    b = make_bars("B", [5, 5, 5, 5])
    worker = SpreadZScore(SpreadZScoreParams(pair=("A", "B"), window=3, hedge_ratio=2.0))
    out = _compute(worker, {"A": a, "B": b})
    spread = np.array([0.0, 2.0, 1.0, 5.0])
    np.testing.assert_allclose(out["spread"], spread)
    np.testing.assert_allclose(out["hedge_ratio"], [2.0] * 4)
    # window (2, 1, 5): mean 8/3, sample std sqrt(((2-8/3)^2 + (1-8/3)^2 + (5-8/3)^2) / 2)
    window = spread[1:]
    z = (5.0 - window.mean()) / window.std(ddof=1)
    np.testing.assert_allclose(out["value"], [np.nan, np.nan, 0.0, z])


def test_spread_zscore_finds_the_hedge_ratio_of_a_linear_pair() -> None:
    rng = np.random.default_rng(3)
    b_close = 100 + np.cumsum(rng.normal(0, 1, 300))
    a_close = 1.5 * b_close + 20 + rng.normal(0, 0.01, 300)
    worker = SpreadZScore(SpreadZScoreParams(pair=("A", "B"), window=20, beta_window=60))
    out = _compute(worker, {"A": make_bars("A", a_close), "B": make_bars("B", b_close)})
    assert np.isnan(out["hedge_ratio"][58])
    np.testing.assert_allclose(out["hedge_ratio"][60:], 1.5, atol=0.01)
    assert np.isfinite(out["value"][80:]).all()


def test_sma_ema_rsi_atr_on_goog_match_independent_loops(goog: Bars) -> None:
    frame = _frame(goog)
    closes = frame["close"].tolist()
    sma = _compute(SimpleMovingAverage(SmaParams(period=20)), goog)["value"]
    ema = _compute(ExponentialMovingAverage(EmaParams(period=20)), goog)["value"]
    rsi = _compute(RelativeStrengthIndex(RsiParams(period=14)), goog)["value"]
    atr = _compute(AverageTrueRange(AtrParams(period=14)), goog)["value"]
    np.testing.assert_allclose(sma, _sma_loop(closes, 20), rtol=1e-9)
    np.testing.assert_allclose(ema, _ema_loop(closes, 20), rtol=1e-9)
    np.testing.assert_allclose(rsi, _rsi_loop(closes, 14), rtol=1e-9)
    previous = frame["close"].shift(1)
    true_range = pd.concat(
        [
            frame["high"] - frame["low"],
            (frame["high"] - previous).abs(),
            (frame["low"] - previous).abs(),
        ],
        axis=1,
    ).max(axis=1)
    np.testing.assert_allclose(atr, _wilder_loop(true_range.tolist(), 14), rtol=1e-9)
    assert np.nanmin(rsi) > 0
    assert np.nanmax(rsi) < 100


@pytest.mark.parametrize(
    "worker",
    [
        SimpleMovingAverage(SmaParams(period=10)),
        ExponentialMovingAverage(EmaParams(period=10)),
        RelativeStrengthIndex(RsiParams(period=14)),
        AverageTrueRange(AtrParams(period=14)),
        DonchianChannel(DonchianParams(period=20)),
    ],
    ids=lambda w: w.plugin_name,
)
def test_every_single_symbol_worker_passes_the_causality_check_on_goog(
    worker: ContextWorker, goog: Bars
) -> None:
    facts = compute_facts(worker, {"GOOG": goog}, "workforce.context_worker.0")
    assert all(values.shape == (len(goog),) for values in facts.values())


def test_spread_zscore_passes_the_causality_check_on_spx_and_nasdaq() -> None:
    spx = load_bars("SPX_1d", symbol="SPX")
    nasdaq = load_bars("NASDAQ_1d", symbol="NASDAQ")
    worker = SpreadZScore(
        SpreadZScoreParams(pair=("SPX", "NASDAQ"), window=20, beta_window=60, log_prices=True),
        "z",
    )
    facts = compute_facts(worker, {"SPX": spx, "NASDAQ": nasdaq}, "workforce.context_worker.0")
    assert set(facts) == {"z", "z.hedge_ratio", "z.spread"}
    assert np.isfinite(facts["z"][100:]).mean() > 0.99


def test_spread_zscore_rejects_a_pair_of_one_symbol() -> None:
    with pytest.raises(ValueError, match="two different symbols"):
        SpreadZScoreParams(pair=("A", "A"))
