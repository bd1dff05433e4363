"""Built-in context workers: objective facts computed over the whole history, checked causal.

Every worker is vectorised over the history and causal by construction (a value at bar k uses
bars up to k only); bootstrap re-checks that on sampled prefixes. Values are NaN until the
window has filled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Literal, Self

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from simpletrader.plugins.base import ContextWorker, PluginParams
from simpletrader.plugins.registry import register

if TYPE_CHECKING:
    from simpletrader.data.bars import Bars

PriceField = Literal["open", "high", "low", "close"]
Period = Annotated[int, Field(ge=1, le=100_000, description="window length in bars")]
SymbolParam = Annotated[
    str | None, Field(description="symbol to read; none: the strategy's first symbol")
]


def _bars_of(bars: Mapping[str, Bars], symbol: str | None) -> Bars:
    if symbol is None:
        return next(iter(bars.values()))
    try:
        return bars[symbol]
    except KeyError:
        raise ValueError(f"symbol {symbol!r} is not one of {', '.join(bars)}") from None


def _series(bars: Mapping[str, Bars], symbol: str | None, field: PriceField) -> np.ndarray:
    values: np.ndarray = getattr(_bars_of(bars, symbol), field)
    return values


def wilder_smooth(values: np.ndarray, period: int, first: int) -> np.ndarray:
    """Wilder's smoothing (alpha = 1/period) seeded with the mean of ``values[first:first+period]``.

    The result is NaN before ``first + period - 1``; there it is the seed, then
    ``s[k] = s[k-1] + (values[k] - s[k-1]) / period``.
    """
    return seeded_ewm(values, period, first, 1.0 / period)


def seeded_ewm(values: np.ndarray, period: int, first: int, alpha: float) -> np.ndarray:
    """Exponential smoothing with factor ``alpha``, seeded by the simple mean of the first
    ``period`` values from ``first`` (the TA-Lib convention); NaN before the seed."""
    n = len(values)
    out = np.full(n, np.nan)
    start = first + period - 1
    if n <= start:
        return out
    seeded = np.array(values[start:], dtype=np.float64)
    seeded[0] = float(np.mean(values[first : start + 1]))
    out[start:] = pd.Series(seeded).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


class SmaParams(PluginParams):
    period: Period
    source: PriceField = "close"
    symbol: SymbolParam = None


@register("sma")
class SimpleMovingAverage(ContextWorker):
    """Simple moving average of ``source`` over ``period`` bars (NaN until the window fills)."""

    Params = SmaParams

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        p: SmaParams = self.params
        values = _series(bars, p.symbol, p.source)
        mean = pd.Series(values).rolling(p.period, min_periods=p.period).mean()
        return {"value": mean.to_numpy(dtype=np.float64)}


class EmaParams(PluginParams):
    period: Period
    source: PriceField = "close"
    symbol: SymbolParam = None


@register("ema")
class ExponentialMovingAverage(ContextWorker):
    """Exponential moving average, alpha = 2 / (period + 1), seeded with an SMA.

    The first value (bar ``period - 1``) is the SMA of the first ``period`` values; NaN before.
    """

    Params = EmaParams

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        p: EmaParams = self.params
        values = _series(bars, p.symbol, p.source)
        return {"value": seeded_ewm(values, p.period, 0, 2.0 / (p.period + 1))}


class RsiParams(PluginParams):
    period: Period = 14
    source: PriceField = "close"
    symbol: SymbolParam = None


@register("rsi")
class RelativeStrengthIndex(ContextWorker):
    """Wilder's RSI in [0, 100] (first value at bar ``period``).

    Average gain and loss of bar-to-bar changes, Wilder-smoothed from the mean of the first
    ``period`` changes. No losses gives 100, no change at all 50.
    """

    Params = RsiParams

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        p: RsiParams = self.params
        values = np.asarray(_series(bars, p.symbol, p.source), dtype=np.float64)
        change = np.zeros(len(values))
        change[1:] = np.diff(values)
        gain = wilder_smooth(np.maximum(change, 0.0), p.period, 1)
        loss = wilder_smooth(np.maximum(-change, 0.0), p.period, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rsi = 100.0 - 100.0 / (1.0 + gain / loss)
        rsi = np.where(loss == 0.0, np.where(gain == 0.0, 50.0, 100.0), rsi)
        rsi[np.isnan(gain)] = np.nan
        return {"value": rsi}


class AtrParams(PluginParams):
    period: Period = 14
    symbol: SymbolParam = None


@register("atr")
class AverageTrueRange(ContextWorker):
    """Wilder's average true range in price units (first value at bar ``period``).

    The true range of bar k is max(high - low, |high - close[k-1]|, |low - close[k-1]|),
    Wilder-smoothed from the mean of bars 1..period.
    """

    Params = AtrParams

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        p: AtrParams = self.params
        b = _bars_of(bars, p.symbol)
        high, low, close = b.high, b.low, b.close
        true_range = np.array(high - low, dtype=np.float64)
        if len(close) > 1:
            previous = close[:-1]
            true_range[1:] = np.maximum.reduce(
                [high[1:] - low[1:], np.abs(high[1:] - previous), np.abs(low[1:] - previous)]
            )
        return {"value": wilder_smooth(true_range, p.period, 1)}


class DonchianParams(PluginParams):
    period: Period = 20
    symbol: SymbolParam = None


@register("donchian")
class DonchianChannel(ContextWorker):
    """Donchian channel: facts ``<name>.upper``, ``<name>.lower`` and ``<name>.middle``.

    Highest high and lowest low over ``period`` bars including the current one.
    """

    Params = DonchianParams

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        p: DonchianParams = self.params
        b = _bars_of(bars, p.symbol)
        upper = pd.Series(b.high).rolling(p.period, min_periods=p.period).max().to_numpy()
        lower = pd.Series(b.low).rolling(p.period, min_periods=p.period).min().to_numpy()
        return {"upper": upper, "lower": lower, "middle": (upper + lower) / 2.0}


class SpreadZScoreParams(PluginParams):
    pair: tuple[str, str] = Field(description="symbols (a, b): the spread is a - hedge_ratio * b")
    window: Period = 20
    hedge_ratio: Annotated[
        float | None,
        Field(gt=0.0, description="fixed hedge ratio; none: a rolling OLS beta of a on b"),
    ] = None
    beta_window: Period = 60
    log_prices: bool = Field(default=False, description="use log prices for beta and spread")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.pair[0] == self.pair[1]:
            raise ValueError(f"pair needs two different symbols, got {self.pair[0]!r} twice")
        if self.window < 2 or (self.hedge_ratio is None and self.beta_window < 2):
            raise ValueError("window and beta_window need at least 2 bars")
        return self


@register("spread_zscore")
class SpreadZScore(ContextWorker):
    """Rolling z-score of the spread a - beta x b of two symbols' closes.

    Fact ``<name>`` is the z-score over ``window`` bars (sample std; NaN when it is 0),
    ``<name>.hedge_ratio`` the beta (fixed, or rolling OLS cov(a, b) / var(b) over
    ``beta_window``), ``<name>.spread`` the spread.
    """

    Params = SpreadZScoreParams

    def compute(self, bars: Mapping[str, Bars]) -> Mapping[str, np.ndarray]:
        p: SpreadZScoreParams = self.params
        a = np.asarray(_series(bars, p.pair[0], "close"), dtype=np.float64)
        b = np.asarray(_series(bars, p.pair[1], "close"), dtype=np.float64)
        if p.log_prices:
            a, b = np.log(a), np.log(b)
        sa, sb = pd.Series(a), pd.Series(b)
        if p.hedge_ratio is not None:
            beta = np.full(len(a), p.hedge_ratio)
        else:
            w = p.beta_window
            cov = sa.rolling(w, min_periods=w).cov(sb)
            var = sb.rolling(w, min_periods=w).var()
            beta = (cov / var.where(var > 0)).to_numpy(dtype=np.float64)
        spread = a - beta * b
        s = pd.Series(spread)
        mean = s.rolling(p.window, min_periods=p.window).mean()
        std = s.rolling(p.window, min_periods=p.window).std()
        z = ((s - mean) / std.where(std > 0)).to_numpy(dtype=np.float64)
        return {"value": z, "hedge_ratio": beta, "spread": spread}
