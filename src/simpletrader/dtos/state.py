"""Snapshots of the ledger's records: trade plans, execution groups, orders and fills.

Inside the engine these are slotted mutable records; these frozen DTOs are what stores,
subscribers and the API see.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, model_validator

from simpletrader.core.enums import (
    ExecutionAlgorithm,
    GroupRole,
    GroupStatus,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradeDirection,
    TradePlanStatus,
)
from simpletrader.core.ids import BatchId, CommandId, FillId, GroupId, OrderId, TradePlanId
from simpletrader.core.order_states import check_order_transition
from simpletrader.dtos._base import (
    FrozenModel,
    NonNegativeMoney,
    PositiveMoney,
    Symbol,
    UtcDatetime,
)
from simpletrader.dtos.plans import check_order_prices

ReasonText = Annotated[str, Field(min_length=1, max_length=500)]


class TradePlan(FrozenModel):
    """A position's life on one symbol; net, average price and P&L derive from its fills."""

    trade_plan_id: TradePlanId
    strategy_id: Annotated[str, Field(min_length=1, max_length=128)]
    symbol: Symbol
    direction: TradeDirection
    status: TradePlanStatus = TradePlanStatus.ACTIVE
    created_at: UtcDatetime
    closed_at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.status is TradePlanStatus.CLOSED) != (self.closed_at is not None):
            raise ValueError("closed_at is required when status is CLOSED and only then")
        if self.closed_at is not None and self.closed_at < self.created_at:
            raise ValueError(f"closed_at {self.closed_at} is before created_at {self.created_at}")
        return self


class ExecutionGroup(FrozenModel):
    """The orders that carry out one command (ENTRY), protect a plan, or unwind a batch."""

    group_id: GroupId
    trade_plan_id: TradePlanId
    command_id: CommandId | None = None
    batch_id: BatchId | None = None
    role: GroupRole
    algorithm: ExecutionAlgorithm = ExecutionAlgorithm.SINGLE
    target_quantity: NonNegativeMoney
    status: GroupStatus = GroupStatus.PENDING
    failure_reason: ReasonText | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.failure_reason is not None and self.status is not GroupStatus.FAILED:
            raise ValueError(f"failure_reason is only for status FAILED, not {self.status}")
        return self


class Order(FrozenModel):
    """One order as sent to a connector; status moves follow ``core.order_states``."""

    order_id: OrderId
    client_order_id: Annotated[str, Field(min_length=1, max_length=64)]
    group_id: GroupId
    symbol: Symbol
    side: Side
    order_type: OrderType
    quantity: PositiveMoney
    limit_price: PositiveMoney | None = None
    stop_price: PositiveMoney | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_at: UtcDatetime | None = None
    reduce_only: bool = False
    status: OrderStatus = OrderStatus.PENDING
    status_reason: ReasonText | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_order_prices(self.order_type, self.limit_price, self.stop_price)
        if (self.time_in_force is TimeInForce.GTD) != (self.expire_at is not None):
            raise ValueError("expire_at is required with time_in_force GTD and only with it")
        return self

    def with_status(self, status: OrderStatus, at: datetime, reason: str | None = None) -> Order:
        """A copy moved to ``status``; an illegal move raises ``IllegalTransitionError``."""
        check_order_transition(self.status, status, self.order_id)
        # Re-validated, not model_copy: the new timestamp and reason get the same checks.
        return type(self).model_validate(
            {**self.__dict__, "status": status, "status_reason": reason, "updated_at": at}
        )


class Fill(FrozenModel):
    fill_id: FillId
    order_id: OrderId
    quantity: PositiveMoney
    price: PositiveMoney
    fee: NonNegativeMoney = Decimal(0)
    fee_asset: Annotated[str, Field(min_length=1, max_length=16)] = "USD"
    liquidity: Liquidity
    executed_at: UtcDatetime
