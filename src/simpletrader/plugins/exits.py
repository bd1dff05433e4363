"""Built-in exit planners: the protective stop and target of a leg.

A NEW_TRADE gets levels as offsets from its average fill price (its fill price is unknown when
it is planned). An exit-only MODIFY leg gets a trailing stop from the directive's
``stop_loss_tolerance`` (:meth:`ExitPlanner.trailing_plan`), which never loosens the stop.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from simpletrader.core.enums import LegScope
from simpletrader.core.errors import PlanError
from simpletrader.dtos import ExitPlan
from simpletrader.plugins.base import ExitPlanner, LegContext, PluginParams
from simpletrader.plugins.registry import register


@register("no_exit")
class NoExit(ExitPlanner):
    """No protective orders: the strategy exits by its own directives."""

    def plan(self, leg: LegContext) -> ExitPlan | None:
        return None


def _offset(leg: LegContext, distance: Decimal) -> Decimal:
    """A positive price distance on the tick grid (at least one tick)."""
    rounded = leg.round_price(distance)
    instrument = leg.instrument
    floor = instrument.tick_size if instrument is not None else Decimal("1e-8")
    return rounded if rounded > 0 else floor


def _offsets(leg: LegContext, stop: Decimal, target: Decimal | None) -> ExitPlan:
    stop_loss = _offset(leg, stop)
    take_profit = _offset(leg, target) if target is not None else None
    # Positive finite Decimals and a fresh id pass validation unchanged.
    trusted = _positive(stop_loss) and (take_profit is None or _positive(take_profit))
    return (ExitPlan.trusted if trusted else ExitPlan)(
        plan_id=leg.ctx.new_id("EXT"),
        stop_loss=stop_loss,
        take_profit=take_profit,
        as_offsets=True,
    )


def _positive(value: Decimal) -> bool:
    return type(value) is Decimal and value.is_finite() and value > 0


class PercentExitParams(PluginParams):
    stop_pct: Annotated[float | None, Field(gt=0.0, lt=1.0)] = Field(
        default=None,
        description="stop distance as a fraction of the entry price; none: the directive's "
        "exit_directive.stop_loss_tolerance",
    )
    take_profit_pct: Annotated[float | None, Field(gt=0.0)] = Field(
        default=None,
        description="target distance as a fraction of the entry price; none: no target",
    )


@register("percent_exit")
class PercentExit(ExitPlanner):
    """Stop ``stop_pct`` and target ``take_profit_pct`` away from the average fill price."""

    Params = PercentExitParams

    def plan(self, leg: LegContext) -> ExitPlan | None:
        if leg.scope is LegScope.MODIFY_EXISTING:
            return self.trailing_plan(leg)
        p: PercentExitParams = self.params
        stop_pct = p.stop_pct
        if stop_pct is None:
            stop_pct = leg.directive.exit_directive.stop_loss_tolerance
        if stop_pct <= 0:
            return None
        price = leg.reference_price
        stop = price * Decimal(repr(stop_pct))
        target = price * Decimal(repr(p.take_profit_pct)) if p.take_profit_pct else None
        return _offsets(leg, stop, target)


class AtrExitParams(PluginParams):
    atr: str = Field(description="fact name of an ATR (price units) of the leg's symbol")
    multiple: Annotated[float, Field(gt=0.0)] = Field(
        default=2.0, description="stop distance in ATRs"
    )
    risk_reward: Annotated[float | None, Field(gt=0.0)] = Field(
        default=None,
        description="target distance / stop distance; none: the directive's "
        "exit_directive.risk_reward_ratio",
    )


@register("atr_exit")
class AtrExit(ExitPlanner):
    """Stop ``multiple`` ATRs from the fill, target ``risk_reward`` times that distance.

    Levels are offsets from the average fill price; no ATR yet (warm-up) refuses the leg.
    """

    Params = AtrExitParams

    def plan(self, leg: LegContext) -> ExitPlan | None:
        if leg.scope is LegScope.MODIFY_EXISTING:
            return self.trailing_plan(leg)
        p: AtrExitParams = self.params
        atr = leg.ctx.cache.fact(p.atr)
        if not atr > 0:
            raise PlanError(f"{self.name}: ATR fact {p.atr!r} is {atr} on the decision bar")
        ratio = p.risk_reward
        if ratio is None:
            ratio = leg.directive.exit_directive.risk_reward_ratio
        stop = Decimal(repr(atr * p.multiple))
        return _offsets(leg, stop, stop * Decimal(repr(ratio)))
