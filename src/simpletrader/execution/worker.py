"""The execution worker: carries commands out against a connector and records everything.

Every state change becomes a journal event, appended to the journal and applied to the ledger
(the ledger is the journal's projection). Batch semantics (INDEPENDENT / COORDINATED /
SEQUENTIAL, deadlines, unwinds) live in :mod:`simpletrader.execution.coordinator`; protective
pairs in :mod:`simpletrader.execution.protection`; this module turns one command into a group
and its orders, and venue reports into records.

Reactions follow DESIGN.md §4: reports are recorded as they arrive and protective pairs follow
every fill at once, but what a command, an algorithm or the coordinator does about them
(complete, fail, send the next slice, cancel other legs, unwind) waits until the venue's
matching pass is over. Outside a pass (a report at submission, a live connector) the worker
reacts at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simpletrader.core.clock import datetime_to_ns
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
    TradePlanStatus,
)
from simpletrader.core.event_bus import EventBus
from simpletrader.core.ids import IdGenerator
from simpletrader.dtos import ExecutionCommandBatch, decimal_of
from simpletrader.execution.algorithms import Action, Progress, build_algorithm
from simpletrader.execution.connectors.base import (
    CancelRefused,
    Connector,
    CostCharged,
    MatchingFinished,
    MatchingStarted,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFillReport,
    OrderRejected,
    OrderReplaced,
    OrderRequest,
    ReplaceRefused,
    VenueReport,
)
from simpletrader.execution.coordinator import (
    BatchCoordinator,
    BatchState,
    CommandState,
    UnwindLeg,
)
from simpletrader.execution.protection import ProtectionBook
from simpletrader.execution.risk import PreTradeRisk, RiskLimits
from simpletrader.journal.events import (
    CostAccrued,
    GroupCreated,
    GroupStatusChanged,
    JournalEvent,
    KillSwitchTripped,
    OrderCancelRefused,
    OrderFilled,
    OrderReplaceRefused,
    OrderStatusChanged,
    OrderSubmitted,
    TradePlanClosed,
    TradePlanOpened,
)
from simpletrader.journal.events import OrderReplaced as OrderReplacedEvent
from simpletrader.ledger.records import ZERO

if TYPE_CHECKING:
    from simpletrader.core.clock import Clock
    from simpletrader.data.instruments import Instrument
    from simpletrader.journal.journal import Journal
    from simpletrader.ledger.ledger import Ledger
    from simpletrader.ledger.records import GroupRecord, OrderRecord, TradePlanRecord

logger = logging.getLogger(__name__)

# Enum members read on every order, bound once: under Python 3.11 reading a member from its
# class goes through EnumType.__getattr__'s slot hook, ~900 instructions against ~20 for a global.
_NEW_TRADE = LegScope.NEW_TRADE
_CLOSE_EXISTING = LegScope.CLOSE_EXISTING
_ACTIVE_PLAN = TradePlanStatus.ACTIVE
_ENTRY = GroupRole.ENTRY
_PROTECTIVE = GroupRole.PROTECTIVE
_UNWIND = GroupRole.UNWIND
_PENDING = GroupStatus.PENDING
_ACTIVE = GroupStatus.ACTIVE
_COMPLETED = GroupStatus.COMPLETED
_PARTIAL = GroupStatus.PARTIAL
_FAILED = GroupStatus.FAILED
_OPEN = OrderStatus.OPEN
_MARKET = OrderType.MARKET
_GTC = TimeInForce.GTC
_GTD = TimeInForce.GTD
_SINGLE = ExecutionAlgorithm.SINGLE
_BUY = Side.BUY
_SELL = Side.SELL
_DIRECTION = {side: TradeDirection.from_side(side) for side in Side}
_SIGN = {side: side.sign for side in Side}

_TERMINAL_END = {
    OrderStatus.REJECTED: "REJECTED",
    OrderStatus.CANCELLED: "CANCELLED",
    OrderStatus.EXPIRED: "EXPIRED",
}


class ExecutionWorker:
    """Turns commands into groups and orders; turns venue reports into journal events.

    ``reference_price(symbol)`` is the last known price (the current bar's close during a flow,
    the previous close at a bar's open): equity-fraction sizes are estimated from it at
    submission, market orders are risk-checked at it, and a command's slippage is measured
    against its value when the batch arrives (the decision bar's close). ``latency_ns`` is the
    connector's latency, which the one-eligible-bar guarantee of deadlines accounts for.
    """

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
        risk_limits: RiskLimits | None = None,
        latency_ns: int = 0,
    ) -> None:
        self.ledger = ledger
        self.journal = journal
        self.connector = connector
        self.ids = ids
        self.clock = clock
        self.now: Callable[[], int] = clock.now_ns
        """The environment's time in ns (the clock's own method: read many times per order)."""
        self.instruments = instruments
        self.reference_price = reference_price
        self.bus = bus or EventBus()
        self.fill_on_close = fill_on_close
        self.latency_ns = latency_ns
        limits = risk_limits or RiskLimits()
        self.risk: PreTradeRisk | None = (
            PreTradeRisk(limits, ledger, instruments, reference_price) if limits.enabled else None
        )
        self.protection = ProtectionBook(self)
        self.coordinator = BatchCoordinator(self)
        self._group_command: dict[str, CommandState] = {}
        self._group_unwind: dict[str, UnwindLeg] = {}
        self.cancels: dict[str, str] = {}
        """Cancels asked for and not yet acknowledged, by order id (re-sent each bar)."""
        self._dirty: dict[CommandState, None] = {}
        self._dirty_legs: dict[UnwindLeg, None] = {}
        self._in_pass = False
        self._reacting = False
        # Bound once: every order records half a dozen events and reads the clock as often.
        self._append = journal.appender
        # The ledger's handler is looked up here, not through ``ledger.apply``: half of the
        # events recorded (flow entries, command and batch ends) change nothing in it.
        self._project = ledger.projections
        self._wants = self.bus.wants
        self._handlers: dict[type, Callable[[Any], None]] = {
            OrderFillReport: self._on_fill,
            MatchingStarted: self._on_pass_started,
            MatchingFinished: self._on_pass_finished,
            OrderAccepted: self._on_accepted,
            OrderRejected: self._on_rejected,
            OrderCancelled: self._on_cancelled,
            OrderExpired: self._on_expired,
            CancelRefused: self._on_cancel_refused,
            OrderReplaced: self._on_replaced,
            ReplaceRefused: self._on_replace_refused,
            CostCharged: self._on_cost,
        }
        connector.connect(self.on_report)

    def record(self, event: JournalEvent) -> None:
        """Append to the journal, project into the ledger, publish to interested subscribers."""
        self._append(event)
        kind = type(event)
        project = self._project[kind]
        if project is not None:
            project(event)
        if self._wants(kind):
            self.bus.publish(event)

    def submit_batch(self, batch: ExecutionCommandBatch, strategy_id: str) -> None:
        """Carry a batch out (called on the decision bar's close)."""
        self.coordinator.start(batch, strategy_id)
        self.coordinator.refresh()

    def on_bar_open(self, open_ns: int) -> None:
        """Step 1 of a bar, before matching: deadlines, re-sent cancels, unwind retries, due
        algorithm slices, protective pairs to restore. The engine calls it while
        ``coordinator.busy``."""
        self._reacting = True
        try:
            if self.cancels:
                self._resend_cancels()
            self.coordinator.on_bar_open(open_ns)
            if self.protection.dirty:
                self.protection.retry()
        finally:
            self._reacting = False
        self._react()

    def _resend_cancels(self) -> None:
        for order_id, reason in list(self.cancels.items()):
            order = self.ledger.orders.get(order_id)
            if order is None or not order.is_working:
                del self.cancels[order_id]
            else:
                self.connector.cancel(order_id, reason)

    def _touch(self, state: CommandState) -> None:
        self._dirty[state] = None
        if not self._in_pass and not self._reacting:
            self._react()

    def _touch_leg(self, leg: UnwindLeg) -> None:
        self._dirty_legs[leg] = None
        if not self._in_pass and not self._reacting:
            self._react()

    def _react(self) -> None:
        """Step 4: commands, algorithms and the coordinator react to what happened."""
        if self._reacting:
            return
        self._reacting = True
        try:
            while self._dirty or self._dirty_legs:
                if self._dirty:
                    states = (
                        sorted(self._dirty, key=CommandState.order_key)
                        if len(self._dirty) > 1
                        else list(self._dirty)
                    )
                    self._dirty.clear()
                    for state in states:
                        if not state.ended:
                            self.evaluate(state, scheduled=False)
                if self._dirty_legs:
                    legs = list(self._dirty_legs)
                    self._dirty_legs.clear()
                    for leg in legs:
                        self.coordinator.evaluate_unwind(leg)
        finally:
            self._reacting = False
        self.coordinator.refresh()

    def execute_command(self, state: CommandState) -> None:
        """Carry out one command: open, modify or close its trade plan and start its orders."""
        if state.scope is _NEW_TRADE:
            self._new_trade(state)
        else:
            self._change_plan(state)

    def _new_trade(self, state: CommandState) -> None:
        command = state.command
        entry, size = command.entry_plan, command.size_plan
        if entry is None or size is None:
            self.coordinator.command_ended(
                state,
                _FAILED,
                "REJECTED: INVALID_COMMAND a NEW_TRADE needs an entry plan and a size plan",
            )
            return
        symbol = entry.symbol
        instrument = self.instruments.get(symbol)
        if instrument is None or not self._tradable(symbol):
            self.coordinator.command_ended(state, _FAILED, f"REJECTED: UNKNOWN_SYMBOL {symbol}")
            return
        quantity = self._estimate_units(symbol, size.target_size, size.target_equity_fraction)
        if quantity < instrument.lot_size:
            self.coordinator.command_ended(
                state,
                _FAILED,
                f"REJECTED: BELOW_MIN_LOT size {quantity} < lot {instrument.lot_size}",
            )
            return
        at = self.now()
        trade_plan_id = self.ids.new("TPL", at)
        direction = _DIRECTION[entry.direction]
        self.record(TradePlanOpened(at, trade_plan_id, state.strategy_id, symbol, direction))
        state.trade_plan_id = trade_plan_id
        state.symbol = symbol
        state.side = entry.direction
        state.equity_fraction = size.target_equity_fraction
        self._open_group(state, trade_plan_id, quantity)
        if command.exit_plan is not None:
            self.protection.set_exit(trade_plan_id, command.exit_plan)
        self._start_algorithm(state, quantity)

    def _change_plan(self, state: CommandState) -> None:
        command = state.command
        requested = state.trade_plan_id  # the command's own until it runs
        assert requested is not None  # the DTO requires it for MODIFY/CLOSE
        plan = self.ledger.plans.get(requested)
        if plan is None or plan.status is not _ACTIVE_PLAN:
            self.coordinator.command_ended(
                state,
                _FAILED,
                f"REJECTED: UNKNOWN_TRADE_PLAN {requested} is not an active plan",
            )
            return
        trade_plan_id = plan.trade_plan_id
        state.trade_plan_id = trade_plan_id
        state.symbol = plan.symbol
        closing = state.scope is _CLOSE_EXISTING
        if not closing and command.size_plan is None:
            self._modify_exits(state, plan)
            return
        self.coordinator.supersede(trade_plan_id, state)
        if state.ended:
            # Superseding may end this very command (overlapping batches on one plan): an
            # ended command must not open a group or send orders that nothing would own.
            return
        for order in self.ledger.working_orders(trade_plan_id):
            group = self.ledger.groups[order.group_id]
            if group.role is not _PROTECTIVE:
                self.request_cancel(order.order_id, f"CANCELLED_BY_{state.scope}")
        if closing:
            self.protection.suspend(trade_plan_id)
            target = ZERO
        else:
            size = command.size_plan
            assert size is not None
            sign = 1 if plan.direction is TradeDirection.LONG else -1
            units = self._estimate_units(plan.symbol, size.target_size, size.target_equity_fraction)
            target = sign * units
            if command.exit_plan is not None:
                self.protection.set_exit(trade_plan_id, command.exit_plan)
        state.target_net = target
        delta = target - plan.net
        lot = self.instruments[plan.symbol].lot_size
        if abs(delta) < lot:
            # Idempotent: a re-delivered MODIFY or CLOSE finds nothing to do.
            self._open_group(state, trade_plan_id, ZERO)
            self._finish(state, _COMPLETED, None)
            return
        state.side = _BUY if delta > 0 else _SELL
        state.reduce_only = abs(target) < abs(plan.net)
        self._open_group(state, trade_plan_id, abs(delta))
        self._start_algorithm(state, abs(delta))

    def _modify_exits(self, state: CommandState, plan: TradePlanRecord) -> None:
        """An exit-only MODIFY: cancel-replace the protective prices; supersedes nothing."""
        exit_plan = state.command.exit_plan
        self._open_group(state, plan.trade_plan_id, ZERO)
        if exit_plan is not None:
            self.protection.set_exit(plan.trade_plan_id, exit_plan)
        self._finish(state, _COMPLETED, None)

    def _tradable(self, symbol: str) -> bool:
        price = self.reference_price(symbol)
        return price == price and price > 0

    def _estimate_units(
        self, symbol: str, target_size: Decimal | None, fraction: float | None
    ) -> Decimal:
        """Units from an absolute size, or from a fraction of equity at the last price."""
        instrument = self.instruments[symbol]
        if target_size is not None:
            return instrument.floor_quantity(target_size)
        assert fraction is not None  # SizePlan holds exactly one target
        # The flow converted this close (and an order's fraction is usually the last one's).
        price = decimal_of(self.reference_price(symbol))
        if price <= 0:
            return ZERO
        share = decimal_of(fraction)
        equity = self.equity_now()
        return instrument.floor_quantity(share * equity / (price * instrument.multiplier))

    def equity_now(self) -> Decimal:
        """Cash plus positions at the last known prices."""
        ledger = self.ledger
        equity = ledger.cash
        for symbol, net in ledger.positions.items():
            if net:
                price = Decimal(repr(self.reference_price(symbol)))
                equity += net * price * self.instruments[symbol].multiplier
        return equity

    def _open_group(self, state: CommandState, trade_plan_id: str, target: Decimal) -> None:
        at = self.now()
        group_id = self.ids.new("EXG", at)
        plan = state.execution_plan
        algorithm = plan.algorithm if plan is not None else _SINGLE
        self.record(
            GroupCreated(
                at,
                group_id,
                trade_plan_id,
                state.command_id,
                state.batch.batch_id,
                _ENTRY,
                algorithm,
                target,
            )
        )
        state.group_id = group_id
        self._group_command[group_id] = state

    def _start_algorithm(self, state: CommandState, quantity: Decimal) -> None:
        assert state.symbol is not None
        lot = self.instruments[state.symbol].lot_size
        algorithm = build_algorithm(state.execution_plan, quantity, lot, self.now())
        state.algorithm = algorithm
        first = algorithm.first()
        if first >= lot:
            self._send_child(state, first)

    def _send_child(self, state: CommandState, quantity: Decimal) -> None:
        """Send one order of the command (the whole of a SINGLE, a slice or a clip)."""
        command = state.command
        assert state.group_id is not None
        assert state.symbol is not None
        assert state.side is not None
        entry = command.entry_plan
        order_type = entry.order_type if entry is not None else _MARKET
        limit_price = entry.limit_price if entry is not None else None
        stop_price = entry.stop_price if entry is not None else None
        if state.scope is _CLOSE_EXISTING and entry is None:
            order_type = _MARKET
        plan = state.execution_plan
        tif = plan.time_in_force if plan is not None else _GTC
        expire_at = datetime_to_ns(plan.expire_at) if plan is not None and plan.expire_at else None
        fraction = None
        algorithm = state.algorithm
        if state.equity_fraction is not None and algorithm is not None and not algorithm.is_sliced:
            fraction = state.equity_fraction
        self.submit_order(
            state.group_id,
            state.symbol,
            state.side,
            order_type,
            quantity,
            limit_price=limit_price,
            stop_price=stop_price,
            time_in_force=tif,
            expire_at=expire_at,
            reduce_only=state.reduce_only,
            equity_fraction=fraction,
            fill_on_close=self.fill_on_close and order_type is _MARKET,
            position_id=state.trade_plan_id,
            check_risk=not state.reduce_only,
        )

    def submit_order(
        self,
        group_id: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        *,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        expire_at: int | None = None,
        reduce_only: bool = False,
        equity_fraction: float | None = None,
        fill_on_close: bool = False,
        position_id: str | None = None,
        oco_id: str | None = None,
        check_risk: bool = True,
    ) -> str:
        """Journal an order and send it, after the pre-trade risk checks; return its id.

        Prices are rounded to the tick and the quantity floored to the lot first, so the
        journal holds what the venue sees. A risk violation rejects the order without it
        reaching the connector.
        """
        at = self.now()
        instrument = self.instruments[symbol]
        quantity = instrument.floor_quantity(quantity)
        if limit_price is not None:
            limit_price = instrument.round_price(limit_price)
        if stop_price is not None:
            stop_price = instrument.round_price(stop_price)
        if time_in_force is not _GTD:
            expire_at = None
        order_id = self.ids.new("ORD", at)
        group = self.ledger.groups[group_id]
        client_order_id = f"{group_id}-{len(group.order_ids) + 1}"
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
                time_in_force,
                expire_at,
                reduce_only,
            )
        )
        if check_risk and self.risk is not None:
            price = limit_price or stop_price or Decimal(repr(self.reference_price(symbol)))
            was_tripped = self.risk.tripped
            violation = self.risk.check(symbol, side, quantity, price)
            if self.risk.tripped and not was_tripped:
                limit = self.risk.limits.kill_switch_drawdown or 0.0
                self.record(
                    KillSwitchTripped(at, "RISK_KILL_SWITCH", self.risk.max_drawdown(), limit)
                )
            if violation is not None:
                self.on_report(OrderRejected(order_id, violation, at))
                return order_id
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
                time_in_force,
                expire_at,
                reduce_only,
                equity_fraction,
                fill_on_close,
                at,
                position_id,
                oco_id,
            )
        )
        return order_id

    def submit_protective(
        self,
        group_id: str,
        plan: TradePlanRecord,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
    ) -> str:
        """One order of a plan's protective pair: reduce-only, OCO within its group."""
        return self.submit_order(
            group_id,
            plan.symbol,
            side,
            order_type,
            quantity,
            limit_price=limit_price,
            stop_price=stop_price,
            reduce_only=True,
            position_id=plan.trade_plan_id,
            oco_id=group_id,
            check_risk=False,
        )

    def request_cancel(self, order_id: str, reason: str) -> None:
        """Cancel a working order; a refused cancel is sent again at every bar's open."""
        order = self.ledger.orders.get(order_id)
        if order is None or not order.is_working:
            return
        self.cancels[order_id] = reason
        self.connector.cancel(order_id, reason)

    def request_replace(
        self,
        order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        self.connector.replace(
            order_id, quantity=quantity, limit_price=limit_price, stop_price=stop_price
        )

    def on_report(self, report: VenueReport) -> None:
        """The connector's listener: record the report, then react (after a pass)."""
        kind = type(report)
        handler = self._handlers.get(kind)
        if handler is None:
            self._record_report(report)
        else:
            handler(report)
        # The end of a pass has just reacted, and reacting ends with a refresh.
        if not self._in_pass and not self._reacting and kind is not MatchingFinished:
            self.coordinator.refresh()

    def _record_report(self, report: VenueReport) -> None:
        handler = self._handlers.get(type(report))
        if handler is None:
            # A subclass of a report type: found through its bases, then remembered.
            for base in type(report).__mro__:
                handler = self._handlers.get(base)
                if handler is not None:
                    self._handlers[type(report)] = handler
                    break
            else:
                return
        handler(report)

    def _on_pass_started(self, report: MatchingStarted) -> None:
        self._in_pass = True

    def _on_pass_finished(self, report: MatchingFinished) -> None:
        self._in_pass = False
        self._react()

    def _on_accepted(self, report: OrderAccepted) -> None:
        self.record(OrderStatusChanged(report.at, report.order_id, _OPEN))
        ledger = self.ledger
        group = ledger.groups[ledger.orders[report.order_id].group_id]
        if group.status is _PENDING:
            self.record(GroupStatusChanged(report.at, group.group_id, _ACTIVE))

    def _on_rejected(self, report: OrderRejected) -> None:
        self.record(
            OrderStatusChanged(report.at, report.order_id, OrderStatus.REJECTED, report.reason)
        )
        self._order_ended(report.order_id)

    def _on_cancelled(self, report: OrderCancelled) -> None:
        self.record(
            OrderStatusChanged(report.at, report.order_id, OrderStatus.CANCELLED, report.reason)
        )
        self._order_ended(report.order_id)

    def _on_expired(self, report: OrderExpired) -> None:
        self.record(OrderStatusChanged(report.at, report.order_id, OrderStatus.EXPIRED))
        self._order_ended(report.order_id)

    def _on_cancel_refused(self, report: CancelRefused) -> None:
        self.record(OrderCancelRefused(report.at, report.order_id, report.reason))

    def _on_replaced(self, report: OrderReplaced) -> None:
        self.record(
            OrderReplacedEvent(
                report.at,
                report.order_id,
                report.quantity,
                report.limit_price,
                report.stop_price,
            )
        )

    def _on_replace_refused(self, report: ReplaceRefused) -> None:
        self.record(OrderReplaceRefused(report.at, report.order_id, report.reason))
        order = self.ledger.orders.get(report.order_id)
        if order is not None and order.is_working:
            group = self.ledger.groups[order.group_id]
            if group.role is _PROTECTIVE:
                self.protection.dirty[group.trade_plan_id] = None

    def _on_cost(self, report: CostCharged) -> None:
        if report.position_id in self.ledger.plans:
            self.record(
                CostAccrued(
                    report.at, report.position_id, report.symbol, report.amount, report.kind
                )
            )
        else:
            logger.warning("cost %s on unknown position %s", report, report.position_id)

    def _group_of(self, order_id: str) -> GroupRecord:
        return self.ledger.groups[self.ledger.orders[order_id].group_id]

    def _on_fill(self, report: OrderFillReport) -> None:
        at = report.at
        order_id = report.order_id
        fill_id = self.ids.new("FIL", at)
        self.record(
            OrderFilled(
                at,
                fill_id,
                order_id,
                report.quantity,
                report.price,
                report.fee,
                report.fee_asset,
                report.liquidity,
                report.order_quantity,
            )
        )
        ledger = self.ledger
        order = ledger.orders[order_id]
        if self.cancels and not order.is_working:
            self.cancels.pop(order_id, None)
        group = ledger.groups[order.group_id]
        role = group.role
        if role is _ENTRY:
            state = self._group_command.get(group.group_id)
            if state is not None:
                reference = state.reference_price
                side = state.side
                if reference and side is not None:
                    slip = _SIGN[side] * (float(report.price) / reference - 1)
                    if slip > state.worst_slippage:
                        state.worst_slippage = slip
                if state.ended:
                    self.coordinator.late_fill(state, order, fill_id, report.quantity)
                else:
                    self._touch(state)
        elif role is _UNWIND:
            leg = self._group_unwind.get(group.group_id)
            if leg is not None:
                self._touch_leg(leg)
        self.protection.sync(group.trade_plan_id)
        self.maybe_close_plan(group.trade_plan_id)

    def release_settled(self, batch: BatchState) -> None:
        """Forget the group lookups of a settled batch whose orders can no longer fill.

        Without this every command (and its DTOs) would stay reachable for the whole run, so
        memory would grow with the number of trades; a fill on a forgotten group cannot come,
        since none of its orders is working.
        """
        orders = self.ledger.orders
        groups = self.ledger.groups
        group_ids = [c.group_id for c in batch.commands]
        if batch.legs:
            group_ids += [g.group_id for g in batch.legs]
        released = True
        for group_id in group_ids:
            if group_id is None:
                continue
            for order_id in groups[group_id].order_ids:
                if orders[order_id].is_working:
                    released = False
                    break
            else:
                self._group_command.pop(group_id, None)
                self._group_unwind.pop(group_id, None)
        if released:
            # Commands and unwind legs point back at their batch: without the cycle they are
            # freed at once instead of waiting, with all they hold, for the garbage collector.
            batch.commands.clear()
            batch.legs.clear()

    def _order_ended(self, order_id: str) -> None:
        """A working order ended without filling completely (cancelled, expired, rejected)."""
        self.cancels.pop(order_id, None)
        group = self._group_of(order_id)
        role = group.role
        if role is _ENTRY:
            state = self._group_command.get(group.group_id)
            if state is not None and not state.ended:
                self._touch(state)
        elif role is _UNWIND:
            leg = self._group_unwind.get(group.group_id)
            if leg is not None:
                self._touch_leg(leg)
        else:
            self.protection.on_order_ended(group.trade_plan_id)
        self.maybe_close_plan(group.trade_plan_id)

    def progress(self, group: GroupRecord) -> Progress:
        """A group's orders summed up for its algorithm."""
        orders = self.ledger.orders
        working = ZERO
        streak = 0
        last_end: str | None = None
        last_sent: int | None = None
        for order_id in group.order_ids:
            order = orders[order_id]
            last_sent = order.created_at
            if order.is_working:
                working += order.remaining
                last_end = None
            elif order.status is OrderStatus.FILLED:
                streak = 0
                last_end = None
            else:
                streak += 1
                last_end = _end_reason(order)
        return Progress(
            group.target_quantity,
            group.filled_quantity,
            working,
            len(group.order_ids),
            streak,
            last_end,
            last_sent,
        )

    def evaluate(self, state: CommandState, scheduled: bool) -> None:
        """Decide a working command's next move from its group, its algorithm and the clock."""
        if state.ended or state.group_id is None or state.algorithm is None:
            return
        group = self.ledger.groups[state.group_id]
        if self._reached_target(state, group):
            self._finish(state, _COMPLETED, None)
            return
        violation = self._slippage_violation(state)
        if violation is not None:
            self.end_early(state, violation, force_fail=True)
            return
        step = state.algorithm.step(self.progress(group), self.now(), scheduled)
        if step.action is Action.SEND:
            self._send_child(state, step.quantity)
        elif step.action is Action.END:
            reason = step.reason
            if state.algorithm.is_sliced and not reason.startswith(("REJECTED", "CANCELLED")):
                reason = f"CONSTRAINT_VIOLATED: {reason}"
            self.end_early(state, reason)

    def _reached_target(self, state: CommandState, group: GroupRecord) -> bool:
        if state.target_net is not None and state.trade_plan_id is not None:
            plan = self.ledger.plans[state.trade_plan_id]
            lot = self.instruments[plan.symbol].lot_size
            if abs(state.target_net - plan.net) < lot:
                return True
        return group.target_quantity > 0 and group.filled_quantity >= group.target_quantity

    def _slippage_violation(self, state: CommandState) -> str | None:
        """A sliced algorithm's hard slippage limit, against the decision bar's close."""
        plan = state.execution_plan
        algorithm = state.algorithm
        reference = state.reference_price
        if plan is None or algorithm is None or not algorithm.is_sliced or not reference:
            return None
        limit = plan.max_slippage_pct
        worst = state.worst_slippage
        if worst > limit + 1e-12:
            return (
                f"CONSTRAINT_VIOLATED: slippage {worst:.4%} against the decision close "
                f"{reference} > max {limit:.4%}"
            )
        return None

    def end_early(self, state: CommandState, reason: str, *, force_fail: bool = False) -> None:
        """End a working command now (deadline, window, IOC, constraint): cancel the rest and
        succeed when filled >= min_fill_ratio x target, else fail with ``reason``."""
        if state.ended:
            return
        if state.group_id is None:
            self.coordinator.command_ended(state, _FAILED, reason)
            return
        group = self.ledger.groups[state.group_id]
        for order_id in group.order_ids:
            self.request_cancel(order_id, reason.split(":", 1)[0])
        if not force_fail and self._reached_target(state, group):
            self._finish(state, _COMPLETED, None)
            return
        plan = state.execution_plan
        ratio = Decimal(repr(plan.min_fill_ratio)) if plan is not None else Decimal(1)
        filled = group.filled_quantity
        target = group.target_quantity
        if not force_fail and filled > 0 and target > 0 and filled >= ratio * target:
            self._finish(state, _PARTIAL, None)
            return
        self._finish(state, _FAILED, reason)

    def _finish(self, state: CommandState, status: GroupStatus, reason: str | None) -> None:
        """Record the group's end and hand the command's outcome to the coordinator."""
        if state.group_id is not None:
            group = self.ledger.groups[state.group_id]
            if not group.is_terminal:
                self.record(GroupStatusChanged(self.now(), group.group_id, status, reason))
        outcome = _COMPLETED if status is _PARTIAL else status
        self.coordinator.command_ended(state, outcome, reason, group_status=status)

    def close_group(self, state: CommandState, status: GroupStatus, reason: str) -> None:
        """Mark a command's group ended from outside (coordination, supersession)."""
        if state.group_id is None:
            return
        group = self.ledger.groups[state.group_id]
        if not group.is_terminal:
            failure = reason if status is _FAILED else None
            self.record(GroupStatusChanged(self.now(), group.group_id, status, failure))

    def cancel_orders(self, state: CommandState, reason: str) -> None:
        """Cancel whatever of a command's group still works."""
        if state.group_id is None:
            return
        for order_id in self.ledger.groups[state.group_id].order_ids:
            self.request_cancel(order_id, reason)

    def command_ended(self, state: CommandState) -> None:
        """Called by the coordinator once a command has ended: plans and protection follow."""
        trade_plan_id = state.trade_plan_id
        if trade_plan_id is None:
            return
        if state.scope is _CLOSE_EXISTING:
            self.protection.resume(trade_plan_id)
        self.maybe_close_plan(trade_plan_id)

    def open_unwind_group(self, leg: UnwindLeg, quantity: Decimal) -> str:
        at = self.now()
        group_id = self.ids.new("EXG", at)
        self.record(
            GroupCreated(
                at,
                group_id,
                leg.trade_plan_id,
                leg.command.command_id,
                leg.command.batch.batch_id,
                _UNWIND,
                _SINGLE,
                quantity,
            )
        )
        self._group_unwind[group_id] = leg
        return group_id

    def send_unwind(self, leg: UnwindLeg, quantity: Decimal) -> None:
        """A market order reversing ``quantity`` of the leg's fills (signed by ``leg.side``)."""
        assert leg.group_id is not None
        plan = self.ledger.plans[leg.trade_plan_id]
        reduces = leg.side is not plan.direction.entry_side
        self.submit_order(
            leg.group_id,
            plan.symbol,
            leg.side,
            _MARKET,
            quantity,
            reduce_only=reduces,
            position_id=plan.trade_plan_id,
            check_risk=False,
        )

    def maybe_close_plan(self, trade_plan_id: str) -> None:
        """Close a plan that is flat with no working command, order or unwind."""
        ledger = self.ledger
        plan = ledger.plans.get(trade_plan_id)
        if plan is None or plan.status is not _ACTIVE_PLAN or plan.net != 0:
            return
        if self.coordinator.holds_plan(trade_plan_id):
            return
        for group_id in plan.group_ids:
            group = ledger.groups[group_id]
            if group.role is _PROTECTIVE:
                continue
            if not group.is_terminal:
                return
            for order_id in group.order_ids:
                if ledger.orders[order_id].is_working:
                    return
        self.protection.sync(trade_plan_id)
        self.record(TradePlanClosed(self.now(), trade_plan_id))
        self.protection.release(trade_plan_id)


def _end_reason(order: OrderRecord) -> str:
    code = _TERMINAL_END.get(order.status, str(order.status))
    if order.status is OrderStatus.EXPIRED:
        return code
    return f"{code}: {order.status_reason}" if order.status_reason else code
