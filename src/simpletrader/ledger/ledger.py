"""The ledger: a projection of the journal.

Built only by applying journal events, so replaying a journal into a fresh ledger gives the same
cash, positions, orders, fills, realized P&L and fees. Equity and unrealized P&L also need bars:
``mark`` writes the equity of bar ``i`` as a float into a preallocated array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from simpletrader.core.enums import GroupRole, GroupStatus, OrderStatus, TradePlanStatus
from simpletrader.core.errors import ExecutionError
from simpletrader.journal.events import (
    BatchEnded,
    CommandEnded,
    DirectiveNotPlanned,
    FlowRecorded,
    GroupCreated,
    GroupStatusChanged,
    JournalEvent,
    OrderFilled,
    OrderStatusChanged,
    OrderSubmitted,
    TradePlanClosed,
    TradePlanOpened,
)
from simpletrader.ledger.records import (
    ZERO,
    FillRecord,
    GroupRecord,
    OrderRecord,
    TradePlanRecord,
)


class Ledger:
    """Cash, positions, trade plans, groups, orders and fills of one account."""

    def __init__(
        self,
        starting_cash: Decimal,
        multipliers: Mapping[str, Decimal] | None = None,
        n_bars: int = 0,
    ) -> None:
        self.starting_cash = starting_cash
        self.cash = starting_cash
        self.fees = ZERO
        self.realized_pnl = ZERO
        self.positions: dict[str, Decimal] = {}
        self.plans: dict[str, TradePlanRecord] = {}
        self.groups: dict[str, GroupRecord] = {}
        self.orders: dict[str, OrderRecord] = {}
        self.fills: list[FillRecord] = []
        self._multipliers = dict(multipliers or {})
        self._active: dict[str, list[TradePlanRecord]] = {}
        # Float mirrors for the per-bar mark; Decimals stay the truth.
        self._cash_f = float(starting_cash)
        self._held: dict[str, float] = {}
        self._closes: dict[str, memoryview] = {}
        self.equity_curve = np.full(n_bars, np.nan, dtype=np.float64)
        self._equity = float(starting_cash)
        self._peak = float(starting_cash)
        self._apply: dict[type, Callable[[Any], None]] = {
            FlowRecorded: _ignore,
            DirectiveNotPlanned: _ignore,
            CommandEnded: _ignore,
            BatchEnded: _ignore,
            TradePlanOpened: self._on_plan_opened,
            TradePlanClosed: self._on_plan_closed,
            GroupCreated: self._on_group_created,
            GroupStatusChanged: self._on_group_status,
            OrderSubmitted: self._on_order_submitted,
            OrderStatusChanged: self._on_order_status,
            OrderFilled: self._on_order_filled,
        }

    # -- projection ------------------------------------------------------------------------
    def apply(self, event: JournalEvent) -> None:
        self._apply[type(event)](event)

    def replay(self, events: Iterable[JournalEvent]) -> None:
        for event in events:
            self.apply(event)

    def _on_plan_opened(self, e: TradePlanOpened) -> None:
        plan = TradePlanRecord(e.trade_plan_id, e.strategy_id, e.symbol, e.direction, e.at)
        self.plans[e.trade_plan_id] = plan
        self._active.setdefault(e.strategy_id, []).append(plan)

    def _on_plan_closed(self, e: TradePlanClosed) -> None:
        plan = self.plans[e.trade_plan_id]
        if plan.net != 0:
            raise ExecutionError(f"trade plan {plan.trade_plan_id} closed with net {plan.net}")
        plan.status = TradePlanStatus.CLOSED
        plan.closed_at = e.at
        self._active[plan.strategy_id].remove(plan)

    def _on_group_created(self, e: GroupCreated) -> None:
        self.groups[e.group_id] = GroupRecord(
            e.group_id,
            e.trade_plan_id,
            e.command_id,
            e.batch_id,
            e.role,
            e.algorithm,
            e.target_quantity,
            e.at,
        )
        self.plans[e.trade_plan_id].group_ids.append(e.group_id)

    def _on_group_status(self, e: GroupStatusChanged) -> None:
        group = self.groups[e.group_id]
        group.status = e.status
        group.failure_reason = e.reason if e.status is GroupStatus.FAILED else None
        group.updated_at = e.at

    def _on_order_submitted(self, e: OrderSubmitted) -> None:
        self.orders[e.order_id] = OrderRecord(
            e.order_id,
            e.client_order_id,
            e.group_id,
            e.symbol,
            e.side,
            e.order_type,
            e.quantity,
            e.limit_price,
            e.stop_price,
            e.time_in_force,
            e.expire_at,
            e.reduce_only,
            e.at,
        )
        self.groups[e.group_id].order_ids.append(e.order_id)

    def _on_order_status(self, e: OrderStatusChanged) -> None:
        self.orders[e.order_id].move(e.status, e.at, e.reason)

    def _on_order_filled(self, e: OrderFilled) -> None:
        order = self.orders[e.order_id]
        if e.order_quantity is not None:
            order.quantity = e.order_quantity
        order.filled_quantity += e.quantity
        if order.filled_quantity > order.quantity:
            raise ExecutionError(
                f"order {order.order_id} filled {order.filled_quantity} > quantity {order.quantity}"
            )
        status = (
            OrderStatus.FILLED
            if order.filled_quantity == order.quantity
            else OrderStatus.PARTIALLY_FILLED
        )
        order.move(status, e.at)
        group = self.groups[order.group_id]
        group.filled_quantity += e.quantity
        plan = self.plans[group.trade_plan_id]
        signed = e.quantity if order.side == "BUY" else -e.quantity
        multiplier = self._multipliers.get(order.symbol, Decimal(1))
        realized = plan.apply_fill(signed, e.price, e.fee, multiplier, e.at)
        self.realized_pnl += realized
        self.fees += e.fee
        self.cash -= signed * e.price * multiplier + e.fee
        net = self.positions.get(order.symbol, ZERO) + signed
        self.positions[order.symbol] = net
        self._cash_f = float(self.cash)
        if net == 0:
            self._held.pop(order.symbol, None)
        else:
            self._held[order.symbol] = float(net * multiplier)
        self.fills.append(
            FillRecord(
                e.fill_id, e.order_id, e.quantity, e.price, e.fee, e.fee_asset, e.liquidity, e.at
            )
        )

    # -- marking -----------------------------------------------------------------------------
    def attach_prices(self, closes: Mapping[str, memoryview]) -> None:
        """Give the ledger the close series it marks positions against."""
        self._closes = dict(closes)

    def mark(self, index: int) -> float:
        """Equity at the close of bar ``index``, written into ``equity_curve``."""
        equity = self._cash_f
        if self._held:
            closes = self._closes
            for symbol, units in self._held.items():
                equity += units * closes[symbol][index]
        self.equity_curve[index] = equity
        self._equity = equity
        if equity > self._peak:
            self._peak = equity
        return equity

    def equity_at(self, prices: Mapping[str, float]) -> float:
        """Equity with positions marked at ``prices`` (missing symbols at their last close)."""
        equity = self._cash_f
        for symbol, units in self._held.items():
            equity += units * prices[symbol]
        return equity

    # -- LedgerView ------------------------------------------------------------------------
    def equity(self) -> float:
        return self._equity

    def peak_equity(self) -> float:
        return self._peak

    def net(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, ZERO)

    def open_plans(self, strategy_id: str, symbol: str | None = None) -> Sequence[TradePlanRecord]:
        plans = self._active.get(strategy_id, ())
        if symbol is None:
            return tuple(plans)
        return tuple(p for p in plans if p.symbol == symbol)

    def has_working_command(self, trade_plan_id: str) -> bool:
        plan = self.plans[trade_plan_id]
        for group_id in plan.group_ids:
            group = self.groups[group_id]
            if group.role is not GroupRole.PROTECTIVE and not group.is_terminal:
                return True
        return False

    def working_orders(self, trade_plan_id: str) -> list[OrderRecord]:
        plan = self.plans[trade_plan_id]
        return [
            self.orders[oid]
            for gid in plan.group_ids
            for oid in self.groups[gid].order_ids
            if self.orders[oid].is_working
        ]

    def state_digest(self) -> tuple[object, ...]:
        """Everything a journal rebuild must reproduce, for equality checks."""
        return (
            self.cash,
            self.fees,
            self.realized_pnl,
            tuple(sorted((s, n) for s, n in self.positions.items())),
            tuple(
                (o.order_id, o.status, o.quantity, o.filled_quantity) for o in self.orders.values()
            ),
            tuple((f.fill_id, f.quantity, f.price, f.fee) for f in self.fills),
            tuple(
                (p.trade_plan_id, p.status, p.net, p.realized_pnl, p.fees)
                for p in self.plans.values()
            ),
            tuple((g.group_id, g.status, g.filled_quantity) for g in self.groups.values()),
        )


def _ignore(_: object) -> None:
    return None
