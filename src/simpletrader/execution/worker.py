"""The execution worker: carries batches out against a connector and records everything.

Every state change becomes a journal event, appended to the journal and applied to the ledger
(the ledger is the journal's projection). Batch semantics (INDEPENDENT / COORDINATED /
SEQUENTIAL, deadlines) live in :mod:`simpletrader.execution.coordinator`; this module turns one
command into orders and venue reports into records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from simpletrader.core.enums import (
    ExecutionAlgorithm,
    GroupRole,
    GroupStatus,
    LegScope,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradeDirection,
)
from simpletrader.core.event_bus import EventBus
from simpletrader.core.ids import IdGenerator
from simpletrader.dtos import ExecutionCommand, ExecutionCommandBatch
from simpletrader.execution.connectors.base import (
    CancelRefused,
    Connector,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFillReport,
    OrderRejected,
    OrderRequest,
    VenueReport,
)
from simpletrader.execution.coordinator import BatchCoordinator, CommandState
from simpletrader.journal.events import (
    GroupCreated,
    GroupStatusChanged,
    JournalEvent,
    OrderFilled,
    OrderStatusChanged,
    OrderSubmitted,
    TradePlanClosed,
    TradePlanOpened,
)
from simpletrader.ledger.records import ZERO

if TYPE_CHECKING:
    from simpletrader.core.clock import Clock
    from simpletrader.data.instruments import Instrument
    from simpletrader.journal.journal import Journal
    from simpletrader.ledger.ledger import Ledger


class ExecutionWorker:
    """Turns commands into groups and orders; turns venue reports into journal events."""

    def __init__(
        self,
        ledger: Ledger,
        journal: Journal,
        connector: Connector,
        ids: IdGenerator,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        reference_price: Callable[[str], float],
        bus: EventBus | None = None,
        fill_on_close: bool = False,
    ) -> None:
        self.ledger = ledger
        self.journal = journal
        self.connector = connector
        self.ids = ids
        self.clock = clock
        self.instruments = instruments
        self.reference_price = reference_price
        self.bus = bus or EventBus()
        self.fill_on_close = fill_on_close
        self.coordinator = BatchCoordinator(self)
        self._order_group: dict[str, str] = {}
        self._group_command: dict[str, CommandState] = {}
        self._order_seq: dict[str, int] = {}
        connector.connect(self.on_report)

    # -- recording ------------------------------------------------------------------------------
    def record(self, event: JournalEvent) -> None:
        """Append to the journal, project into the ledger, publish to interested subscribers."""
        self.journal.append(event)
        self.ledger.apply(event)
        if self.bus.wants(type(event)):
            self.bus.publish(event)

    def now(self) -> int:
        return self.clock.now_ns()

    # -- batches ---------------------------------------------------------------------------------
    def submit_batch(self, batch: ExecutionCommandBatch, strategy_id: str) -> None:
        self.coordinator.start(batch, strategy_id)

    def on_bar_open(self, open_ns: int) -> None:
        """Step 1 of a bar: deadlines."""
        if self.coordinator.active:
            self.coordinator.check_deadlines(open_ns)

    # -- commands ----------------------------------------------------------------------------------
    def execute_command(self, state: CommandState) -> None:
        """Carry out one command: open/modify/close its trade plan and send its order."""
        command = state.command
        at = self.now()
        scope = command.scope
        if scope is LegScope.NEW_TRADE:
            assert command.entry_plan is not None
            symbol = command.entry_plan.symbol
            side = command.entry_plan.direction
            trade_plan_id = self.ids.new("TPL", at)
            self.record(
                TradePlanOpened(
                    at, trade_plan_id, state.strategy_id, symbol, TradeDirection.from_side(side)
                )
            )
            state.trade_plan_id = trade_plan_id
            quantity = self._entry_quantity(command, symbol)
            self._open_group(state, trade_plan_id, abs(quantity))
            if quantity <= 0:
                lot = self._instrument(symbol).lot_size if symbol in self.instruments else "?"
                self._fail_group(state, f"BELOW_MIN_LOT size {quantity} < lot {lot}")
                return
            self._send(state, symbol, side, quantity, reduce_only=False)
            return

        assert command.trade_plan_id is not None
        plan = self.ledger.plans.get(command.trade_plan_id)
        state.trade_plan_id = command.trade_plan_id
        if plan is None or plan.status != "ACTIVE":
            self.coordinator.command_ended(
                state, GroupStatus.FAILED, f"UNKNOWN_TRADE_PLAN {command.trade_plan_id}"
            )
            return
        self.coordinator.supersede_working(plan.trade_plan_id, state)
        for order in self.ledger.working_orders(plan.trade_plan_id):
            if not order.reduce_only or scope is LegScope.CLOSE_EXISTING:
                self.connector.cancel(order.order_id, "CANCELLED_BY_" + scope)
        if scope is LegScope.CLOSE_EXISTING:
            target = ZERO
        else:
            target = self._modify_target(command, plan.symbol, plan.direction)
        delta = target - plan.net
        instrument = self._instrument(plan.symbol)
        if abs(delta) < instrument.lot_size:
            self._open_group(state, plan.trade_plan_id, ZERO)
            self._complete_group(state)
            self._maybe_close_plan(plan.trade_plan_id)
            return
        side = Side.BUY if delta > 0 else Side.SELL
        self._open_group(state, plan.trade_plan_id, abs(delta))
        reduce_only = abs(target) < abs(plan.net) and (target >= 0) == (plan.net >= 0)
        self._send(state, plan.symbol, side, abs(delta), reduce_only=reduce_only)

    def _instrument(self, symbol: str) -> Instrument:
        return self.instruments[symbol]

    def _entry_quantity(self, command: ExecutionCommand, symbol: str) -> Decimal:
        size = command.size_plan
        instrument = self.instruments.get(symbol)
        if size is None or instrument is None:
            return ZERO
        if size.target_size is not None:
            return instrument.floor_quantity(size.target_size)
        assert size.target_equity_fraction is not None
        price = Decimal(repr(self.reference_price(symbol)))
        equity = Decimal(repr(self.ledger.equity()))
        fraction = Decimal(repr(size.target_equity_fraction))
        return instrument.floor_quantity(fraction * equity / (price * instrument.multiplier))

    def _modify_target(
        self, command: ExecutionCommand, symbol: str, direction: TradeDirection
    ) -> Decimal:
        """The signed absolute position the MODIFY aims at."""
        size = command.size_plan
        sign = 1 if direction is TradeDirection.LONG else -1
        if size is None:
            return self.ledger.plans[command.trade_plan_id or ""].net
        if size.target_size is not None:
            return sign * self._instrument(symbol).floor_quantity(size.target_size)
        assert size.target_equity_fraction is not None
        price = Decimal(repr(self.reference_price(symbol)))
        equity = Decimal(repr(self.ledger.equity()))
        fraction = Decimal(repr(size.target_equity_fraction))
        instrument = self._instrument(symbol)
        return sign * instrument.floor_quantity(fraction * equity / (price * instrument.multiplier))

    def _open_group(self, state: CommandState, trade_plan_id: str, target: Decimal) -> None:
        at = self.now()
        group_id = self.ids.new("EXG", at)
        plan = state.command.execution_plan
        algorithm = plan.algorithm if plan is not None else ExecutionAlgorithm.SINGLE
        self.record(
            GroupCreated(
                at,
                group_id,
                trade_plan_id,
                state.command.command_id,
                state.batch.batch_id,
                GroupRole.ENTRY,
                algorithm,
                target,
            )
        )
        state.group_id = group_id
        self._group_command[group_id] = state

    def _send(
        self, state: CommandState, symbol: str, side: Side, quantity: Decimal, *, reduce_only: bool
    ) -> None:
        command = state.command
        at = self.now()
        group_id = state.group_id
        assert group_id is not None
        entry = command.entry_plan
        order_type = entry.order_type if entry is not None else OrderType.MARKET
        limit_price = entry.limit_price if entry is not None else None
        stop_price = entry.stop_price if entry is not None else None
        exec_plan = command.execution_plan
        tif = exec_plan.time_in_force if exec_plan is not None else TimeInForce.GTC
        expire_at = (
            int(exec_plan.expire_at.timestamp() * 1e9)
            if exec_plan is not None and exec_plan.expire_at is not None
            else None
        )
        size = command.size_plan
        fraction = (
            size.target_equity_fraction
            if size is not None and command.scope is LegScope.NEW_TRADE
            else None
        )
        order_id = self.ids.new("ORD", at)
        k = self._order_seq.get(group_id, 0) + 1
        self._order_seq[group_id] = k
        client_order_id = f"{group_id}-{k}"
        self.record(
            OrderSubmitted(
                at,
                order_id,
                client_order_id,
                group_id,
                symbol,
                side,
                order_type,
                quantity,
                limit_price,
                stop_price,
                tif,
                expire_at,
                reduce_only,
            )
        )
        self._order_group[order_id] = group_id
        self.connector.submit(
            OrderRequest(
                order_id,
                client_order_id,
                symbol,
                side,
                order_type,
                quantity,
                limit_price,
                stop_price,
                tif,
                expire_at,
                reduce_only,
                fraction,
                self.fill_on_close and order_type is OrderType.MARKET,
                at,
            )
        )

    # -- venue reports ---------------------------------------------------------------------------
    def on_report(self, report: VenueReport) -> None:
        if isinstance(report, OrderFillReport):
            self._on_fill(report)
        elif isinstance(report, OrderAccepted):
            self.record(OrderStatusChanged(report.at, report.order_id, OrderStatus.OPEN))
            state = self._state_of(report.order_id)
            group = self.ledger.groups[self._order_group[report.order_id]]
            if group.status is GroupStatus.PENDING and state is not None:
                self.record(GroupStatusChanged(report.at, group.group_id, GroupStatus.ACTIVE))
        elif isinstance(report, OrderRejected):
            self.record(
                OrderStatusChanged(report.at, report.order_id, OrderStatus.REJECTED, report.reason)
            )
            self._order_ended(report.order_id, f"REJECTED {report.reason}")
        elif isinstance(report, OrderCancelled):
            self.record(
                OrderStatusChanged(
                    self.now(), report.order_id, OrderStatus.CANCELLED, report.reason
                )
            )
            self._order_ended(report.order_id, f"CANCELLED {report.reason}")
        elif isinstance(report, OrderExpired):
            self.record(OrderStatusChanged(report.at, report.order_id, OrderStatus.EXPIRED))
            self._order_ended(report.order_id, "EXPIRED")
        elif isinstance(report, CancelRefused):
            self.coordinator.cancel_refused(report.order_id, report.reason)

    def _state_of(self, order_id: str) -> CommandState | None:
        return self._group_command.get(self._order_group[order_id])

    def _on_fill(self, report: OrderFillReport) -> None:
        fill_id = self.ids.new("FIL", report.at)
        self.record(
            OrderFilled(
                report.at,
                fill_id,
                report.order_id,
                report.quantity,
                report.price,
                report.fee,
                report.fee_asset,
                report.liquidity,
                report.order_quantity,
            )
        )
        group = self.ledger.groups[self._order_group[report.order_id]]
        if report.order_quantity is not None:
            group.target_quantity = report.order_quantity
        state = self._group_command.get(group.group_id)
        if state is None:
            return
        if state.ended:
            self.coordinator.late_fill(state, report)
        elif group.filled_quantity >= group.target_quantity:
            self._complete_group(state)
        self._maybe_close_plan(group.trade_plan_id)

    def _order_ended(self, order_id: str, reason: str) -> None:
        """A working order ended without filling completely."""
        state = self._state_of(order_id)
        group = self.ledger.groups[self._order_group[order_id]]
        if state is not None and not state.ended:
            if group.filled_quantity > 0 and state.command.execution_plan is not None:
                ratio = group.filled_quantity / group.target_quantity
                if ratio >= Decimal(repr(state.command.execution_plan.min_fill_ratio)):
                    self._complete_group(state, partial=True)
                    self._maybe_close_plan(group.trade_plan_id)
                    return
            self._fail_group(state, reason)
        self._maybe_close_plan(group.trade_plan_id)

    def _complete_group(self, state: CommandState, *, partial: bool = False) -> None:
        assert state.group_id is not None
        status = GroupStatus.PARTIAL if partial else GroupStatus.COMPLETED
        self.record(GroupStatusChanged(self.now(), state.group_id, status))
        self.coordinator.command_ended(state, GroupStatus.COMPLETED, None)

    def _fail_group(self, state: CommandState, reason: str) -> None:
        assert state.group_id is not None
        group = self.ledger.groups[state.group_id]
        if not group.is_terminal:
            self.record(GroupStatusChanged(self.now(), state.group_id, GroupStatus.FAILED, reason))
        self.coordinator.command_ended(state, GroupStatus.FAILED, reason)
        if state.trade_plan_id is not None:
            self._maybe_close_plan(state.trade_plan_id)

    def cancel_command(self, state: CommandState, reason: str, status: GroupStatus) -> None:
        """End a working command: cancel its orders and mark its group."""
        if state.group_id is None:
            return
        group = self.ledger.groups[state.group_id]
        for order_id in group.order_ids:
            if self.ledger.orders[order_id].is_working:
                self.connector.cancel(order_id, reason)
        if not group.is_terminal:
            self.record(
                GroupStatusChanged(
                    self.now(),
                    state.group_id,
                    status,
                    reason if status is GroupStatus.FAILED else None,
                )
            )

    def _maybe_close_plan(self, trade_plan_id: str) -> None:
        plan = self.ledger.plans[trade_plan_id]
        if (
            plan.status == "ACTIVE"
            and plan.net == 0
            and not self.ledger.has_working_command(trade_plan_id)
        ):
            for order in self.ledger.working_orders(trade_plan_id):
                self.connector.cancel(order.order_id, "PLAN_FLAT")
            self.record(TradePlanClosed(self.now(), trade_plan_id))
