"""Journal events: compact slotted records on the hot path, serialised in bulk.

Every state change of the ledger is one of these; the ledger is built only by applying them, so
replaying a journal rebuilds it. Flow DTOs (origins, signals, directives, batches) are journaled
as they are, wrapped in :class:`FlowRecorded`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel

from simpletrader.core.enums import (
    BatchExecutionMode,
    ExecutionAlgorithm,
    GroupRole,
    GroupStatus,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradeDirection,
)


class JournalEvent:
    """Base of journal events. ``kind`` names the event in stores and JSON."""

    __slots__ = ()
    kind: ClassVar[str] = ""
    at: int

    def primary_id(self) -> str:
        raise NotImplementedError  # pragma: no cover - every event overrides

    def to_record(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, BaseModel):
                value = value.model_dump(mode="json")
            elif isinstance(value, Decimal):
                value = str(value)
            out[f.name] = value
        return out


@dataclass(slots=True)
class FlowRecorded(JournalEvent):
    """A DTO a flow produced: Origin, Signal, Risk, StrategyDirective or ExecutionCommandBatch."""

    kind: ClassVar[str] = "flow"
    at: int
    dto: BaseModel
    key: str

    def primary_id(self) -> str:
        return self.key

    def to_record(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "type": type(self.dto).__name__,
            "dto": self.dto.model_dump(mode="json"),
        }


@dataclass(slots=True)
class DirectiveNotPlanned(JournalEvent):
    kind: ClassVar[str] = "directive_not_planned"
    at: int
    directive_id: str
    reason: str

    def primary_id(self) -> str:
        return self.directive_id


@dataclass(slots=True)
class TradePlanOpened(JournalEvent):
    kind: ClassVar[str] = "trade_plan_opened"
    at: int
    trade_plan_id: str
    strategy_id: str
    symbol: str
    direction: TradeDirection

    def primary_id(self) -> str:
        return self.trade_plan_id


@dataclass(slots=True)
class TradePlanClosed(JournalEvent):
    kind: ClassVar[str] = "trade_plan_closed"
    at: int
    trade_plan_id: str

    def primary_id(self) -> str:
        return self.trade_plan_id


@dataclass(slots=True)
class GroupCreated(JournalEvent):
    kind: ClassVar[str] = "group_created"
    at: int
    group_id: str
    trade_plan_id: str
    command_id: str | None
    batch_id: str | None
    role: GroupRole
    algorithm: ExecutionAlgorithm
    target_quantity: Decimal

    def primary_id(self) -> str:
        return self.group_id


@dataclass(slots=True)
class GroupStatusChanged(JournalEvent):
    kind: ClassVar[str] = "group_status_changed"
    at: int
    group_id: str
    status: GroupStatus
    reason: str | None = None

    def primary_id(self) -> str:
        return self.group_id


@dataclass(slots=True)
class OrderSubmitted(JournalEvent):
    kind: ClassVar[str] = "order_submitted"
    at: int
    order_id: str
    client_order_id: str
    group_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    expire_at: int | None
    reduce_only: bool

    def primary_id(self) -> str:
        return self.order_id


@dataclass(slots=True)
class OrderStatusChanged(JournalEvent):
    """Accepted (OPEN), cancelled, expired or rejected; fills have their own event."""

    kind: ClassVar[str] = "order_status_changed"
    at: int
    order_id: str
    status: OrderStatus
    reason: str | None = None

    def primary_id(self) -> str:
        return self.order_id


@dataclass(slots=True)
class OrderFilled(JournalEvent):
    """A fill. ``order_quantity`` is set when the order was re-sized at fill (equity fraction)."""

    kind: ClassVar[str] = "order_filled"
    at: int
    fill_id: str
    order_id: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: Liquidity
    order_quantity: Decimal | None = None

    def primary_id(self) -> str:
        return self.fill_id


@dataclass(slots=True)
class CommandEnded(JournalEvent):
    """A command's outcome: COMPLETED, FAILED, SKIPPED or SUPERSEDED, with the reason."""

    kind: ClassVar[str] = "command_ended"
    at: int
    command_id: str
    batch_id: str
    status: GroupStatus
    reason: str | None = None

    def primary_id(self) -> str:
        return self.command_id


@dataclass(slots=True)
class BatchEnded(JournalEvent):
    """A batch's outcome: COMPLETED, PARTIAL or FAILED (with the failing command and reason)."""

    kind: ClassVar[str] = "batch_ended"
    at: int
    batch_id: str
    mode: BatchExecutionMode
    status: GroupStatus
    failed_command_id: str | None = None
    reason: str | None = None

    def primary_id(self) -> str:
        return self.batch_id
