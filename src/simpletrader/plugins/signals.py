"""Built-in signal detectors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from simpletrader.core.enums import SignalDirection
from simpletrader.dtos import Signal
from simpletrader.plugins.base import FlowContext, SignalDetector
from simpletrader.plugins.registry import register


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CrossoverParams(_Params):
    fast: str
    slow: str
    symbol: str | None = None


@register("ma_crossover")
class MovingAverageCrossover(SignalDetector):
    """``long`` when fact ``fast`` crosses above ``slow``, ``short`` when it crosses below.

    A cross needs both bars defined: previous fast <= slow and now fast > slow (mirrored).
    """

    Params = CrossoverParams

    def detect(self, ctx: FlowContext) -> Signal | None:
        p: CrossoverParams = self.params
        cache = ctx.cache
        fast, slow = cache.fact(p.fast), cache.fact(p.slow)
        if fast > slow:
            if cache.fact(p.fast, 1) <= cache.fact(p.slow, 1):
                return self.signal(ctx, SignalDirection.LONG, "MA_CROSS_UP", symbol=p.symbol)
        elif fast < slow and cache.fact(p.fast, 1) >= cache.fact(p.slow, 1):
            return self.signal(ctx, SignalDirection.SHORT, "MA_CROSS_DOWN", symbol=p.symbol)
        return None
