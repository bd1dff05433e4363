"""Protective orders: each trade plan's stop-loss / take-profit pair (DESIGN.md §4).

The pair belongs to the plan, not to a batch: one STOP (stop-loss) and one LIMIT (take-profit),
reduce-only, one-cancels-other, always sized to the plan's |net|. :meth:`ProtectionBook.sync`
brings the working orders to that state and is called on every fill of the plan, so the pair
is armed by the first entry fill (a fill at a bar's open arms a pair that is matched against
the rest of that bar), resized on every fill and cancelled at zero. Offsets are re-anchored
on the plan's average fill price; a level that lands at or below zero is not placed.

An order of the pair that ends without our asking (a fault rejected it, say) marks the plan
dirty: the pair is re-synced at the next bar's open. While a CLOSE command works on a plan its
protection is suspended (the close cancelled it); it comes back if the close fails.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from simpletrader.core.enums import (
    ExecutionAlgorithm,
    GroupRole,
    GroupStatus,
    OrderType,
    Side,
    TradePlanStatus,
)
from simpletrader.journal.events import (
    ExitLevelsSet,
    GroupCreated,
    GroupResized,
    GroupStatusChanged,
)

if TYPE_CHECKING:
    from simpletrader.dtos import ExitPlan
    from simpletrader.execution.worker import ExecutionWorker
    from simpletrader.ledger.records import OrderRecord, TradePlanRecord

ZERO = Decimal(0)

Level = tuple[Decimal, bool]
"""A level as given: (value, is_offset)."""


class PlanProtection:
    """The protective state of one plan: its levels as given and its pair's orders."""

    __slots__ = ("group_id", "stop", "stop_order", "suspended", "target", "target_order")

    def __init__(self) -> None:
        self.stop: Level | None = None
        self.target: Level | None = None
        self.group_id: str | None = None
        self.stop_order: str | None = None
        self.target_order: str | None = None
        self.suspended = False


