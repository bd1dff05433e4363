"""Built-in size planners."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from simpletrader.dtos import SizePlan
from simpletrader.plugins.base import LegContext, SizePlanner
from simpletrader.plugins.registry import register


class EquityFractionParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0


@register("equity_fraction")
class EquityFraction(SizePlanner):
    """Size as a fraction of equity, resolved at the fill price (floored to the lot).

    A leg's own ``target_size`` or ``target_weight`` wins over the parameter; the leg's
    ``size_weight`` scales the fraction.
    """

    Params = EquityFractionParams

    def plan(self, leg: LegContext) -> SizePlan:
        p: EquityFractionParams = self.params
        plan_id = leg.ctx.new_id("SIZ")
        if leg.leg.target_size is not None:
            return SizePlan(plan_id=plan_id, target_size=leg.leg.target_size)
        fraction = leg.leg.target_weight if leg.leg.target_weight is not None else p.fraction
        fraction = min(1.0, fraction * leg.leg.size_weight)
        if fraction <= 0:
            return SizePlan(plan_id=plan_id, target_size=0)
        return SizePlan(plan_id=plan_id, target_equity_fraction=fraction)
