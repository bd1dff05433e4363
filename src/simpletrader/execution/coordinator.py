"""Batch coordination: INDEPENDENT, COORDINATED and SEQUENTIAL (DESIGN.md §4).

The coordinator decides *when* commands run and what a command's end means for the rest of
its batch; the worker does the executing. In short:

- INDEPENDENT submits every command at once; a failure is that command's alone. The batch
  ends COMPLETED, PARTIAL or FAILED once every command has ended.
- COORDINATED submits at once; the first failure (ties: command order) fails the batch: the
  other legs' working entry orders are cancelled (CANCELLED_BY_COORDINATION) and, with
  ``unwind_filled_legs``, every leg has this batch's fills reversed by market orders in an
  UNWIND group, retried at every bar's open until done.
- SEQUENTIAL submits command k+1 once command k has ended successfully; after a failure the
  rest are SKIPPED.

Deadlines are per batch (``created_at + timeout_seconds``, the decision bar's close) and
checked at each bar's open; a command that has not yet had one matching pass (it was sent
after the previous bar's open, or its latency kept it out) is spared, so on daily bars a
30-second timeout still trades one bar. A size-changing MODIFY or a CLOSE supersedes the
plan's working command and its unwind (SUPERSEDED counts as success and is never unwound).
A batch *settles* once it has ended, every cancel of its orders is acknowledged and every
unwind is done: the invariants of DESIGN.md §4 hold from then on.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from simpletrader.core.clock import datetime_to_ns
from simpletrader.core.enums import BatchExecutionMode, GroupStatus, LegScope, Side
from simpletrader.execution.algorithms import sliced
from simpletrader.execution.outcomes import BATCH_OUTCOMES, COMMAND_OUTCOMES, BatchSettled
from simpletrader.journal.events import (
    BatchEnded,
    CommandEnded,
    GroupResized,
    GroupStatusChanged,
    LateFill,
    UnwindCompleted,
    UnwindStarted,
)

if TYPE_CHECKING:
    from simpletrader.dtos import ExecutionCommand, ExecutionCommandBatch
    from simpletrader.execution.algorithms import Algorithm
    from simpletrader.execution.worker import ExecutionWorker
    from simpletrader.ledger.records import OrderRecord

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
_NS = 1_000_000_000
_SUCCESS = frozenset({GroupStatus.COMPLETED, GroupStatus.PARTIAL, GroupStatus.SUPERSEDED})
# Enum members read on every batch, bound once: under Python 3.11 reading a member from its
# class goes through EnumType.__getattr__'s slot hook (see the worker's module).
_INDEPENDENT = BatchExecutionMode.INDEPENDENT
_COORDINATED = BatchExecutionMode.COORDINATED
_SEQUENTIAL = BatchExecutionMode.SEQUENTIAL
_COMPLETED = GroupStatus.COMPLETED
_PARTIAL = GroupStatus.PARTIAL
_FAILED = GroupStatus.FAILED
_NEW_TRADE = LegScope.NEW_TRADE


class CommandState:
    """One command of a batch while the coordinator follows it (slotted, never a DTO).

    The command's fields read again and again (``command_id``, ``scope``, ``execution_plan``)
    are copied once: a read of a pydantic model's field costs about five times a slot's.
    """

    __slots__ = (
        "algorithm",
        "bars_at_start",
        "batch",
        "command",
        "command_id",
        "ended",
        "equity_fraction",
        "execution_plan",
        "group_id",
        "index",
        "reason",
        "reduce_only",
        "reference_price",
        "scope",
        "side",
        "started_at",
        "status",
        "strategy_id",
        "symbol",
        "target_net",
        "trade_plan_id",
        "worst_slippage",
    )

    def __init__(
        self, command: ExecutionCommand, batch: BatchState, strategy_id: str, index: int
    ) -> None:
        self.command = command
        self.command_id: str = command.command_id
        self.scope = command.scope
        self.execution_plan = command.execution_plan
        self.batch = batch
        self.strategy_id = strategy_id
        self.index = index
        self.group_id: str | None = None
        self.trade_plan_id: str | None = command.trade_plan_id
        self.symbol: str | None = None
        self.side: Side | None = None
        self.reduce_only = False
        self.target_net: Decimal | None = None
        self.equity_fraction: float | None = None
        self.algorithm: Algorithm | None = None
        # The decision bar's close, for a sliced command's slippage limit (None otherwise).
        self.reference_price: float | None = None
        self.worst_slippage = 0.0
        self.started_at: int | None = None
        self.bars_at_start = 0
        self.ended = False
        self.status: GroupStatus | None = None
        self.reason: str | None = None

    @staticmethod
    def order_key(state: CommandState) -> tuple[int, int]:
        """Batches in arrival order, commands in batch order (the tie rule of failures)."""
        return state.batch.seq, state.index

    def __repr__(self) -> str:
        return f"CommandState({self.command_id}, {self.status or 'working'})"


class UnwindLeg:
    """One UNWIND group: reverses ``target`` units of a command's fills with ``side`` orders."""

    __slots__ = ("command", "done", "group_id", "sent_at_bar", "side", "trade_plan_id")

    def __init__(self, command: CommandState, trade_plan_id: str, side: Side) -> None:
        self.command = command
        self.trade_plan_id = trade_plan_id
        self.side = side
        self.group_id: str | None = None
        self.done = False
        self.sent_at_bar = -1


