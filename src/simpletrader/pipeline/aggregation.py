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
from typing import Any, cast

from simpletrader.core.enums import LegScope, TradeDirection
from simpletrader.core.errors import PlanError
from simpletrader.dtos import (
    DEFAULT_POLICY,
    CausalityChain,
    EntryPlan,
    ExecutionCommand,
    ExecutionCommandBatch,
    ExecutionPlan,
    ExecutionPolicy,
    ExitPlan,
    LegDirective,
    SizePlan,
    StrategyDirective,
    check_exit_levels,
    decimal_of,
)
from simpletrader.pipeline.selection import RoleSelector
from simpletrader.plugins.base import (
    EntryPlanner,
    ExecutionPlanner,
    ExitPlanner,
    FlowContext,
    LegContext,
    PlanView,
    Plugin,
    SizePlanner,
)

_NEW_TRADE_ROLES = ("entry_planner", "exit_planner", "size_planner", "execution_planner")
_RESIZE_ROLES = ("entry_planner", "size_planner", "execution_planner")
_EXIT_ONLY_ROLES = ("exit_planner",)
_CLOSE_ROLES = ("execution_planner",)

# Enum members read per order, bound once: Python 3.11's EnumType.__getattr__ makes
# `LegScope.NEW_TRADE` a slow metaclass lookup.
_NEW_TRADE, _CLOSE_EXISTING = LegScope.NEW_TRADE, LegScope.CLOSE_EXISTING


@dataclass(frozen=True, slots=True)
class NotPlanned:
    """Why a directive produced no batch (journaled)."""

    reason: str


def roles_for(leg: LegDirective) -> tuple[str, ...]:
    """The planning roles a leg's scope needs (DESIGN.md §2), in the order they run."""
    scope = leg.scope
    if scope is _NEW_TRADE:
        return _NEW_TRADE_ROLES
    if scope is _CLOSE_EXISTING:
        return _CLOSE_ROLES
    if leg.target_size is not None or leg.target_weight is not None:
        return _RESIZE_ROLES
    return _EXIT_ONLY_ROLES


class Aggregator:
    """Plans every leg of a directive with the planners its confidence selects."""

    __slots__ = ("_picked", "selectors")

    def __init__(self, selectors: Mapping[str, RoleSelector]) -> None:
        self.selectors = dict(selectors)
        # Strategies use a handful of confidence values, so each one's planners are looked up
        # once; the bound keeps a planner that emits continuous confidences from growing it.
        self._picked: dict[float, dict[str, Plugin | None]] = {}

    def _pick(self, confidence: float) -> dict[str, Plugin | None]:
        """The plugin each role selects at ``confidence`` (None in a gap)."""
        picked = self._picked.get(confidence)
        if picked is None:
            picked = {role: s.select(confidence) for role, s in self.selectors.items()}
            if len(self._picked) < 256:
                self._picked[confidence] = picked
        return picked

    def build(
        self, directive: StrategyDirective, ctx: FlowContext
    ) -> ExecutionCommandBatch | NotPlanned:
        """The directive's batch, or why there is none."""
        # Its fields read once, here and for every command (a model's attribute read costs
        # several times a dict's).
        fields = directive.__dict__
        confidence = fields["confidence"]
        picked = self._pick(confidence)
        legs = fields["legs"]
        leg_roles = [roles_for(leg) for leg in legs]
        for leg_index, roles in enumerate(leg_roles):
            for role in roles:
                if picked[role] is None:
                    return NotPlanned(
                        f"confidence {confidence} of leg {leg_index} falls in a gap of "
                        f"{role} ranges ({self.selectors[role].describe()})"
                    )
        batch_id = ctx.new_id("BAT")
        chain = (fields["causality"], fields["directive_id"], batch_id)
        commands = []
        for leg_index, leg in enumerate(legs):
            try:
                planned = self._plan_leg(
                    directive, leg, leg_index, ctx, picked, leg_roles[leg_index]
                )
            except PlanError as exc:
                return NotPlanned(f"leg {leg_index} ({leg.scope} {leg.symbol}): {exc}")
            if isinstance(planned, NotPlanned):
                return planned
            job, execution_plan = planned
            commands.append(
                _command(
                    chain,
                    leg,
                    leg_index,
                    ctx.new_id("EXC"),
                    (job.entry_plan, job.size_plan, job.exit_plan, execution_plan),
                )
            )
        return _batch(fields, batch_id, tuple(commands))

    def _plan_leg(
        self,
        directive: StrategyDirective,
        leg: LegDirective,
        leg_index: int,
        ctx: FlowContext,
        picked: Mapping[str, Plugin | None],
        roles: tuple[str, ...],
    ) -> tuple[LegContext, ExecutionPlan | None] | NotPlanned:
        plan: PlanView | None = None
        side, symbol = leg.direction, leg.symbol
        if leg.scope is _NEW_TRADE:
            assert side is not None
            direction = TradeDirection.from_side(side)
        else:
            trade_plan_id = leg.trade_plan_id
            for held in ctx.ledger.open_plans(directive.strategy_id, symbol):
                if held.trade_plan_id == trade_plan_id:
                    plan = held
                    break
            if plan is None:
                return NotPlanned(
                    f"leg {leg_index}: trade plan {trade_plan_id} is not an open plan of "
                    f"strategy {directive.strategy_id} on {symbol}"
                )
            direction = plan.direction
        close = ctx.cache.close(symbol)
        if not close > 0:  # NaN: no price yet for this symbol
            return NotPlanned(f"leg {leg_index}: no price for {symbol} on the decision bar")
        job = LegContext(
            ctx=ctx,
            directive=directive,
            leg=leg,
            leg_index=leg_index,
            reference_price=decimal_of(close),
            direction=direction,
            plan=plan,
        )
        # Selection (and the gap check in build) guarantees each role's plugin is of its role.
        if "entry_planner" in roles:
            job.entry_plan = cast(EntryPlanner, picked["entry_planner"]).plan(job)
        if "exit_planner" in roles:
            exit_planner = cast(ExitPlanner, picked["exit_planner"])
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
            job.size_plan = cast(SizePlanner, picked["size_planner"]).plan(job)
        execution_plan = None
        if "execution_planner" in roles:
            execution_plan = cast(ExecutionPlanner, picked["execution_planner"]).plan(job)
        return job, execution_plan


