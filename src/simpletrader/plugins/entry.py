"""Built-in entry planners."""

from __future__ import annotations

from simpletrader.core.enums import OrderType
from simpletrader.dtos import EntryPlan
from simpletrader.plugins.base import EntryPlanner, LegContext
from simpletrader.plugins.registry import register


@register("market_entry")
class MarketEntry(EntryPlanner):
    """Enter with a market order."""

    def plan(self, leg: LegContext) -> EntryPlan:
        return EntryPlan(
            plan_id=leg.ctx.new_id("ENT"),
            symbol=leg.leg.symbol,
            direction=leg.direction.entry_side,
            order_type=OrderType.MARKET,
        )
