"""Built-in exit planners."""

from __future__ import annotations

from simpletrader.dtos import ExitPlan
from simpletrader.plugins.base import ExitPlanner, LegContext
from simpletrader.plugins.registry import register


@register("no_exit")
class NoExit(ExitPlanner):
    """No protective orders: the strategy exits by its own directives."""

    def plan(self, leg: LegContext) -> ExitPlan | None:
        return None
