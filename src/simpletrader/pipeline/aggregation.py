"""Planning each leg and aggregating: one directive becomes exactly one batch, or none.

Which roles run depends on the leg's scope (DESIGN.md §2); only those are checked for
confidence gaps. The batch id is generated first, each command's causality chain is built once,
exit levels are checked against the decision bar's close, and the policy is copied verbatim.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from simpletrader.core.enums import LegScope, TradeDirection
from simpletrader.core.errors import PlanError
from simpletrader.dtos import (
    CausalityChain,
    EntryPlan,
    ExecutionCommand,
    ExecutionCommandBatch,
    ExecutionPlan,
    ExitPlan,
    LegDirective,
    SizePlan,
    StrategyDirective,
    check_exit_levels,
)
from simpletrader.pipeline.selection import RoleSelector
from simpletrader.plugins.base import (
    EntryPlanner,
    ExecutionPlanner,
    ExitPlanner,
    FlowContext,
    LegContext,
    SizePlanner,
)


@dataclass(frozen=True, slots=True)
class NotPlanned:
    """Why a directive produced no batch (journaled)."""

    reason: str


def _roles_for(leg: LegDirective) -> tuple[str, ...]:
    if leg.scope is LegScope.NEW_TRADE:
        return ("entry_planner", "exit_planner", "size_planner", "execution_planner")
    if leg.scope is LegScope.CLOSE_EXISTING:
        return ("execution_planner",)
    if leg.target_size is not None or leg.target_weight is not None:
        return ("entry_planner", "size_planner", "execution_planner")
    return ("exit_planner",)


class Aggregator:
    """Plans every leg of a directive with the planners its confidence selects."""

    def __init__(self, selectors: Mapping[str, RoleSelector]) -> None:
        self.selectors = dict(selectors)

    def build(
        self, directive: StrategyDirective, ctx: FlowContext
    ) -> ExecutionCommandBatch | NotPlanned:
        confidence = directive.confidence
        for leg_index, leg in enumerate(directive.legs):
            for role in _roles_for(leg):
                if self.selectors[role].select(confidence) is None:
                    return NotPlanned(
                        f"confidence {confidence} of leg {leg_index} falls in a gap of "
                        f"{role} ranges ({self.selectors[role].describe()})"
                    )
        batch_id = ctx.new_id("BAT")
        commands = []
        for leg_index, leg in enumerate(directive.legs):
            planned = self._plan_leg(directive, leg, leg_index, ctx)
            if isinstance(planned, NotPlanned):
                return planned
            entry, exit_, size, execution = planned
            command_id = ctx.new_id("EXC")
            plan_ids = tuple(p.plan_id for p in (entry, size, exit_, execution) if p is not None)
            causality = CausalityChain(
                origin_id=directive.causality.origin_id,
                signal_ids=directive.causality.signal_ids,
                risk_ids=directive.causality.risk_ids,
                directive_id=directive.directive_id,
                plan_ids=plan_ids,
                command_id=command_id,
                batch_id=batch_id,
            )
            commands.append(
                ExecutionCommand(
                    command_id=command_id,
                    causality=causality,
                    leg_index=leg_index,
                    scope=leg.scope,
                    trade_plan_id=leg.trade_plan_id,
                    entry_plan=entry,
                    size_plan=size,
                    exit_plan=exit_,
                    execution_plan=execution,
                )
            )
        policy = directive.policy
        return ExecutionCommandBatch(
            batch_id=batch_id,
            directive_id=directive.directive_id,
            commands=tuple(commands),
            mode=policy.mode,
            timeout_seconds=policy.timeout_seconds,
            unwind_filled_legs=policy.unwind_filled_legs,
            created_at=directive.decision_timestamp,
        )

    def _plan_leg(
        self, directive: StrategyDirective, leg: LegDirective, leg_index: int, ctx: FlowContext
    ) -> (
        tuple[EntryPlan | None, ExitPlan | None, SizePlan | None, ExecutionPlan | None] | NotPlanned
    ):
        if leg.scope is LegScope.NEW_TRADE:
            assert leg.direction is not None
            direction = TradeDirection.from_side(leg.direction)
        else:
            plan = next(
                (
                    p
                    for p in ctx.ledger.open_plans(directive.strategy_id)
                    if p.trade_plan_id == leg.trade_plan_id
                ),
                None,
            )
            if plan is None:
                return NotPlanned(
                    f"leg {leg_index}: trade plan {leg.trade_plan_id} is not an open plan of "
                    f"strategy {directive.strategy_id}"
                )
            direction = plan.direction
        close = ctx.cache.close(leg.symbol)
        if close != close:  # NaN: no price yet for this symbol
            return NotPlanned(f"leg {leg_index}: no price for {leg.symbol} on the decision bar")
        job = LegContext(
            ctx=ctx,
            directive=directive,
            leg=leg,
            leg_index=leg_index,
            reference_price=Decimal(repr(close)),
            direction=direction,
        )
        confidence = directive.confidence
        roles = _roles_for(leg)
        if "entry_planner" in roles:
            entry_planner = self.selectors["entry_planner"].select(confidence)
            assert isinstance(entry_planner, EntryPlanner)
            job.entry_plan = entry_planner.plan(job)
        if "exit_planner" in roles:
            exit_planner = self.selectors["exit_planner"].select(confidence)
            assert isinstance(exit_planner, ExitPlanner)
            job.exit_plan = exit_planner.plan(job)
            if job.exit_plan is not None:
                try:
                    check_exit_levels(job.exit_plan, direction, job.reference_price)
                except PlanError as exc:
                    return NotPlanned(f"leg {leg_index}: {exc}")
        if "size_planner" in roles:
            size_planner = self.selectors["size_planner"].select(confidence)
            assert isinstance(size_planner, SizePlanner)
            job.size_plan = size_planner.plan(job)
        execution = None
        if "execution_planner" in roles:
            execution_planner = self.selectors["execution_planner"].select(confidence)
            assert isinstance(execution_planner, ExecutionPlanner)
            execution = execution_planner.plan(job)
        return job.entry_plan, job.exit_plan, job.size_plan, execution
