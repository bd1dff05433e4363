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
import numpy.typing as npt

from simpletrader.core.enums import GroupRole, GroupStatus, OrderStatus, TradePlanStatus
from simpletrader.core.errors import ExecutionError
from simpletrader.journal.events import (
    EVENT_TYPES,
    CostAccrued,
    ExitLevelsSet,
    GroupCreated,
    GroupResized,
    GroupStatusChanged,
    JournalEvent,
    OrderFilled,
    OrderReplaced,
    OrderStatusChanged,
    OrderSubmitted,
    TradePlanClosed,
    TradePlanOpened,
)
from simpletrader.ledger.marks import FLUSH_AT, QueuedMarks
from simpletrader.ledger.records import (
    ONE,
    ZERO,
    DecimalPool,
    FillRecord,
    GroupRecord,
    OrderRecord,
    TradePlanRecord,
)

# Read on every fill and group change: under Python 3.11 a member read from its enum class costs
# ~900 instructions (EnumType.__getattr__'s slot hook), a module global ~20.
_FAILED = GroupStatus.FAILED
_FILLED = OrderStatus.FILLED
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_CLOSED_PLAN = TradePlanStatus.CLOSED
_PROTECTIVE = GroupRole.PROTECTIVE


class Projections(dict[type, Callable[[Any], None] | None]):
    """A ledger's handler per journal event type; a type that is not a registered journal
    event is an :class:`ExecutionError`, not a silent no-op."""

    __slots__ = ()

    def __missing__(self, event_type: type) -> Callable[[Any], None] | None:
        raise ExecutionError(f"{event_type.__qualname__} is not a registered journal event")


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
        self.carry_costs = ZERO
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
        self._close_arrays: dict[str, np.ndarray] = {}
        self._curve: npt.NDArray[np.float64] = np.full(n_bars, np.nan, dtype=np.float64)
        self._queued = QueuedMarks()
        self._queued_to = 0  # the highest queued stop: a write below it waits for the queue
        self._equity = float(starting_cash)
        self._peak = float(starting_cash)
        self.projections = Projections(self._handlers())
        """Each journal event type's handler (None: it changes nothing here), for a caller
        that projects many events to look up once per event (:meth:`apply` does the same)."""
        self._pool = DecimalPool()
        # ``share(str(x), x)`` is the pool's lookup without a Python call: a fill makes several.
        self._share = self._pool.share

    def _handlers(self) -> dict[type, Callable[[Any], None] | None]:
        """Every registered event type mapped to its ``_on_<kind>`` handler (None: ignored).

        An event that changes state (``projected``) but has no handler is a programming error,
        caught here rather than left to produce a silently wrong ledger.
        """
        handlers: dict[type, Callable[[Any], None] | None] = {}
        for kind, cls in EVENT_TYPES.items():
            handler = getattr(self, f"_on_{kind}", None)
            if handler is None and cls.projected:
                raise TypeError(
                    f"journal event {cls.__qualname__} ({kind!r}) is projected but "
                    f"{type(self).__qualname__} has no _on_{kind} handler"
                )
            handlers[cls] = handler
        return handlers

    # -- projection ------------------------------------------------------------------------
    def apply(self, event: JournalEvent) -> None:
        """Project one journal event: the only way the ledger's state changes."""
        handler = self.projections[type(event)]
        # Half of a flow's entries (facts, signals, the batch) change nothing here.
        if handler is not None:
            handler(event)

    def replay(self, events: Iterable[JournalEvent]) -> None:
        """Apply events in order: a rebuild without bars (no equity curve)."""
        for event in events:
            self.apply(event)

    @classmethod
    def rebuild(
        cls,
        bar_events: Iterable[tuple[int, JournalEvent]],
        starting_cash: Decimal,
        multipliers: Mapping[str, Decimal],
        closes: Mapping[str, Any],
        n_bars: int,
    ) -> Ledger:
        """A ledger rebuilt from ``(bar, event)`` entries and close series, equity included.

        Does what the engine did: for every bar ``b``, bar ``b``'s entries are applied and then
        ``b`` is marked at its close, so the equity curve is reproduced as well.
        """
        ledger = cls(starting_cash, multipliers, n_bars=n_bars)
        ledger.attach_prices(
            {s: np.ascontiguousarray(c, dtype=np.float64).data for s, c in closes.items()}
        )
        marked = 0
        apply = ledger.apply
        mark = ledger.mark
        for bar, event in bar_events:
            while marked < bar and marked < n_bars:
                mark(marked)
                marked += 1
            apply(event)
        while marked < n_bars:
            mark(marked)
            marked += 1
        return ledger

    def _on_trade_plan_opened(self, e: TradePlanOpened) -> None:
        plan = TradePlanRecord(e.trade_plan_id, e.strategy_id, e.symbol, e.direction, e.at)
        self.plans[e.trade_plan_id] = plan
        self._active.setdefault(e.strategy_id, []).append(plan)

    def _on_trade_plan_closed(self, e: TradePlanClosed) -> None:
        plan = self.plans[e.trade_plan_id]
        if plan.net != 0:
            raise ExecutionError(f"trade plan {plan.trade_plan_id} closed with net {plan.net}")
        plan.status = _CLOSED_PLAN
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
            self._share(str(e.target_quantity), e.target_quantity),
            e.at,
        )
        plan = self.plans[e.trade_plan_id]
        plan.group_ids += (e.group_id,)

    def _on_group_status_changed(self, e: GroupStatusChanged) -> None:
        group = self.groups[e.group_id]
        group.status = e.status
        group.failure_reason = e.reason if e.status is _FAILED else None
        group.updated_at = e.at

    def _on_order_submitted(self, e: OrderSubmitted) -> None:
        self.orders[e.order_id] = OrderRecord(
            e.order_id,
            e.client_order_id,
            e.group_id,
            e.symbol,
            e.side,
            e.order_type,
            self._share(str(e.quantity), e.quantity),
            e.limit_price,
            e.stop_price,
            e.time_in_force,
            e.expire_at,
            e.reduce_only,
            e.at,
        )
        group = self.groups[e.group_id]
        group.order_ids += (e.order_id,)

    def _on_order_status_changed(self, e: OrderStatusChanged) -> None:
        self.orders[e.order_id].move(e.status, e.at, e.reason)

    def _on_order_filled(self, e: OrderFilled) -> None:
        order = self.orders[e.order_id]
        group = self.groups[order.group_id]
        share = self._share
        # Prices are not pooled: each is mostly its own, and the fill's object is shared already.
        quantity, price, fee = e.quantity, e.price, e.fee
        quantity = share(str(quantity), quantity)
        fee = share(str(fee), fee)
        if e.order_quantity is not None:
            # An equity-fraction order is re-sized at fill; its group's target follows.
            order.quantity = group.target_quantity = self._pool(e.order_quantity)
        filled = order.filled_quantity + quantity
        order.filled_quantity = filled = share(str(filled), filled)
        if filled > order.quantity:
            raise ExecutionError(
                f"order {order.order_id} filled {filled} > quantity {order.quantity}"
            )
        order.move(_FILLED if filled == order.quantity else _PARTIALLY_FILLED, e.at)
        filled = group.filled_quantity + quantity
        group.filled_quantity = share(str(filled), filled)
        plan = self.plans[group.trade_plan_id]
        symbol = order.symbol
        signed = quantity if order.side == "BUY" else -quantity
        multiplier = self._multipliers.get(symbol, ONE)
        realized = plan.apply_fill(signed, price, fee, multiplier, e.at, self._pool)
        self.realized_pnl += realized
        self.fees += fee
        self.cash = cash = self.cash - (signed * price * multiplier + fee)
        self._cash_f = float(cash)
        positions = self.positions
        net = positions.get(symbol, ZERO) + signed
        positions[symbol] = net
        if net == 0:
            self._held.pop(symbol, None)
        else:
            self._held[symbol] = float(net * multiplier)
        self.fills.append(
            FillRecord(e.fill_id, e.order_id, quantity, price, fee, e.fee_asset, e.liquidity, e.at)
        )

    def _on_order_replaced(self, e: OrderReplaced) -> None:
        order = self.orders[e.order_id]
        order.quantity = e.quantity
        order.limit_price = e.limit_price
        order.stop_price = e.stop_price
        order.updated_at = e.at

    def _on_group_resized(self, e: GroupResized) -> None:
        group = self.groups[e.group_id]
        group.target_quantity = e.target_quantity
        group.updated_at = e.at

    def _on_exit_levels_set(self, e: ExitLevelsSet) -> None:
        plan = self.plans[e.trade_plan_id]
        plan.stop_loss = e.stop_loss
        plan.take_profit = e.take_profit

    def _on_cost_accrued(self, e: CostAccrued) -> None:
        # A carrying cost (borrow on a short) is cash out of the account and a cost of the plan.
        self.plans[e.trade_plan_id].carry_costs += e.amount
        self.carry_costs += e.amount
        self.cash -= e.amount
        self._cash_f = float(self.cash)

    # -- marking -----------------------------------------------------------------------------
    def attach_prices(self, closes: Mapping[str, memoryview]) -> None:
        """Give the ledger the close series it marks positions against."""
        self._write_queued()
        self._closes = dict(closes)
        self._close_arrays = {s: np.asarray(c) for s, c in closes.items()}

    @property
    def equity_curve(self) -> npt.NDArray[np.float64]:
        """Equity at the close of every bar marked so far (NaN for the others)."""
        if self._queued.ranges:
            self._write_queued()
        return self._curve

    @equity_curve.setter
    def equity_curve(self, curve: npt.NDArray[np.float64]) -> None:
        self._write_queued()
        self._curve = curve

    def mark_range(self, start: int, stop: int) -> None:
        """Equity for bars ``start..stop-1`` on which nothing traded.

        Valid only while cash and positions stay as they are over the range (the engine calls
        it for bars it skips because no order, batch or flow could act on them). The range is
        queued and written with others (:mod:`simpletrader.ledger.marks`); the equity and, when
        flat, the peak are known at once.
        """
        if stop <= start:
            return
        if start < self._queued_to:
            self._write_queued()  # a later write must win
        cash = self._cash_f
        queued = self._queued.ranges
        if not self._held:  # flat: the equity is the cash on every bar
            queued.append((start, stop, cash, ()))
            self._equity = cash
            if cash > self._peak:
                self._peak = cash
        else:
            held = tuple(self._held.items())
            queued.append((start, stop, cash, held))
            closes = self._closes
            equity = cash
            for symbol, units in held:
                equity += units * closes[symbol][stop - 1]
            self._equity = equity
        self._queued_to = stop
        if len(queued) >= FLUSH_AT:
            self._write_queued()

    def _write_queued(self) -> None:
        if self._queued.ranges:
            peak = self._queued.write(self._curve, self._close_arrays)
            if peak > self._peak:
                self._peak = peak
        self._queued_to = 0

    def mark(self, index: int) -> float:
        """Equity at the close of bar ``index``, written into ``equity_curve``."""
        if index < self._queued_to:
            self._write_queued()
        equity = self._cash_f
        if self._held:
            closes = self._closes
            for symbol, units in self._held.items():
                equity += units * closes[symbol][index]
        self._curve[index] = equity
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
        if self._queued.ranges:
            self._write_queued()
        return self._peak

    def net(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, ZERO)

    def open_plans(self, strategy_id: str, symbol: str | None = None) -> Sequence[TradePlanRecord]:
        plans = self._active.get(strategy_id)
        if not plans:  # the common answer: asked on every flow, and mostly flat
            return ()
        if symbol is None:
            return tuple(plans)
        return tuple([p for p in plans if p.symbol == symbol])

    def has_working_command(self, trade_plan_id: str) -> bool:
        plan = self.plans[trade_plan_id]
        for group_id in plan.group_ids:
            group = self.groups[group_id]
            if group.role is not _PROTECTIVE and not group.is_terminal:
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

    # -- P&L and exposure --------------------------------------------------------------------
    def multiplier(self, symbol: str) -> Decimal:
        return self._multipliers.get(symbol, ONE)

    def plan_unrealized_pnl(self, trade_plan_id: str, price: Decimal) -> Decimal:
        """Unrealized P&L of one plan's open net at ``price`` (against its average price)."""
        plan = self.plans[trade_plan_id]
        return plan.unrealized_pnl(price, self.multiplier(plan.symbol))

    def unrealized_pnl(self, prices: Mapping[str, Decimal]) -> Decimal:
        """Unrealized P&L of every open plan, each symbol marked at ``prices[symbol]``."""
        total = ZERO
        for plan in self.plans.values():
            if plan.net != 0:
                total += plan.unrealized_pnl(prices[plan.symbol], self.multiplier(plan.symbol))
        return total

    def exposure(self, index: int) -> dict[str, float]:
        """Signed notional per held symbol at the close of bar ``index`` (long > 0)."""
        closes = self._closes
        return {symbol: units * closes[symbol][index] for symbol, units in self._held.items()}

    def gross_exposure(self, index: int) -> float:
        """Sum of absolute notionals at the close of bar ``index``."""
        return sum(abs(v) for v in self.exposure(index).values())

    # -- equality ----------------------------------------------------------------------------
    def state_digest(self) -> tuple[object, ...]:
        """Everything a journal rebuild must reproduce, for equality checks.

        Every slot of every record is included, so a field added to a record is covered too.
        """
        return (
            self.cash,
            self.fees,
            self.carry_costs,
            self.realized_pnl,
            tuple(sorted(self.positions.items())),
            tuple(_slots(p) for p in self.plans.values()),
            tuple(_slots(g) for g in self.groups.values()),
            tuple(_slots(o) for o in self.orders.values()),
            tuple(_slots(f) for f in self.fills),
            tuple(
                (strategy, tuple(p.trade_plan_id for p in plans))
                for strategy, plans in sorted(self._active.items())
            ),
        )


Record = TradePlanRecord | GroupRecord | OrderRecord | FillRecord


def _slots(record: Record) -> tuple[object, ...]:
    values = []
    for name in record.__slots__:
        value = getattr(record, name)
        values.append(tuple(value) if isinstance(value, list) else value)
    return tuple(values)