class ProtectionBook:
    """Every plan's protective pair, kept in step with the plan's net."""

    __slots__ = ("_plans", "dirty", "worker")

    def __init__(self, worker: ExecutionWorker) -> None:
        self.worker = worker
        self._plans: dict[str, PlanProtection] = {}
        self.dirty: dict[str, None] = {}

    def __len__(self) -> int:
        """How many plans have protection followed (closed plans are forgotten)."""
        return len(self._plans)

    def set_exit(self, trade_plan_id: str, exit_plan: ExitPlan) -> None:
        """Take the levels of ``exit_plan`` (None keeps a level) and sync the pair."""
        protection = self._plans.get(trade_plan_id)
        if protection is None:
            protection = self._plans[trade_plan_id] = PlanProtection()
        offsets = exit_plan.as_offsets
        if exit_plan.stop_loss is not None:
            protection.stop = (exit_plan.stop_loss, offsets)
        if exit_plan.take_profit is not None:
            protection.target = (exit_plan.take_profit, offsets)
        self.sync(trade_plan_id)

    def suspend(self, trade_plan_id: str) -> None:
        protection = self._plans.get(trade_plan_id)
        if protection is not None:
            protection.suspended = True
            self.sync(trade_plan_id)

    def resume(self, trade_plan_id: str) -> None:
        protection = self._plans.get(trade_plan_id)
        if protection is not None and protection.suspended:
            protection.suspended = False
            self.sync(trade_plan_id)

    def levels(
        self, protection: PlanProtection, plan: TradePlanRecord
    ) -> tuple[Decimal | None, Decimal | None]:
        """Absolute (stop, target) now, offsets anchored on the average fill price."""
        instrument = self.worker.instruments[plan.symbol]
        sign = 1 if plan.net > 0 else -1
        anchor = plan.average_price
        out: list[Decimal | None] = []
        for level, direction in ((protection.stop, -sign), (protection.target, sign)):
            if level is None:
                out.append(None)
                continue
            value, offset = level
            price = anchor + direction * value if offset else value
            price = instrument.round_price(price)
            out.append(price if price > 0 else None)
        return out[0], out[1]

    def retry(self) -> None:
        """Re-sync the plans whose pair lost an order (called at a bar's open)."""
        dirty = list(self.dirty)
        self.dirty.clear()
        for trade_plan_id in dirty:
            self.sync(trade_plan_id)

    def sync(self, trade_plan_id: str) -> None:
        """Bring the plan's pair to: armed at its levels and |net| when net != 0, else none."""
        protection = self._plans.get(trade_plan_id)
        if protection is None:
            return
        worker = self.worker
        ledger = worker.ledger
        plan = ledger.plans[trade_plan_id]
        net = plan.net
        stop_order = self._working(protection.stop_order)
        target_order = self._working(protection.target_order)
        if net == 0 or protection.suspended or plan.status is TradePlanStatus.CLOSED:
            for order in (stop_order, target_order):
                if order is not None:
                    worker.request_cancel(order.order_id, "PROTECTION_OFF")
            self._end_group(protection, trade_plan_id)
            return
        stop, target = self.levels(protection, plan)
        if (stop, target) != (plan.stop_loss, plan.take_profit):
            worker.record(ExitLevelsSet(worker.now(), trade_plan_id, stop, target))
        if stop is None and target is None:
            return
        size = abs(net)
        group_id = self._group(protection, trade_plan_id, size)
        side = Side.SELL if net > 0 else Side.BUY
        protection.stop_order = self._place(
            group_id, plan, stop_order, OrderType.STOP, stop, side, size
        )
        protection.target_order = self._place(
            group_id, plan, target_order, OrderType.LIMIT, target, side, size
        )

    def _working(self, order_id: str | None) -> OrderRecord | None:
        if order_id is None:
            return None
        order = self.worker.ledger.orders.get(order_id)
        return order if order is not None and order.is_working else None

    def _group(self, protection: PlanProtection, trade_plan_id: str, size: Decimal) -> str:
        worker = self.worker
        groups = worker.ledger.groups
        group_id = protection.group_id
        if group_id is None or groups[group_id].is_terminal:
            group_id = worker.ids.new("EXG", worker.now())
            worker.record(
                GroupCreated(
                    worker.now(),
                    group_id,
                    trade_plan_id,
                    None,
                    None,
                    GroupRole.PROTECTIVE,
                    ExecutionAlgorithm.SINGLE,
                    size,
                )
            )
            protection.group_id = group_id
        elif groups[group_id].target_quantity != size:
            worker.record(GroupResized(worker.now(), group_id, size))
        return group_id

    def _place(
        self,
        group_id: str,
        plan: TradePlanRecord,
        order: OrderRecord | None,
        order_type: OrderType,
        price: Decimal | None,
        side: Side,
        size: Decimal,
    ) -> str | None:
        """Submit, amend or cancel one order of the pair; return the id now working."""
        worker = self.worker
        if order is not None and (price is None or order.side is not side):
            worker.request_cancel(order.order_id, "PROTECTION_LEVEL_REMOVED")
            order = None
        if price is None:
            return None
        stop_price = price if order_type is OrderType.STOP else None
        limit_price = price if order_type is OrderType.LIMIT else None
        if order is None:
            return worker.submit_protective(
                group_id, plan, side, order_type, size, limit_price, stop_price
            )
        quantity = order.filled_quantity + size if order.remaining != size else None
        new_stop = stop_price if stop_price is not None and stop_price != order.stop_price else None
        new_limit = (
            limit_price if limit_price is not None and limit_price != order.limit_price else None
        )
        if quantity is not None or new_stop is not None or new_limit is not None:
            worker.request_replace(
                order.order_id, quantity=quantity, limit_price=new_limit, stop_price=new_stop
            )
        return order.order_id

    def _end_group(self, protection: PlanProtection, trade_plan_id: str) -> None:
        group_id = protection.group_id
        if group_id is None:
            return
        group = self.worker.ledger.groups[group_id]
        if group.is_terminal:
            return
        if any(self._working(oid) is not None for oid in group.order_ids):
            return  # a cancel is still pending: the group ends when it is acknowledged
        status = GroupStatus.COMPLETED if group.filled_quantity > 0 else GroupStatus.CANCELLED
        self.worker.record(GroupStatusChanged(self.worker.now(), group_id, status))
        self.release(trade_plan_id)

    def release(self, trade_plan_id: str) -> None:
        """Forget a closed plan's protection once its pair has ended.

        A closed plan is never armed again, so the entry would only hold its levels and ids
        for the rest of the run.
        """
        protection = self._plans.get(trade_plan_id)
        if protection is None:
            return
        ledger = self.worker.ledger
        plan = ledger.plans.get(trade_plan_id)
        if plan is not None and plan.status is not TradePlanStatus.CLOSED:
            return
        group_id = protection.group_id
        if group_id is not None and not ledger.groups[group_id].is_terminal:
            return  # a cancel of the pair is still pending
        del self._plans[trade_plan_id]

    def on_order_ended(self, trade_plan_id: str) -> None:
        """An order of the pair ended: close the group when flat, else re-sync next bar."""
        protection = self._plans.get(trade_plan_id)
        if protection is None:
            return
        plan = self.worker.ledger.plans[trade_plan_id]
        if plan.net == 0 or protection.suspended or plan.status is TradePlanStatus.CLOSED:
            self._end_group(protection, trade_plan_id)
        else:
            self.dirty[trade_plan_id] = None
