"""Batch and command outcomes as bus events: one past-tense noun per outcome.

The journal keeps one record per outcome family (``CommandEnded``, ``BatchEnded``: status and
reason, one table in a store); the bus also gets these specific events, so a subscriber can
listen to ``BatchFailed`` alone. They are built only when someone subscribed to them.

Reasons start with a code: ``REJECTED: <venue or risk reason>``, ``TIMEOUT``,
``CONSTRAINT_VIOLATED: <which>``, ``EXPIRED``, ``CANCELLED: <why>``,
``CANCELLED_BY_COORDINATION``, ``SUPERSEDED by <command>``, ``SKIPPED after <command>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from simpletrader.core.enums import BatchExecutionMode, GroupStatus


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    at: int
    command_id: str
    batch_id: str
    status: GroupStatus
    reason: str | None


@dataclass(frozen=True, slots=True)
class CommandCompleted(CommandOutcome):
    """Filled (status COMPLETED), or ended early at or above its min fill ratio (PARTIAL)."""


@dataclass(frozen=True, slots=True)
class CommandFailed(CommandOutcome):
    """Rejected, timed out, constraint violated, expired or cancelled below its fill ratio."""


@dataclass(frozen=True, slots=True)
class CommandCancelled(CommandOutcome):
    """Cancelled by the coordination of a failed COORDINATED batch."""


@dataclass(frozen=True, slots=True)
class CommandSkipped(CommandOutcome):
    """Never submitted: an earlier command of its SEQUENTIAL batch failed."""


@dataclass(frozen=True, slots=True)
class CommandSuperseded(CommandOutcome):
    """Ended by a newer size-changing MODIFY or CLOSE on its plan (counts as success)."""


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    at: int
    batch_id: str
    mode: BatchExecutionMode
    status: GroupStatus
    failed_command_id: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class BatchCompleted(BatchOutcome):
    """Every command succeeded."""


@dataclass(frozen=True, slots=True)
class BatchPartiallyCompleted(BatchOutcome):
    """INDEPENDENT: some commands succeeded, some failed."""


@dataclass(frozen=True, slots=True)
class BatchFailed(BatchOutcome):
    """COORDINATED or SEQUENTIAL failed at ``failed_command_id``; INDEPENDENT: all failed."""


@dataclass(frozen=True, slots=True)
class BatchSettled:
    """Every cancel of the batch is acknowledged and every unwind done: invariants hold."""

    at: int
    batch_id: str


COMMAND_OUTCOMES: dict[GroupStatus, type[CommandOutcome]] = {
    GroupStatus.COMPLETED: CommandCompleted,
    GroupStatus.PARTIAL: CommandCompleted,
    GroupStatus.FAILED: CommandFailed,
    GroupStatus.CANCELLED: CommandCancelled,
    GroupStatus.SKIPPED: CommandSkipped,
    GroupStatus.SUPERSEDED: CommandSuperseded,
}
BATCH_OUTCOMES: dict[GroupStatus, type[BatchOutcome]] = {
    GroupStatus.COMPLETED: BatchCompleted,
    GroupStatus.PARTIAL: BatchPartiallyCompleted,
    GroupStatus.FAILED: BatchFailed,
}
