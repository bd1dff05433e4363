"""Per-leg plans: how to enter, how much, where to exit, and how to execute."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, model_validator

from simpletrader.core.enums import ExecutionAlgorithm, OrderType, Side, TimeInForce, TradeDirection
from simpletrader.core.errors import PlanError
from simpletrader.core.ids import EntryPlanId, ExecutionPlanId, ExitPlanId, SizePlanId
from simpletrader.dtos._base import (
    FrozenModel,
    NonNegativeMoney,
    PositiveMoney,
    Symbol,
    Unit,
    UtcDatetime,
)


def check_order_prices(
    order_type: OrderType, limit_price: Decimal | None, stop_price: Decimal | None
) -> None:
    """The price rule of an order type: MARKET none, LIMIT a limit, STOP a stop, STOP_LIMIT both."""
    needs_limit = order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
    if needs_limit and limit_price is None:
        raise ValueError(f"limit_price is required for order_type {order_type}")
    if not needs_limit and limit_price is not None:
        raise ValueError(f"limit_price must be absent for order_type {order_type}")
    if needs_stop and stop_price is None:
        raise ValueError(f"stop_price is required for order_type {order_type}")
    if not needs_stop and stop_price is not None:
        raise ValueError(f"stop_price must be absent for order_type {order_type}")


class EntryPlan(FrozenModel):
    plan_id: EntryPlanId
    symbol: Symbol
    direction: Side
    order_type: OrderType = OrderType.MARKET
    limit_price: PositiveMoney | None = None
    stop_price: PositiveMoney | None = None

    @model_validator(mode="after")
    def _check_prices(self) -> Self:
        check_order_prices(self.order_type, self.limit_price, self.stop_price)
        return self


class SizePlan(FrozenModel):
    """Exactly one target: absolute units, or a fraction of equity resolved at the fill price."""

    plan_id: SizePlanId
    target_size: NonNegativeMoney | None = None
    target_equity_fraction: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    risk_amount: NonNegativeMoney = Decimal(0)
    leverage: Annotated[float, Field(ge=1.0)] = 1.0

    @model_validator(mode="after")
    def _check_one_target(self) -> Self:
        if (self.target_size is None) == (self.target_equity_fraction is None):
            raise ValueError("set exactly one of target_size and target_equity_fraction")
        return self


class ExitPlan(FrozenModel):
    """Protective levels: absolute prices, or positive offsets from the average fill price."""

    plan_id: ExitPlanId
    stop_loss: PositiveMoney | None = None
    take_profit: PositiveMoney | None = None
    as_offsets: bool = False

    def levels(
        self, direction: Side | TradeDirection, anchor: Decimal
    ) -> tuple[Decimal | None, Decimal | None]:
        """Absolute (stop_loss, take_profit) for a trade of ``direction`` anchored at ``anchor``."""
        if not self.as_offsets:
            return self.stop_loss, self.take_profit
        sign = 1 if _is_long(direction) else -1
        stop = anchor - sign * self.stop_loss if self.stop_loss is not None else None
        target = anchor + sign * self.take_profit if self.take_profit is not None else None
        return stop, target


def _is_long(direction: Side | TradeDirection) -> bool:
    return direction in (Side.BUY, TradeDirection.LONG)


def check_exit_levels(
    plan: ExitPlan, direction: Side | TradeDirection, reference_price: Decimal
) -> None:
    """Raise ``PlanError`` unless the plan's levels sit on the right side of ``reference_price``.

    A long trade needs stop < reference < target, a short one the mirror; offsets must leave
    a positive stop price. Called by aggregation (against the decision bar's close) and again
    once the average fill price is known.
    """
    stop, target = plan.levels(direction, reference_price)
    long = _is_long(direction)
    side = "long" if long else "short"
    if stop is not None:
        if stop <= 0:
            raise PlanError(
                f"exit plan {plan.plan_id}: stop_loss offset {plan.stop_loss} from the reference "
                f"price {reference_price} gives a stop price {stop} <= 0"
            )
        if (stop >= reference_price) if long else (stop <= reference_price):
            where = "below" if long else "above"
            raise PlanError(
                f"exit plan {plan.plan_id}: stop_loss {stop} must be {where} the reference "
                f"price {reference_price} for a {side} trade"
            )
    if target is not None and target <= 0:
        raise PlanError(
            f"exit plan {plan.plan_id}: take_profit offset {plan.take_profit} from the reference "
            f"price {reference_price} gives a target price {target} <= 0"
        )
    if target is not None and (
        (target <= reference_price) if long else (target >= reference_price)
    ):
        where = "above" if long else "below"
        raise PlanError(
            f"exit plan {plan.plan_id}: take_profit {target} must be {where} the reference "
            f"price {reference_price} for a {side} trade"
        )


class ExecutionPlan(FrozenModel):
    """How one leg reaches the market. Slippage, window and min fill ratio are hard limits."""

    plan_id: ExecutionPlanId
    algorithm: ExecutionAlgorithm = ExecutionAlgorithm.SINGLE
    execution_urgency: Unit = 0.5
    visibility_preference: Unit = 1.0
    max_slippage_pct: Annotated[float, Field(ge=0.0)] = 0.01
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_at: UtcDatetime | None = None
    window_seconds: Annotated[int, Field(gt=0)] | None = None
    slice_count: Annotated[int, Field(ge=1)] | None = None
    min_fill_ratio: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0

    @model_validator(mode="after")
    def _check_algorithm(self) -> Self:
        if (self.time_in_force is TimeInForce.GTD) != (self.expire_at is not None):
            raise ValueError("expire_at is required with time_in_force GTD and only with it")
        if self.algorithm is ExecutionAlgorithm.SINGLE:
            if self.slice_count not in (None, 1):
                raise ValueError("algorithm SINGLE sends one order: slice_count must be 1 or unset")
        else:
            if self.slice_count is None or self.slice_count < 2:
                raise ValueError(f"algorithm {self.algorithm} needs slice_count >= 2")
            if self.algorithm is ExecutionAlgorithm.TWAP and self.window_seconds is None:
                raise ValueError("algorithm TWAP needs window_seconds")
        return self
