"""Built-in risk monitors. Each reports a threat on the bar it starts (edge-triggered) and
re-arms once the condition has cleared. Severity is 0.5 at the limit and 1 at twice the limit.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from simpletrader.dtos import Risk
from simpletrader.plugins.base import FlowContext, PluginParams, RiskMonitor
from simpletrader.plugins.registry import register

FAST_DROP = "FAST_DROP"
MAX_DRAWDOWN = "MAX_DRAWDOWN"
EXPOSURE = "EXPOSURE"

Fraction = Annotated[float, Field(gt=0.0, le=1.0)]


def _severity(value: float, limit: float) -> float:
    return min(1.0, value / (2.0 * limit))


class MaxDrawdownParams(PluginParams):
    limit: Fraction = Field(description="drawdown from the equity peak, as a fraction (0.2 = 20%)")


@register("max_drawdown")
class MaxDrawdown(RiskMonitor):
    """MAX_DRAWDOWN (system-wide) when equity is ``limit`` or more below its peak.

    Equity is marked at the current close; re-arms when the drawdown is back under the limit.
    """

    Params = MaxDrawdownParams

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        super().__init__(params, name)
        self._breached = False

    def assess(self, ctx: FlowContext) -> Risk | None:
        limit: float = self.params.limit
        equity = ctx.equity_now()
        peak = max(ctx.ledger.peak_equity(), equity)
        drawdown = 1.0 - equity / peak if peak > 0 else 0.0
        if drawdown < limit:
            self._breached = False
            return None
        if self._breached:
            return None
        self._breached = True
        return self.risk(ctx, MAX_DRAWDOWN, _severity(drawdown, limit))


class FastDropParams(PluginParams):
    pct: Fraction = Field(description="drop from the highest close of the window, as a fraction")
    bars: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=5, description="window: the current close against the previous `bars` closes"
    )
    symbols: tuple[str, ...] | None = Field(
        default=None, description="symbols to watch; none: every symbol of the strategy"
    )
    system_wide: bool = Field(
        default=False, description="report the risk with no affected symbol (market-wide)"
    )


@register("fast_drop")
class FastDrop(RiskMonitor):
    """FAST_DROP when a close falls more than ``pct`` in ``bars`` bars, per symbol.

    The current close is compared with the highest close of the previous ``bars`` bars; the
    risk names the symbol unless ``system_wide``.
    """

    Params = FastDropParams

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        super().__init__(params, name)
        self._breached: dict[str, bool] = {}
        self._symbols: tuple[str, ...] = ()

    def setup(self, ctx: FlowContext) -> None:
        p: FastDropParams = self.params
        self._symbols = p.symbols if p.symbols is not None else ctx.cache.symbols
        ctx.require_traded(self._symbols, "symbols")
        self._breached = dict.fromkeys(self._symbols, False)

    def assess(self, ctx: FlowContext) -> list[Risk] | None:
        p: FastDropParams = self.params
        cache = ctx.cache
        found: list[Risk] | None = None
        breached = self._breached
        for symbol in self._symbols:
            window = cache.closes(p.bars + 1, symbol)
            if len(window) < 2:
                continue
            high = float(window[:-1].max())
            drop = 1.0 - float(window[-1]) / high if high > 0 else 0.0
            if drop <= p.pct:
                breached[symbol] = False
                continue
            if breached[symbol]:
                continue
            breached[symbol] = True
            risk = self.risk(
                ctx,
                FAST_DROP,
                _severity(drop, p.pct),
                symbol=None if p.system_wide else symbol,
            )
            found = [*(found or ()), risk]
        return found


class ExposureParams(PluginParams):
    limit: Annotated[float, Field(gt=0.0)] = Field(
        description="gross exposure / equity above which the risk fires (1.0 = fully invested)"
    )


@register("exposure")
class Exposure(RiskMonitor):
    """EXPOSURE (system-wide) when gross exposure / equity rises above ``limit``.

    Gross exposure is the sum of |position value| at the current close; re-arms when the ratio
    is back at or under the limit.
    """

    Params = ExposureParams

    def __init__(self, params: BaseModel | None = None, name: str | None = None) -> None:
        super().__init__(params, name)
        self._breached = False

    def assess(self, ctx: FlowContext) -> Risk | None:
        limit: float = self.params.limit
        if not ctx.ledger.positions:
            self._breached = False
            return None
        gross = ctx.gross_exposure_now()
        equity = ctx.equity_now()
        ratio = gross / equity if equity > 0 else float("inf")
        if ratio <= limit:
            self._breached = False
            return None
        if self._breached:
            return None
        self._breached = True
        return self.risk(ctx, EXPOSURE, _severity(ratio, limit))
