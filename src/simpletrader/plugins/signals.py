"""Built-in signal detectors. Each fires on the bar a condition starts (edge-triggered), so a
lasting condition is one signal, not one per bar."""

from __future__ import annotations

from typing import Annotated, Literal, Self

import numpy as np
from pydantic import BaseModel, Field, model_validator

from simpletrader.core.enums import SignalDirection
from simpletrader.dtos import Signal
from simpletrader.plugins.base import FlowContext, PluginParams, SignalDetector
from simpletrader.plugins.registry import register

SPREAD_LONG_ENTRY = "SPREAD_LONG_ENTRY"
SPREAD_SHORT_ENTRY = "SPREAD_SHORT_ENTRY"
SPREAD_LONG_EXIT = "SPREAD_LONG_EXIT"
SPREAD_SHORT_EXIT = "SPREAD_SHORT_EXIT"

LONG, SHORT = SignalDirection.LONG, SignalDirection.SHORT

SymbolParam = Annotated[
    str | None, Field(description="symbol the signal is about; none: the strategy's first symbol")
]


class CrossoverParams(PluginParams):
    fast: str = Field(description="fact name of the fast line")
    slow: str = Field(description="fact name of the slow line")
    symbol: SymbolParam = None


@register("ma_crossover")
class MovingAverageCrossover(SignalDetector):
    """``long`` when fact ``fast`` crosses above ``slow``, ``short`` when it crosses below.

    A cross needs both bars defined: previous fast <= slow and now fast > slow (mirrored).
    """

    Params = CrossoverParams

    def detect(self, ctx: FlowContext) -> Signal | None:
        p: CrossoverParams = self.params
        cache = ctx.cache
        fast_name, slow_name = p.fast, p.slow  # a params read costs several times a local's
        fast, slow = cache.fact(fast_name), cache.fact(slow_name)
        if fast > slow:
            if cache.fact(fast_name, 1) <= cache.fact(slow_name, 1):
                return self.signal(ctx, LONG, "MA_CROSS_UP", symbol=p.symbol)
        elif fast < slow and cache.fact(fast_name, 1) >= cache.fact(slow_name, 1):
            return self.signal(ctx, SHORT, "MA_CROSS_DOWN", symbol=p.symbol)
        return None

    def candidates(self, ctx: FlowContext) -> np.ndarray:
        """Exactly the bars ``detect`` fires on (NaN compares False in both)."""
        p: CrossoverParams = self.params
        fast, slow = ctx.cache.whole_fact(p.fast), ctx.cache.whole_fact(p.slow)
        prev_fast = np.concatenate(([np.nan], fast[:-1]))
        prev_slow = np.concatenate(([np.nan], slow[:-1]))
        with np.errstate(invalid="ignore"):
            up = (fast > slow) & (prev_fast <= prev_slow)
            down = (fast < slow) & (prev_fast >= prev_slow)
        mask: np.ndarray = up | down
        return mask


class RsiThresholdParams(PluginParams):
    rsi: str = Field(description="fact name of the RSI (0-100)")
    lower: Annotated[float, Field(gt=0.0, lt=100.0)] = 30.0
    upper: Annotated[float, Field(gt=0.0, lt=100.0)] = 70.0
    trigger: Literal["leave", "enter"] = Field(
        default="leave",
        description="leave: signal when RSI comes back out of a zone (reversal confirmed); "
        "enter: when it goes in",
    )
    symbol: SymbolParam = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.lower >= self.upper:
            raise ValueError(f"lower {self.lower} must be below upper {self.upper}")
        return self


