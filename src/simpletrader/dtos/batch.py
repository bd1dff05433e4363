"""What aggregation hands to execution: one command per leg, one batch per directive."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from simpletrader.core.enums import BatchExecutionMode, LegScope
from simpletrader.core.ids import BatchId, CommandId, DirectiveId, TradePlanId
from simpletrader.dtos._base import FrozenModel, UtcDatetime
from simpletrader.dtos.detection import CausalityChain
from simpletrader.dtos.plans import EntryPlan, ExecutionPlan, ExitPlan, SizePlan


class ExecutionCommand(FrozenModel):
    command_id: CommandId
    causality: CausalityChain
    leg_index: Annotated[int, Field(ge=0)]
    scope: LegScope
    trade_plan_id: TradePlanId | None = None
    entry_plan: EntryPlan | None = None
    size_plan: SizePlan | None = None
    exit_plan: ExitPlan | None = None
    execution_plan: ExecutionPlan | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not any((self.entry_plan, self.size_plan, self.exit_plan, self.execution_plan)):
            raise ValueError("a command needs at least one plan")
        if (self.scope is LegScope.NEW_TRADE) != (self.trade_plan_id is None):
            raise ValueError(
                "trade_plan_id must be absent for NEW_TRADE and present for "
                f"MODIFY_EXISTING/CLOSE_EXISTING (scope {self.scope})"
            )
        if self.causality.command_id not in (None, self.command_id):
            raise ValueError(
                f"causality.command_id {self.causality.command_id} is not {self.command_id}"
            )
        return self


class ExecutionCommandBatch(FrozenModel):
    """One directive's commands with the policy copied verbatim. No metadata, no rollback flag."""

    batch_id: BatchId
    directive_id: DirectiveId
    commands: Annotated[tuple[ExecutionCommand, ...], Field(min_length=1)]
    mode: BatchExecutionMode = BatchExecutionMode.INDEPENDENT
    timeout_seconds: Annotated[int, Field(gt=0)] | None = None
    unwind_filled_legs: bool = False
    created_at: UtcDatetime

    @model_validator(mode="after")
    def _check(self) -> Self:
        ids = [c.command_id for c in self.commands]
        if len(set(ids)) != len(ids):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"command ids must be unique in a batch; repeated: {dupes}")
        if self.unwind_filled_legs and self.mode is not BatchExecutionMode.COORDINATED:
            raise ValueError(
                f"unwind_filled_legs is valid only with mode COORDINATED, not {self.mode}"
            )
        return self
