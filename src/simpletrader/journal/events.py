"""Journal events: compact slotted records on the hot path, serialised in bulk.

Every state change of the ledger is one of these; the ledger is built only by applying them, so
replaying a journal rebuilds it. Flow DTOs (origins, signals, directives, batches) are journaled
as they are, wrapped in :class:`FlowRecorded`.

Adding an event (see ``docs/journal.md``): a ``@dataclass(slots=True)`` subclass of
:class:`JournalEvent` decorated with :func:`journal_event`, with a unique ``kind``, the name of
its ``id_field`` and, if it hangs under another record, its ``ref_field``. An event that changes
ledger state gets a ``_on_<kind>`` handler on :class:`~simpletrader.ledger.ledger.Ledger`; one
that does not sets ``projected = False``. Field types must be JSON-serialisable by pydantic
(str, int, bool, Decimal, StrEnum, None), so the store and replay need no further code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, is_dataclass
from decimal import Decimal
from typing import ClassVar, TypeVar

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
from simpletrader.dtos import ExecutionCommandBatch, StrategyDirective


class JournalEvent:
    """Base of journal events.

    ``kind`` names the event in stores and JSON; ``id_field`` names the field holding the id the
    entry is filed under; ``ref_field`` the id of the record it belongs to (an order's group, a
    fill's order), which ``explain`` walks down; ``projected`` says whether the ledger applies it.
    ``at`` is the environment's clock in integer nanoseconds (UTC).
    """

    __slots__ = ()
    kind: ClassVar[str] = ""
    id_field: ClassVar[str] = ""
    ref_field: ClassVar[str | None] = None
    projected: ClassVar[bool] = True
    at: int

    def primary_id(self) -> str:
        """The id this entry is filed under (``explain`` looks entries up by it)."""
        value: str = getattr(self, self.id_field)
        return value

    def ref_id(self) -> str | None:
        """The id of the record this entry belongs to, if any."""
        name = self.ref_field
        if name is None:
            return None
        value: str | None = getattr(self, name)
        return value


EVENT_TYPES: dict[str, type[JournalEvent]] = {}
"""Every registered event class by ``kind``: what stores and replay decode with."""

_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
E = TypeVar("E", bound=type[JournalEvent])


def journal_event(cls: E) -> E:
    """Register an event class under its ``kind`` (apply on top of ``@dataclass(slots=True)``)."""
    kind = cls.kind
    if not _KIND.fullmatch(kind):
        raise TypeError(f"{cls.__qualname__}.kind must be lower_snake_case, got {kind!r}")
    if not is_dataclass(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__qualname__} must be a @dataclass(slots=True)")
    field_names = set(cls.__dataclass_fields__)
    for attr in ("id_field", "ref_field"):
        name = getattr(cls, attr)
        if name is not None and name not in field_names:
            raise TypeError(f"{cls.__qualname__}.{attr} = {name!r} is not one of its fields")
    known = EVENT_TYPES.get(kind)
    if known is not None and (known.__module__, known.__qualname__) != (
        cls.__module__,
        cls.__qualname__,
    ):
        raise TypeError(
            f"journal event kind {kind!r} of {cls.__qualname__} is already taken by "
            f"{known.__module__}.{known.__qualname__}"
        )
    EVENT_TYPES[kind] = cls
    return cls


@journal_event
@dataclass(slots=True)
class FlowRecorded(JournalEvent):
    """A DTO a flow produced: Origin, Signal, Risk, StrategyDirective or ExecutionCommandBatch.

    ``key`` is the DTO's own id. A directive belongs to its origin, a batch to its directive.
    """

    kind: ClassVar[str] = "flow"
    id_field: ClassVar[str] = "key"
    projected: ClassVar[bool] = False
    at: int
    dto: BaseModel
    key: str

    def ref_id(self) -> str | None:
        dto = self.dto
        if isinstance(dto, ExecutionCommandBatch):
            return dto.directive_id
        if isinstance(dto, StrategyDirective):
            return dto.causality.origin_id
        return None


@journal_event
@dataclass(slots=True)
class DirectiveNotPlanned(JournalEvent):
    """A directive that produced no batch (a confidence gap, no price, ...), with the reason."""

    kind: ClassVar[str] = "directive_not_planned"
    id_field: ClassVar[str] = "directive_id"
    projected: ClassVar[bool] = False
    at: int
    directive_id: str
    reason: str


@journal_event
@dataclass(slots=True)
class TradePlanOpened(JournalEvent):
    kind: ClassVar[str] = "trade_plan_opened"
    id_field: ClassVar[str] = "trade_plan_id"
    at: int
    trade_plan_id: str
    strategy_id: str
    symbol: str
    direction: TradeDirection


@journal_event
@dataclass(slots=True)
class TradePlanClosed(JournalEvent):
    kind: ClassVar[str] = "trade_plan_closed"
    id_field: ClassVar[str] = "trade_plan_id"
    at: int
    trade_plan_id: str


@journal_event
@dataclass(slots=True)
class GroupCreated(JournalEvent):
    """An execution group; it belongs to its command, or (protective, unwind) to its plan."""

    kind: ClassVar[str] = "group_created"
    id_field: ClassVar[str] = "group_id"
    ref_field: ClassVar[str | None] = "command_id"
    at: int
    group_id: str
    trade_plan_id: str
    command_id: str | None
    batch_id: str | None
    role: GroupRole
    algorithm: ExecutionAlgorithm
    target_quantity: Decimal

    def ref_id(self) -> str | None:
        return self.command_id if self.command_id is not None else self.trade_plan_id


@journal_event
@dataclass(slots=True)
class GroupStatusChanged(JournalEvent):
    kind: ClassVar[str] = "group_status_changed"
    id_field: ClassVar[str] = "group_id"
    at: int
    group_id: str
    status: GroupStatus
    reason: str | None = None


@journal_event
@dataclass(slots=True)
class OrderSubmitted(JournalEvent):
    kind: ClassVar[str] = "order_submitted"
    id_field: ClassVar[str] = "order_id"
    ref_field: ClassVar[str | None] = "group_id"
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


@journal_event
@dataclass(slots=True)
class OrderStatusChanged(JournalEvent):
    """Accepted (OPEN), cancelled, expired or rejected; fills have their own event."""

    kind: ClassVar[str] = "order_status_changed"
    id_field: ClassVar[str] = "order_id"
    at: int
    order_id: str
    status: OrderStatus
    reason: str | None = None


@journal_event
@dataclass(slots=True)
class OrderFilled(JournalEvent):
    """A fill. ``order_quantity`` is set when the order was re-sized at fill (equity fraction)."""

    kind: ClassVar[str] = "order_filled"
    id_field: ClassVar[str] = "fill_id"
    ref_field: ClassVar[str | None] = "order_id"
    at: int
    fill_id: str
    order_id: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: Liquidity
    order_quantity: Decimal | None = None


@journal_event
@dataclass(slots=True)
class CommandEnded(JournalEvent):
    """A command's outcome: COMPLETED, FAILED, SKIPPED or SUPERSEDED, with the reason."""

    kind: ClassVar[str] = "command_ended"
    id_field: ClassVar[str] = "command_id"
    ref_field: ClassVar[str | None] = "batch_id"
    projected: ClassVar[bool] = False
    at: int
    command_id: str
    batch_id: str
    status: GroupStatus
    reason: str | None = None


@journal_event
@dataclass(slots=True)
class BatchEnded(JournalEvent):
    """A batch's outcome: COMPLETED, PARTIAL or FAILED (with the failing command and reason)."""

    kind: ClassVar[str] = "batch_ended"
    id_field: ClassVar[str] = "batch_id"
    projected: ClassVar[bool] = False
    at: int
    batch_id: str
    mode: BatchExecutionMode
    status: GroupStatus
    failed_command_id: str | None = None
    reason: str | None = None


@journal_event
@dataclass(slots=True)
class OrderReplaced(JournalEvent):
    """A cancel-replace (amend) took effect; the order keeps its id with these terms.

    ``quantity`` is the new total (filled part included); a trailing stop moves this way.
    """

    kind: ClassVar[str] = "order_replaced"
    id_field: ClassVar[str] = "order_id"
    at: int
    order_id: str
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None


@journal_event
@dataclass(slots=True)
class OrderCancelRefused(JournalEvent):
    """The venue refused a cancel; the order works on and the cancel is sent again next bar."""

    kind: ClassVar[str] = "order_cancel_refused"
    id_field: ClassVar[str] = "order_id"
    projected: ClassVar[bool] = False
    at: int
    order_id: str
    reason: str


@journal_event
@dataclass(slots=True)
class OrderReplaceRefused(JournalEvent):
    """The venue refused a cancel-replace; the order works on with its old terms."""

    kind: ClassVar[str] = "order_replace_refused"
    id_field: ClassVar[str] = "order_id"
    projected: ClassVar[bool] = False
    at: int
    order_id: str
    reason: str


@journal_event
@dataclass(slots=True)
class GroupResized(JournalEvent):
    """A group's target changed: a protective pair follows |net|, an unwind takes a late fill."""

    kind: ClassVar[str] = "group_resized"
    id_field: ClassVar[str] = "group_id"
    at: int
    group_id: str
    target_quantity: Decimal


@journal_event
@dataclass(slots=True)
class ExitLevelsSet(JournalEvent):
    """A trade plan's protective levels (absolute prices; None: no such level)."""

    kind: ClassVar[str] = "exit_levels_set"
    id_field: ClassVar[str] = "trade_plan_id"
    at: int
    trade_plan_id: str
    stop_loss: Decimal | None
    take_profit: Decimal | None


@journal_event
@dataclass(slots=True)
class CostAccrued(JournalEvent):
    """A carrying cost charged on a plan's position (``kind`` BORROW: a short's daily borrow)."""

    kind: ClassVar[str] = "cost_accrued"
    id_field: ClassVar[str] = "trade_plan_id"
    at: int
    trade_plan_id: str
    symbol: str
    amount: Decimal
    cost_kind: str


@journal_event
@dataclass(slots=True)
class LateFill(JournalEvent):
    """The fill ``fill_id`` arrived after its command had ended (follows its OrderFilled)."""

    kind: ClassVar[str] = "late_fill"
    id_field: ClassVar[str] = "fill_id"
    ref_field: ClassVar[str | None] = "group_id"
    projected: ClassVar[bool] = False
    at: int
    fill_id: str
    order_id: str
    group_id: str
    command_id: str | None
    unwound: bool


@journal_event
@dataclass(slots=True)
class UnwindStarted(JournalEvent):
    """A failed COORDINATED batch reverses its fills on every leg (UNWIND groups follow)."""

    kind: ClassVar[str] = "unwind_started"
    id_field: ClassVar[str] = "batch_id"
    projected: ClassVar[bool] = False
    at: int
    batch_id: str
    failed_command_id: str
    reason: str


@journal_event
@dataclass(slots=True)
class UnwindCompleted(JournalEvent):
    """Every UNWIND group of the batch is done: its net contribution is back to zero."""

    kind: ClassVar[str] = "unwind_completed"
    id_field: ClassVar[str] = "batch_id"
    projected: ClassVar[bool] = False
    at: int
    batch_id: str


@journal_event
@dataclass(slots=True)
class KillSwitchTripped(JournalEvent):
    """The drawdown kill switch stopped new entries for the rest of the run."""

    kind: ClassVar[str] = "kill_switch_tripped"
    id_field: ClassVar[str] = "rule"
    projected: ClassVar[bool] = False
    at: int
    rule: str
    drawdown: float
    limit: float