@register("rsi_threshold")
class RsiThreshold(SignalDetector):
    """RSI mean reversion: RSI_OVERSOLD (long) at ``lower``, RSI_OVERBOUGHT (short) at ``upper``.

    Fires on the bar RSI leaves (with ``trigger: enter``, enters) the zone beyond a threshold.
    """

    Params = RsiThresholdParams

    def detect(self, ctx: FlowContext) -> Signal | None:
        p: RsiThresholdParams = self.params
        cache = ctx.cache
        now, before = cache.fact(p.rsi), cache.fact(p.rsi, 1)
        if p.trigger == "leave":
            if before < p.lower <= now:
                return self.signal(ctx, LONG, "RSI_OVERSOLD", symbol=p.symbol)
            if before > p.upper >= now:
                return self.signal(ctx, SHORT, "RSI_OVERBOUGHT", symbol=p.symbol)
        else:
            if now < p.lower <= before:
                return self.signal(ctx, LONG, "RSI_OVERSOLD", symbol=p.symbol)
            if now > p.upper >= before:
                return self.signal(ctx, SHORT, "RSI_OVERBOUGHT", symbol=p.symbol)
        return None


class BreakoutParams(PluginParams):
    channel: str = Field(description="name of a donchian worker (reads <channel>.upper/.lower)")
    symbol: SymbolParam = None


@register("breakout")
class Breakout(SignalDetector):
    """Channel breakout: BREAKOUT_UP (long) / BREAKOUT_DOWN (short) on leaving the channel.

    Fires on the first close above the previous bar's upper band (below its lower band).
    """

    Params = BreakoutParams

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        super().__init__(params, name)
        p: BreakoutParams = self.params
        self._upper, self._lower = f"{p.channel}.upper", f"{p.channel}.lower"

    def detect(self, ctx: FlowContext) -> Signal | None:
        cache = ctx.cache
        symbol = self.params.symbol
        close = cache.close(symbol)
        # The previous close must have been inside the previous channel (NaN compares false,
        # so nothing fires before the channel has two defined bars).
        if close > cache.fact(self._upper, 1):
            if cache.close(symbol, 1) <= cache.fact(self._upper, 2):
                return self.signal(ctx, LONG, "BREAKOUT_UP", symbol=symbol)
        elif close < cache.fact(self._lower, 1) and cache.close(symbol, 1) >= cache.fact(
            self._lower, 2
        ):
            return self.signal(ctx, SHORT, "BREAKOUT_DOWN", symbol=symbol)
        return None


class ZScoreParams(PluginParams):
    zscore: str = Field(description="fact name of a z-score (e.g. a spread_zscore worker)")
    entry: Annotated[float, Field(gt=0.0)] = 2.0
    exit: Annotated[float, Field(ge=0.0)] = 0.5
    symbol: SymbolParam = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.exit >= self.entry:
            raise ValueError(f"exit {self.exit} must be below entry {self.entry}")
        return self


@register("zscore_bands")
class ZScoreBands(SignalDetector):
    """Pairs signals from a spread z-score: entries beyond +-entry, exits back inside +-exit.

    SPREAD_LONG_ENTRY (long) when z falls below -entry, SPREAD_SHORT_ENTRY (short) when it
    rises above +entry; SPREAD_LONG_EXIT (short) when z comes back up to -exit,
    SPREAD_SHORT_EXIT (long) when it comes back down to +exit.
    """

    Params = ZScoreParams

    def detect(self, ctx: FlowContext) -> list[Signal] | None:
        p: ZScoreParams = self.params
        cache = ctx.cache
        z, before = cache.fact(p.zscore), cache.fact(p.zscore, 1)
        if not (z == z and before == before):  # NaN: the window has not filled
            return None
        found: list[Signal] | None = None
        if before < -p.exit <= z:
            found = [self.signal(ctx, SHORT, SPREAD_LONG_EXIT, symbol=p.symbol)]
        elif before > p.exit >= z:
            found = [self.signal(ctx, LONG, SPREAD_SHORT_EXIT, symbol=p.symbol)]
        if z < -p.entry <= before:
            entry = self.signal(ctx, LONG, SPREAD_LONG_ENTRY, symbol=p.symbol)
            found = [*(found or ()), entry]
        elif z > p.entry >= before:
            entry = self.signal(ctx, SHORT, SPREAD_SHORT_ENTRY, symbol=p.symbol)
            found = [*(found or ()), entry]
        return found
