"""Batch coordination: the semantics of INDEPENDENT, COORDINATED and SEQUENTIAL (DESIGN.md §4).

The coordinator decides *when* commands are executed and what a command's end means for the
rest of its batch; the worker does the executing. Deadlines are per batch
(``created_at + timeout_seconds``) and checked at each bar's open, sparing commands that have not
yet had one matching pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simpletrader.core.enums import BatchExecutionMode, GroupStatus
from simpletrader.dtos import ExecutionCommand, ExecutionCommandBatch
from simpletrader.journal.events import BatchEnded, CommandEnded

if TYPE_CHECKING:
    from simpletrader.execution.connectors.base import OrderFillReport
    from simpletrader.execution.worker import ExecutionWorker

_SUCCESS = frozenset({GroupStatus.COMPLETED, GroupStatus.SUPERSEDED})


class CommandState:
    __slots__ = (
        "batch",
        "command",
        "ended",
        "group_id",
        "reason",
        "started_at",
        "status",
        "strategy_id",
        "trade_plan_id",
    )

    def __init__(self, command: ExecutionCommand, batch: BatchState, strategy_id: str) -> None:
        self.command = command
        self.batch = batch
        self.strategy_id = strategy_id
        self.group_id: str | None = None
        self.trade_plan_id: str | None = command.trade_plan_id
        self.started_at: int | None = None
        self.ended = False
        self.status: GroupStatus | None = None
        self.reason: str | None = None


class BatchState:
    __slots__ = ("batch", "batch_id", "commands", "deadline", "ended", "failed", "mode", "next")

    def __init__(self, batch: ExecutionCommandBatch, strategy_id: str) -> None:
        self.batch = batch
        self.batch_id = batch.batch_id
        self.mode = batch.mode
        self.commands = [CommandState(c, self, strategy_id) for c in batch.commands]
        created = int(batch.created_at.timestamp()) * 1_000_000_000
        self.deadline = (
            created + batch.timeout_seconds * 1_000_000_000
            if batch.timeout_seconds is not None
            else None
        )
        self.next = 0
        self.ended = False
        self.failed: CommandState | None = None


class BatchCoordinator:
    def __init__(self, worker: ExecutionWorker) -> None:
        self.worker = worker
        self.active: dict[str, BatchState] = {}
        self._by_plan: dict[str, CommandState] = {}
        self._last_open = -1

    def start(self, batch: ExecutionCommandBatch, strategy_id: str) -> BatchState:
        state = BatchState(batch, strategy_id)
        self.active[batch.batch_id] = state
        if state.mode is BatchExecutionMode.SEQUENTIAL:
            self._start_next(state)
        else:
            for command in list(state.commands):
                if state.ended or command.ended:
                    continue
                self._execute(command)
        return state

    def _execute(self, command: CommandState) -> None:
        command.started_at = self.worker.now()
        self.worker.execute_command(command)
        if command.trade_plan_id is not None and not command.ended:
            self._by_plan[command.trade_plan_id] = command

    def _start_next(self, state: BatchState) -> None:
        while state.next < len(state.commands) and not state.ended:
            command = state.commands[state.next]
            state.next += 1
            self._execute(command)
            if not command.ended:
                return

    def supersede_working(self, trade_plan_id: str, newer: CommandState) -> None:
        """A size-changing MODIFY or a CLOSE ends the plan's still-working command."""
        older = self._by_plan.get(trade_plan_id)
        if older is None or older.ended or older is newer:
            return
        command = newer.command
        if command.size_plan is None and command.scope != "CLOSE_EXISTING":
            return  # an exit-only MODIFY supersedes nothing
        self.worker.cancel_command(older, "SUPERSEDED", GroupStatus.SUPERSEDED)
        self.command_ended(older, GroupStatus.SUPERSEDED, f"SUPERSEDED by {command.command_id}")

    def command_ended(self, command: CommandState, status: GroupStatus, reason: str | None) -> None:
        if command.ended:
            return
        command.ended = True
        command.status = status
        command.reason = reason
        batch = command.batch
        if (
            command.trade_plan_id is not None
            and self._by_plan.get(command.trade_plan_id) is command
        ):
            del self._by_plan[command.trade_plan_id]
        self.worker.record(
            CommandEnded(
                self.worker.now(), command.command.command_id, batch.batch_id, status, reason
            )
        )
        if status not in _SUCCESS and batch.failed is None:
            batch.failed = command
            if batch.mode is BatchExecutionMode.COORDINATED:
                self._fail_coordinated(batch, command)
            elif batch.mode is BatchExecutionMode.SEQUENTIAL:
                self._skip_rest(batch)
        if batch.mode is BatchExecutionMode.SEQUENTIAL and status in _SUCCESS:
            self._start_next(batch)
        self._maybe_end(batch)

    def _fail_coordinated(self, batch: BatchState, failing: CommandState) -> None:
        for other in batch.commands:
            if other is failing or other.ended:
                continue
            self.worker.cancel_command(other, "CANCELLED_BY_COORDINATION", GroupStatus.CANCELLED)
            self.command_ended(other, GroupStatus.CANCELLED, "CANCELLED_BY_COORDINATION")

    def _skip_rest(self, batch: BatchState) -> None:
        while batch.next < len(batch.commands):
            command = batch.commands[batch.next]
            batch.next += 1
            self.command_ended(command, GroupStatus.SKIPPED, "SKIPPED after a failed command")

    def _maybe_end(self, batch: BatchState) -> None:
        if batch.ended or not all(c.ended for c in batch.commands):
            return
        batch.ended = True
        self.active.pop(batch.batch_id, None)
        succeeded = sum(1 for c in batch.commands if c.status in _SUCCESS)
        if succeeded == len(batch.commands):
            status = GroupStatus.COMPLETED
        elif batch.mode is BatchExecutionMode.INDEPENDENT and succeeded > 0:
            status = GroupStatus.PARTIAL
        else:
            status = GroupStatus.FAILED
        failed = batch.failed
        self.worker.record(
            BatchEnded(
                self.worker.now(),
                batch.batch_id,
                batch.mode,
                status,
                failed.command.command_id if failed is not None else None,
                failed.reason if failed is not None else None,
            )
        )

    def check_deadlines(self, open_ns: int) -> None:
        last_open = self._last_open
        self._last_open = open_ns
        for batch in list(self.active.values()):
            if batch.deadline is None or batch.deadline > open_ns:
                continue
            for command in batch.commands:
                if batch.ended:
                    break
                if command.ended or command.started_at is None:
                    continue
                if command.started_at >= last_open:
                    continue  # not yet had one matching pass
                self.worker.cancel_command(command, "TIMEOUT", GroupStatus.FAILED)
                self.command_ended(command, GroupStatus.FAILED, "TIMEOUT")
            if batch.mode is BatchExecutionMode.SEQUENTIAL and not batch.ended:
                self._skip_rest(batch)
                self._maybe_end(batch)

    def cancel_refused(self, order_id: str, reason: str) -> None:
        """A refused cancel is re-sent on the next bar (kept simple: the venue is asked again)."""
        self.worker.connector.cancel(order_id, reason)

    def late_fill(self, command: CommandState, report: OrderFillReport) -> None:
        """A fill after its command ended stays in the position (no unwind requested)."""
        return None
