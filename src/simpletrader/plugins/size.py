"""Built-in size planners. They run after entry and exit, so risk-based sizing can use the
stop distance. A leg's own ``target_size`` or ``target_weight`` always wins (an absolute size,
see :meth:`SizePlanner.leg_target`); otherwise the planner sizes the leg from the budget, split
between the directive's budget legs by ``size_weight`` (:attr:`LegContext.budget_share`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from simpletrader.core.errors import PlanError
from simpletrader.dtos import SizePlan
from simpletrader.plugins.base import LegContext, PluginParams, SizePlanner
from simpletrader.plugins.registry import register


class FixedUnitsParams(PluginParams):
    units: Annotated[Decimal, Field(gt=0)] = Field(description="units per leg (floored to the lot)")


@register("fixed_units")
class FixedUnits(SizePlanner):
    """The same number of units for every budget leg."""

    Params = FixedUnitsParams

    def plan(self, leg: LegContext) -> SizePlan:
        own = self.leg_target(leg)
        if own is not None:
            return own
        return SizePlan(plan_id=leg.ctx.new_id("SIZ"), target_size=self.params.units)


class EquityFractionParams(PluginParams):
    fraction: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        default=1.0, description="the directive's budget as a fraction of equity"
    )


@register("equity_fraction")
class EquityFraction(SizePlanner):
    """A budget of ``fraction`` of equity, split between legs by ``size_weight``.

    Resolved to units at the fill price (floored to the lot).
    """

    Params = EquityFractionParams

    def plan(self, leg: LegContext) -> SizePlan:
        own = self.leg_target(leg)
        if own is not None:
            return own
        fraction = min(1.0, self.params.fraction * leg.budget_share)
        # In (0, 1] with a fresh id, it passes validation unchanged; else validation says why.
        build = SizePlan.trusted if type(fraction) is float and fraction > 0.0 else SizePlan
        return build(plan_id=leg.ctx.new_id("SIZ"), target_equity_fraction=fraction)


class FixedRiskParams(PluginParams):
    risk_amount: Annotated[Decimal | None, Field(gt=0)] = Field(
        default=None,
        description="money lost at the stop; none: the directive's size_directive."
        "max_risk_amount, else its account_risk_pct of equity",
    )
    max_fraction: Annotated[float, Field(gt=0.0)] = Field(
        default=1.0, description="cap on the leg's value as a fraction of equity"
    )


@register("fixed_risk")
class FixedRisk(SizePlanner):
    """Sized so the stop loses the risk amount: risk / (stop distance x multiplier).

    The risk is split between budget legs by ``size_weight``; a leg without a stop is refused.
    """

    Params = FixedRiskParams

    def plan(self, leg: LegContext) -> SizePlan:
        own = self.leg_target(leg)
        if own is not None:
            return own
        p: FixedRiskParams = self.params
        distance = leg.stop_distance()
        if distance is None or distance <= 0:
            raise PlanError(
                f"{self.name}: fixed-risk sizing needs a stop; the exit planner gave none"
            )
        ctx = leg.ctx
        equity = ctx.equity_now()
        sizing = leg.directive.size_directive
        if p.risk_amount is not None:
            risk = p.risk_amount
        elif sizing.max_risk_amount is not None:
            risk = sizing.max_risk_amount
        else:
            risk = Decimal(repr(sizing.account_risk_pct * equity))
        risk *= Decimal(repr(leg.budget_share))
        multiplier = Decimal(repr(ctx.multiplier(leg.symbol)))
        units = risk / (distance * multiplier)
        cap = Decimal(repr(p.max_fraction * equity)) / (leg.reference_price * multiplier)
        return SizePlan(
            plan_id=ctx.new_id("SIZ"),
            target_size=max(Decimal(0), min(units, cap)),
            risk_amount=max(Decimal(0), risk),
        )


class TargetWeightParams(PluginParams):
    weights: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict, description="target weight per symbol (fraction of equity)"
    )
    weight: Annotated[float | None, Field(ge=0.0, le=1.0)] = Field(
        default=None, description="weight of a symbol not in `weights`"
    )


@register("target_weight")
class TargetWeight(SizePlanner):
    """The symbol's target weight of equity as an absolute size at the decision close.

    Absolute, so a MODIFY towards it is idempotent.
    """

    Params = TargetWeightParams

    def plan(self, leg: LegContext) -> SizePlan:
        own = self.leg_target(leg)
        if own is not None:
            return own
        p: TargetWeightParams = self.params
        weight = p.weights.get(leg.symbol, p.weight)
        if weight is None:
            raise PlanError(
                f"{self.name}: no target weight for {leg.symbol}; weights has "
                f"{', '.join(p.weights) or 'none'} and no default `weight`"
            )
        return SizePlan(plan_id=leg.ctx.new_id("SIZ"), target_size=leg.target_units(weight))