class BatchState:
    __slots__ = (
        "batch",
        "batch_id",
        "closing",
        "commands",
        "deadline",
        "ended",
        "failed",
        "legs",
        "mode",
        "next",
        "seq",
        "settled",
        "unwind",
        "unwind_started",
        "unwinding",
    )

    def __init__(self, batch: ExecutionCommandBatch, strategy_id: str, seq: int) -> None:
        self.batch = batch
        self.batch_id = batch.batch_id
        self.mode = batch.mode
        self.unwind = batch.unwind_filled_legs
        self.seq = seq
        self.commands = [
            CommandState(c, self, strategy_id, i) for i, c in enumerate(batch.commands)
        ]
        self.deadline = (
            datetime_to_ns(batch.created_at) + batch.timeout_seconds * _NS
            if batch.timeout_seconds is not None
            else None
        )
        self.next = 0
        self.ended = False
        self.settled = False
        self.closing = False
        self.unwinding = False
        self.unwind_started = False
        self.failed: CommandState | None = None
        self.legs: list[UnwindLeg] = []


class BatchCoordinator:
    """Runs batches. ``active`` holds the batches that have not ended; ``busy`` tells the
    engine to call ``worker.on_bar_open`` (batches, unsettled batches, pending cancels or
    protective pairs to restore)."""

    def __init__(self, worker: ExecutionWorker) -> None:
        self.worker = worker
        self.active: dict[str, BatchState] = {}
        self.unsettled: dict[str, BatchState] = {}
        self.busy = False
        self.bars_seen = 0
        self._opening = False
        self._last_open: int | None = None
        self._seq = 0
        self._known: set[str] = set()
        self._by_plan: dict[str, CommandState] = {}
        self._legs_by_plan: dict[str, list[UnwindLeg]] = {}

    def start(self, batch: ExecutionCommandBatch, strategy_id: str) -> BatchState | None:
        """Begin a batch; a batch id seen before is ignored (a re-delivery changes nothing)."""
        batch_id = batch.batch_id
        if batch_id in self._known:
            logger.warning("batch %s was delivered again; ignored", batch_id)
            return None
        self._known.add(batch_id)
        self._seq += 1
        state = BatchState(batch, strategy_id, self._seq)
        worker = self.worker
        for command in state.commands:
            if not sliced(command.execution_plan):
                continue  # only a sliced algorithm has a slippage limit to watch
            symbol = _symbol_of(command, worker)
            if symbol is not None and symbol in worker.instruments:
                price = worker.reference_price(symbol)
                command.reference_price = price if price == price else None
        self.active[batch_id] = state
        if state.mode is _SEQUENTIAL:
            self._start_next(state)
        else:
            for command in state.commands:
                if state.ended or command.ended:
                    continue
                self._execute(command)
        return state

    def _execute(self, command: CommandState) -> None:
        command.started_at = self.worker.now()
        # Sent at a bar's open (before matching), a command is matched on that very bar.
        command.bars_at_start = self.bars_seen - (1 if self._opening else 0)
        self.worker.execute_command(command)
        if command.trade_plan_id is not None and not command.ended:
            self._by_plan[command.trade_plan_id] = command

    def _start_next(self, batch: BatchState) -> None:
        while batch.next < len(batch.commands) and not batch.ended and batch.failed is None:
            if batch.next > 0 and not batch.commands[batch.next - 1].ended:
                return  # a command started by a nested end is still working
            command = batch.commands[batch.next]
            batch.next += 1
            self._execute(command)
            if not command.ended:
                return

    def command_ended(
        self,
        command: CommandState,
        status: GroupStatus,
        reason: str | None,
        *,
        group_status: GroupStatus | None = None,
    ) -> None:
        """A command's outcome (``group_status`` PARTIAL for an early success)."""
        if command.ended:
            return
        command.ended = True
        shown = group_status or status
        command.status = shown
        command.reason = reason
        plan_id = command.trade_plan_id
        if plan_id is not None and self._by_plan.get(plan_id) is command:
            del self._by_plan[plan_id]
        worker = self.worker
        batch = command.batch
        now = worker.now()
        worker.record(CommandEnded(now, command.command_id, batch.batch_id, shown, reason))
        outcome = COMMAND_OUTCOMES[shown]
        if worker.bus.wants(outcome):
            worker.bus.publish(outcome(now, command.command_id, batch.batch_id, shown, reason))
        if status is _FAILED and batch.failed is None:
            batch.failed = command
            if batch.mode is _COORDINATED:
                self._fail_coordinated(batch, command)
            elif batch.mode is _SEQUENTIAL:
                self._skip_rest(batch, command)
        elif batch.mode is _SEQUENTIAL and status in _SUCCESS:
            self._start_next(batch)
        worker.command_ended(command)
        self._maybe_end(batch)

    def _fail_coordinated(self, batch: BatchState, failing: CommandState) -> None:
        batch.closing = True
        try:
            for other in batch.commands:
                if other is failing or other.ended:
                    continue
                reason = "CANCELLED_BY_COORDINATION"
                self.worker.close_group(other, GroupStatus.CANCELLED, reason)
                self.command_ended(other, GroupStatus.CANCELLED, reason)
                self.worker.cancel_orders(other, reason)
            if batch.unwind:
                self._start_unwind(batch, failing)
        finally:
            batch.closing = False

    def _skip_rest(self, batch: BatchState, failed: CommandState) -> None:
        while batch.next < len(batch.commands):
            command = batch.commands[batch.next]
            batch.next += 1
            self.command_ended(
                command, GroupStatus.SKIPPED, f"SKIPPED after {failed.command_id} failed"
            )

    def _maybe_end(self, batch: BatchState) -> None:
        if batch.ended or batch.closing:
            return
        succeeded = 0
        for c in batch.commands:
            if not c.ended:
                return
            if c.status in _SUCCESS:
                succeeded += 1
        batch.ended = True
        self.active.pop(batch.batch_id, None)
        if succeeded == len(batch.commands):
            status = _COMPLETED
        elif batch.mode is _INDEPENDENT and succeeded > 0:
            status = _PARTIAL
        else:
            status = _FAILED
        failed = batch.failed
        failed_id = failed.command_id if failed is not None else None
        reason = failed.reason if failed is not None else None
        worker = self.worker
        now = worker.now()
        worker.record(BatchEnded(now, batch.batch_id, batch.mode, status, failed_id, reason))
        outcome = BATCH_OUTCOMES[status]
        if worker.bus.wants(outcome):
            worker.bus.publish(outcome(now, batch.batch_id, batch.mode, status, failed_id, reason))
        self.unsettled[batch.batch_id] = batch
        for command in batch.commands:
            if command.trade_plan_id is not None:
                worker.maybe_close_plan(command.trade_plan_id)

    def supersede(self, trade_plan_id: str, newer: CommandState) -> None:
        """A size-changing MODIFY or a CLOSE ends the plan's working command and its unwinds,
        and becomes the plan's working command (so the plan cannot close under it)."""
        older = self._by_plan.get(trade_plan_id)
        self._by_plan[trade_plan_id] = newer
        reason = f"SUPERSEDED by {newer.command_id}"
        if older is not None and not older.ended and older is not newer:
            self.worker.close_group(older, GroupStatus.SUPERSEDED, reason)
            self.command_ended(older, GroupStatus.SUPERSEDED, reason)
            self.worker.cancel_orders(older, "SUPERSEDED")
        for leg in list(self._legs_by_plan.get(trade_plan_id, ())):
            if leg.done or leg.group_id is None:
                continue
            group = self.worker.ledger.groups[leg.group_id]
            for order_id in group.order_ids:
                self.worker.request_cancel(order_id, "SUPERSEDED")
            self.worker.record(
                GroupStatusChanged(self.worker.now(), leg.group_id, GroupStatus.SUPERSEDED)
            )
            self._leg_done(leg)

    def unwinding_plans(self) -> set[str]:
        """The plans with an unwind leg still working."""
        return set(self._legs_by_plan)

    def holds_plan(self, trade_plan_id: str) -> bool:
        """True while a plan may still trade: a command works on it, an unwind on it is not
        done, or it belongs to a COORDINATED batch with unwind that has not ended (so a flat
        leg is kept open until the batch knows whether it must be unwound)."""
        working = self._by_plan.get(trade_plan_id)
        if working is not None and not working.ended:
            return True
        for leg in self._legs_by_plan.get(trade_plan_id, ()):
            if not leg.done:
                return True
        for batch in self.active.values():
            if batch.unwind:
                for command in batch.commands:
                    if command.trade_plan_id == trade_plan_id:
                        return True
        return False

    def on_bar_open(self, open_ns: int) -> None:
        """Deadlines, unwind retries and due algorithm slices (step 1 of a bar)."""
        self._opening = True
        try:
            self.bars_seen += 1
            previous = self._last_open
            self._last_open = open_ns
            self.check_deadlines(open_ns, previous)
            if self._legs_by_plan:  # every leg not done is listed there
                for batch in list(self.unsettled.values()) + list(self.active.values()):
                    for leg in batch.legs:
                        if not leg.done:
                            self.evaluate_unwind(leg, scheduled=True)
            for batch in list(self.active.values()):
                for command in batch.commands:
                    if (
                        not command.ended
                        and command.algorithm is not None
                        and command.algorithm.is_sliced
                    ):
                        self.worker.evaluate(command, scheduled=True)
        finally:
            self._opening = False

    def _had_pass(self, command: CommandState, previous_open: int | None) -> bool:
        """Whether a matching pass has happened since the command was sent, with its orders
        eligible (their latency elapsed)."""
        if self.bars_seen - command.bars_at_start < 2:
            return False
        started = command.started_at or 0
        return not (previous_open is not None and started + self.worker.latency_ns > previous_open)

    def check_deadlines(self, open_ns: int, previous_open: int | None) -> None:
        """Every unfinished command of a batch whose deadline is <= ``open_ns`` ends with
        TIMEOUT (a success if it filled its min fill ratio), unless it has not had a pass."""
        for batch in list(self.active.values()):
            if batch.deadline is None or batch.deadline > open_ns:
                continue
            for command in batch.commands:
                if batch.ended:
                    break
                if command.ended or command.started_at is None:
                    continue
                if not self._had_pass(command, previous_open):
                    continue
                self.worker.end_early(command, "TIMEOUT")

    def _start_unwind(self, batch: BatchState, failing: CommandState) -> None:
        worker = self.worker
        batch.unwinding = True
        batch.unwind_started = True
        worker.record(
            UnwindStarted(
                worker.now(), batch.batch_id, failing.command_id, failing.reason or "FAILED"
            )
        )
        for command in batch.commands:
            if command.status is GroupStatus.SUPERSEDED or command.group_id is None:
                continue
            contribution = self._contribution(command)
            if contribution != 0:
                side = Side.SELL if contribution > 0 else Side.BUY
                self._open_leg(command, side, abs(contribution))
        self._check_unwound(batch)

    def _contribution(self, command: CommandState) -> Decimal:
        """The signed units this command's entry group bought (+) or sold (-)."""
        ledger = self.worker.ledger
        assert command.group_id is not None
        total = ZERO
        for order_id in ledger.groups[command.group_id].order_ids:
            order = ledger.orders[order_id]
            total += order.filled_quantity if order.side is Side.BUY else -order.filled_quantity
        return total

    def _open_leg(self, command: CommandState, side: Side, quantity: Decimal) -> UnwindLeg:
        assert command.trade_plan_id is not None
        leg = UnwindLeg(command, command.trade_plan_id, side)
        leg.group_id = self.worker.open_unwind_group(leg, quantity)
        command.batch.legs.append(leg)
        self._legs_by_plan.setdefault(command.trade_plan_id, []).append(leg)
        self._send_unwind(leg, quantity)
        return leg

    def evaluate_unwind(self, leg: UnwindLeg, scheduled: bool = False) -> None:
        """Done when the group filled its target (or, reducing, the plan is flat); otherwise
        the rest is sent again at the next bar's open."""
        if leg.done or leg.group_id is None:
            return
        worker = self.worker
        ledger = worker.ledger
        group = ledger.groups[leg.group_id]
        plan = ledger.plans[leg.trade_plan_id]
        # A leg that sells a long (buys back a short) can only reduce: it is done once the plan
        # is flat, even short of its target (protective orders may have done part of it).
        reducing = leg.side is not plan.direction.entry_side
        if group.filled_quantity >= group.target_quantity or (reducing and plan.net == 0):
            if not group.is_terminal:
                worker.record(GroupStatusChanged(worker.now(), leg.group_id, _COMPLETED))
            for order_id in group.order_ids:
                worker.request_cancel(order_id, "UNWIND_DONE")
            self._leg_done(leg)
            return
        if not scheduled or leg.sent_at_bar == self.bars_seen:
            return  # a rejected unwind order is sent again at the next bar's open
        if any(ledger.orders[o].is_working for o in group.order_ids):
            return
        self._send_unwind(leg, group.target_quantity - group.filled_quantity)

    def _send_unwind(self, leg: UnwindLeg, quantity: Decimal) -> None:
        leg.sent_at_bar = self.bars_seen
        self.worker.send_unwind(leg, quantity)

    def _leg_done(self, leg: UnwindLeg) -> None:
        leg.done = True
        # A done leg is skipped by every reader of the plan's legs: keep only those that work.
        legs = self._legs_by_plan.get(leg.trade_plan_id)
        if legs is not None and leg in legs:
            legs.remove(leg)
            if not legs:
                del self._legs_by_plan[leg.trade_plan_id]
        self._check_unwound(leg.command.batch)
        self.worker.maybe_close_plan(leg.trade_plan_id)

    def _check_unwound(self, batch: BatchState) -> None:
        if batch.unwinding and all(leg.done for leg in batch.legs):
            batch.unwinding = False
            self.worker.record(UnwindCompleted(self.worker.now(), batch.batch_id))

    def late_fill(
        self, command: CommandState, order: OrderRecord, fill_id: str, quantity: Decimal
    ) -> None:
        """A fill after its command ended: journaled as LateFill; added to the batch's unwind
        when it has one (the leg's working group grows, or a new one opens), else it stays."""
        batch = command.batch
        worker = self.worker
        unwound = batch.unwind_started and command.status is not GroupStatus.SUPERSEDED
        worker.record(
            LateFill(
                worker.now(), fill_id, order.order_id, order.group_id, command.command_id, unwound
            )
        )
        if not unwound:
            return
        side = order.side.opposite
        leg = next(
            (
                leg
                for leg in batch.legs
                if leg.command is command and not leg.done and leg.side is side
            ),
            None,
        )
        if leg is None:
            batch.unwinding = True
            self._open_leg(command, side, quantity)
            return
        assert leg.group_id is not None
        group = worker.ledger.groups[leg.group_id]
        worker.record(GroupResized(worker.now(), leg.group_id, group.target_quantity + quantity))
        self._send_unwind(leg, quantity)

    def _settled(self, batch: BatchState) -> bool:
        if not batch.ended or any(not leg.done for leg in batch.legs):
            return False
        cancels = self.worker.cancels
        if not cancels:
            return True
        groups = self.worker.ledger.groups
        group_ids = [c.group_id for c in batch.commands if c.group_id is not None]
        group_ids += [leg.group_id for leg in batch.legs if leg.group_id is not None]
        return not any(o in cancels for g in group_ids for o in groups[g].order_ids)

    def refresh(self) -> None:
        """Settle what can settle and recompute ``busy`` (after every step of the worker)."""
        if self.unsettled:
            for batch_id, batch in list(self.unsettled.items()):
                if self._settled(batch):
                    del self.unsettled[batch_id]
                    batch.settled = True
                    self.worker.release_settled(batch)
                    if self.worker.bus.wants(BatchSettled):
                        self.worker.bus.publish(BatchSettled(self.worker.now(), batch_id))
        worker = self.worker
        self.busy = bool(self.active or self.unsettled or worker.cancels or worker.protection.dirty)


def _symbol_of(command: CommandState, worker: ExecutionWorker) -> str | None:
    if command.scope is _NEW_TRADE:
        entry = command.command.entry_plan
        return entry.symbol if entry is not None else None
    plan = worker.ledger.plans.get(command.trade_plan_id or "")
    return plan.symbol if plan is not None else None
