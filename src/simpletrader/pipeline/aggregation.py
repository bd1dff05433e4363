"""Planning each leg and aggregating: one directive becomes exactly one batch, or none.

Which roles run depends on the leg's scope (DESIGN.md §2); only those are checked for
confidence gaps, all legs before any plan is made. Per leg the entry and exit planners run
before the size planner (risk sizing needs the stop distance), then the execution planner.
The batch id is generated first, each command's causality chain is built once, exit levels are
checked against the decision bar's close, and the policy is copied verbatim. A planner that
raises ``PlanError`` refuses the directive: it is journaled as not planned, and no batch is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from simpletrader.core.enums import LegScope, TradeDirection
from simpletrader.core.errors import PlanError
from simpletrader.dtos import (
    CausalityChain,
    ExecutionCommand,
    ExecutionCommandBatch,
    ExecutionPlan,
    LegDirective,
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
    PlanView,
    SizePlanner,
)

_NEW_TRADE_ROLES = ("entry_planner", "exit_planner", "size_planner", "execution_planner")
_RESIZE_ROLES = ("entry_planner", "size_planner", "execution_planner")
_EXIT_ONLY_ROLES = ("exit_planner",)
_CLOSE_ROLES = ("execution_planner",)


@dataclass(frozen=True, slots=True)
class NotPlanned:
    """Why a directive produced no batch (journaled)."""

    reason: str


def roles_for(leg: LegDirective) -> tuple[str, ...]:
    """The planning roles a leg's scope needs (DESIGN.md §2), in the order they run."""
    if leg.scope is LegScope.NEW_TRADE:
        return _NEW_TRADE_ROLES
    if leg.scope is LegScope.CLOSE_EXISTING:
        return _CLOSE_ROLES
    if leg.target_size is not None or leg.target_weight is not None:
        return _RESIZE_ROLES
    return _EXIT_ONLY_ROLES


class Aggregator:
    """Plans every leg of a directive with the planners its confidence selects."""

    __slots__ = ("selectors",)

    def __init__(self, selectors: Mapping[str, RoleSelector]) -> None:
        self.selectors = dict(selectors)

    def build(
        self, directive: StrategyDirective, ctx: FlowContext
    ) -> ExecutionCommandBatch | NotPlanned:
        """The directive's batch, or why there is none."""
        confidence = directive.confidence
        for leg_index, leg in enumerate(directive.legs):
            for role in roles_for(leg):
                if self.selectors[role].select(confidence) is None:
                    return NotPlanned(
                        f"confidence {confidence} of leg {leg_index} falls in a gap of "
                        f"{role} ranges ({self.selectors[role].describe()})"
                    )
        batch_id = ctx.new_id("BAT")
        commands = []
        for leg_index, leg in enumerate(directive.legs):
            try:
                planned = self._plan_leg(directive, leg, leg_index, ctx)
            except PlanError as exc:
                return NotPlanned(f"leg {leg_index} ({leg.scope} {leg.symbol}): {exc}")
            if isinstance(planned, NotPlanned):
                return planned
            job, execution_plan = planned
            command_id = ctx.new_id("EXC")
            plans = (job.entry_plan, job.size_plan, job.exit_plan, execution_plan)
            commands.append(
                ExecutionCommand(
                    command_id=command_id,
                    causality=CausalityChain(
                        origin_id=directive.causality.origin_id,
                        signal_ids=directive.causality.signal_ids,
                        risk_ids=directive.causality.risk_ids,
                        directive_id=directive.directive_id,
                        plan_ids=tuple(p.plan_id for p in plans if p is not None),
                        command_id=command_id,
                        batch_id=batch_id,
                    ),
                    leg_index=leg_index,
                    scope=leg.scope,
                    trade_plan_id=leg.trade_plan_id,
                    entry_plan=job.entry_plan,
                    size_plan=job.size_plan,
                    exit_plan=job.exit_plan,
                    execution_plan=execution_plan,
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
    ) -> tuple[LegContext, ExecutionPlan | None] | NotPlanned:
        plan: PlanView | None = None
        if leg.scope is LegScope.NEW_TRADE:
            assert leg.direction is not None
            direction = TradeDirection.from_side(leg.direction)
        else:
            plan = next(
                (
                    p
                    for p in ctx.ledger.open_plans(directive.strategy_id, leg.symbol)
                    if p.trade_plan_id == leg.trade_plan_id
                ),
                None,
            )
            if plan is None:
                return NotPlanned(
                    f"leg {leg_index}: trade plan {leg.trade_plan_id} is not an open plan of "
                    f"strategy {directive.strategy_id} on {leg.symbol}"
                )
            direction = plan.direction
        close = ctx.cache.close(leg.symbol)
        if not close > 0:  # NaN: no price yet for this symbol
            return NotPlanned(f"leg {leg_index}: no price for {leg.symbol} on the decision bar")
        job = LegContext(
            ctx=ctx,
            directive=directive,
            leg=leg,
            leg_index=leg_index,
            reference_price=Decimal(repr(close)),
            direction=direction,
            plan=plan,
        )
        confidence = directive.confidence
        roles = roles_for(leg)
        selectors = self.selectors
        if "entry_planner" in roles:
            entry_planner = selectors["entry_planner"].select(confidence)
            assert isinstance(entry_planner, EntryPlanner)
            job.entry_plan = entry_planner.plan(job)
        if "exit_planner" in roles:
            exit_planner = selectors["exit_planner"].select(confidence)
            assert isinstance(exit_planner, ExitPlanner)
            job.exit_plan = exit_planner.plan(job)
            if job.exit_plan is None:
                if roles is _EXIT_ONLY_ROLES:
                    return NotPlanned(
                        f"leg {leg_index}: exit planner {exit_planner.name} gave no exit plan "
                        f"for an exit-only MODIFY of {leg.trade_plan_id}"
                    )
            else:
                check_exit_levels(job.exit_plan, direction, job.reference_price)
        if "size_planner" in roles:
            size_planner = selectors["size_planner"].select(confidence)
            assert isinstance(size_planner, SizePlanner)
            job.size_plan = size_planner.plan(job)
        execution_plan = None
        if "execution_planner" in roles:
            execution_planner = selectors["execution_planner"].select(confidence)
            assert isinstance(execution_planner, ExecutionPlanner)
            execution_plan = execution_planner.plan(job)
        return job, execution_plan
