"""Built-in entry planners: how a leg enters (order type and price).

For MODIFY legs the order's side is the one that moves the plan towards its target
(:meth:`LegContext.order_side`), so a limit sits on the right side of the market.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from simpletrader.core.enums import OrderType, Side
from simpletrader.dtos import EntryPlan
from simpletrader.plugins.base import EntryPlanner, LegContext, PluginParams
from simpletrader.plugins.registry import register

# Bound once: Python 3.11's EnumType.__getattr__ makes `OrderType.MARKET` a slow lookup per order.
_MARKET = OrderType.MARKET


@register("market_entry")
class MarketEntry(EntryPlanner):
    """Enter with a market order."""

    def plan(self, leg: LegContext) -> EntryPlan:
        # The leg's validated symbol, a side, a fresh id, no prices: what validation would keep.
        return EntryPlan.trusted(
            plan_id=leg.ctx.new_id("ENT"),
            symbol=leg.symbol,
            direction=leg.order_side(),
            order_type=_MARKET,
        )


def _limit(leg: LegContext, side: Side, price: Decimal) -> EntryPlan:
    price = leg.round_price(price)
    instrument = leg.instrument
    if price <= 0 and instrument is not None:
        price = instrument.tick_size
    return EntryPlan(
        plan_id=leg.ctx.new_id("ENT"),
        symbol=leg.symbol,
        direction=side,
        order_type=OrderType.LIMIT,
        limit_price=price,
    )


def _offset_limit(leg: LegContext, side: Side, offset: float) -> EntryPlan:
    factor = Decimal(repr(offset))
    price = leg.reference_price * (1 - factor if side is Side.BUY else 1 + factor)
    return _limit(leg, side, price)


class LimitOffsetParams(PluginParams):
    offset_pct: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        default=0.005, description="distance from the decision close (0.005 = 0.5%)"
    )


@register("limit_offset")
class LimitOffset(EntryPlanner):
    """A limit ``offset_pct`` better than the decision close (below to buy, above to sell)."""

    Params = LimitOffsetParams

    def plan(self, leg: LegContext) -> EntryPlan:
        return _offset_limit(leg, leg.order_side(), self.params.offset_pct)


class ZoneLimitParams(PluginParams):
    position: Annotated[float | None, Field(ge=0.0, le=1.0)] = Field(
        default=None,
        description="where in the zone: 0 the patient end (low to buy), 1 the eager end; "
        "none: the leg's timing_preference",
    )
    fallback_offset_pct: Annotated[float | None, Field(ge=0.0, lt=1.0)] = Field(
        default=None,
        description="a leg without a zone gets a limit this far from the close; none: a market "
        "order",
    )


@register("zone_limit")
class ZoneLimit(EntryPlanner):
    """A limit inside the leg's ``preferred_price_zone``, placed by ``position``.

    Buy at low + (high - low) x position, sell at high - (high - low) x position; a leg without
    a zone gets a market order (or an offset limit).
    """

    Params = ZoneLimitParams

    def plan(self, leg: LegContext) -> EntryPlan:
        p: ZoneLimitParams = self.params
        side = leg.order_side()
        zone = leg.leg.preferred_price_zone
        if zone is None:
            if p.fallback_offset_pct is not None:
                return _offset_limit(leg, side, p.fallback_offset_pct)
            return EntryPlan(
                plan_id=leg.ctx.new_id("ENT"),
                symbol=leg.symbol,
                direction=side,
                order_type=OrderType.MARKET,
            )
        low, high = zone
        position = Decimal(
            repr(p.position if p.position is not None else leg.leg.timing_preference)
        )
        width = high - low
        price = low + width * position if side is Side.BUY else high - width * position
        return _limit(leg, side, price)