def _command(
    chain_of: tuple[CausalityChain, str, str],
    leg: LegDirective,
    leg_index: int,
    command_id: str,
    plans: tuple[Any, Any, Any, Any],
) -> ExecutionCommand:
    """The command of one planned leg and its causality chain (``chain_of``: the directive's
    chain, the directive id and the batch id).

    Everything in it is validated already (the directive and its legs, the plans) or generated
    here (the ids), so when each plan is of its exact type and one is there at all, validation
    would change nothing and is skipped; anything else (a plugin's subclass, a dict, no plan)
    takes the constructor and its errors.
    """
    entry, size, exit_, execution = plans
    # type(), not .__class__: the latter is one more slow model attribute read.
    trusted = (
        (entry is None or type(entry) is EntryPlan)
        and (size is None or type(size) is SizePlan)
        and (exit_ is None or type(exit_) is ExitPlan)
        and (execution is None or type(execution) is ExecutionPlan)
        and (entry is not None or size is not None or exit_ is not None or execution is not None)
    )
    causality, directive_id, batch_id = chain_of
    known = causality.__dict__
    leg_fields = leg.__dict__
    chain = (CausalityChain.trusted if trusted else CausalityChain)(
        origin_id=known["origin_id"],
        signal_ids=known["signal_ids"],
        risk_ids=known["risk_ids"],
        directive_id=directive_id,
        plan_ids=tuple([p.plan_id for p in plans if p is not None]),
        command_id=command_id,
        batch_id=batch_id,
    )
    return (ExecutionCommand.trusted if trusted else ExecutionCommand)(
        command_id=command_id,
        causality=chain,
        leg_index=leg_index,
        scope=leg_fields["scope"],
        trade_plan_id=leg_fields["trade_plan_id"],
        entry_plan=entry,
        size_plan=size,
        exit_plan=exit_,
        execution_plan=execution,
    )


def _batch(
    directive: dict[str, Any], batch_id: str, commands: tuple[ExecutionCommand, ...]
) -> ExecutionCommandBatch:
    """The batch of the directive of fields ``directive``, its policy copied verbatim.

    The policy is a validated ``ExecutionPolicy`` (so its mode admits its unwind flag) and the
    commands were just built with fresh ids; only ids that collided need the constructor (and
    its error).
    """
    policy = directive["execution_policy"]
    if policy is None:
        policy = DEFAULT_POLICY  # what StrategyDirective.policy says None means
    trusted = (
        commands
        and type(policy) is ExecutionPolicy
        and (len(commands) == 1 or len({c.command_id for c in commands}) == len(commands))
    )
    rules = policy.__dict__
    return (ExecutionCommandBatch.trusted if trusted else ExecutionCommandBatch)(
        batch_id=batch_id,
        directive_id=directive["directive_id"],
        commands=commands,
        mode=rules["mode"],
        timeout_seconds=rules["timeout_seconds"],
        unwind_filled_legs=rules["unwind_filled_legs"],
        created_at=directive["decision_timestamp"],
    )
