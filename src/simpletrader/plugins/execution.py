"""Built-in execution planners."""

from __future__ import annotations

from simpletrader.core.enums import ExecutionAlgorithm, TimeInForce
from simpletrader.dtos import ExecutionPlan
from simpletrader.plugins.base import ExecutionPlanner, LegContext
from simpletrader.plugins.registry import register


@register("single_order")
class SingleOrder(ExecutionPlanner):
    """One order of the entry's type, good till cancelled."""

    def plan(self, leg: LegContext) -> ExecutionPlan:
        routing = leg.directive.routing_directive
        return ExecutionPlan(
            plan_id=leg.ctx.new_id("EXP"),
            algorithm=ExecutionAlgorithm.SINGLE,
            execution_urgency=routing.execution_urgency,
            visibility_preference=routing.visibility_preference,
            max_slippage_pct=min(routing.max_total_slippage_pct, leg.leg.max_acceptable_slippage),
            time_in_force=TimeInForce.GTC,
        )
