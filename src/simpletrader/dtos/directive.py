"""The decision: one immutable ``StrategyDirective`` with one or more legs and a policy."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from simpletrader.core.enums import BatchExecutionMode, LegScope, Side
from simpletrader.core.ids import DirectiveId, TradePlanId
from simpletrader.dtos._base import (
    FrozenModel,
    NonNegativeMoney,
    PositiveMoney,
    Symbol,
    Unit,
    UtcDatetime,
)
from simpletrader.dtos.detection import CausalityChain


class LegDirective(FrozenModel):
    """One leg of a decision; one leg becomes one command.

    Sizing is at most one of ``target_size`` (absolute units, CLOSE means 0) and
    ``target_weight`` (fraction of equity); with neither, the size planner decides from the
    budget. ``size_weight`` splits the directive's budget between legs by notional.
    """

    scope: LegScope
    trade_plan_id: TradePlanId | None = None
    symbol: Symbol
    direction: Side | None = None
    target_size: NonNegativeMoney | None = None
    target_weight: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    size_weight: Annotated[float, Field(gt=0.0)] = 1.0
    timing_preference: Unit = 0.5
    preferred_price_zone: tuple[PositiveMoney, PositiveMoney] | None = None
    max_acceptable_slippage: Annotated[float, Field(ge=0.0)] = 0.005

    @model_validator(mode="after")
    def _check_scope(self) -> Self:
        if self.scope is LegScope.NEW_TRADE:
            if self.trade_plan_id is not None:
                raise ValueError("trade_plan_id must be absent for scope NEW_TRADE")
            if self.direction is None:
                raise ValueError("direction (BUY or SELL) is required for scope NEW_TRADE")
        else:
            if self.trade_plan_id is None:
                raise ValueError(f"trade_plan_id is required for scope {self.scope}")
            if self.direction is not None:
                raise ValueError(
                    f"direction must be absent for scope {self.scope}: it comes from the trade plan"
                )
        if self.target_size is not None and self.target_weight is not None:
            raise ValueError("set at most one of target_size and target_weight")
        if self.scope is LegScope.CLOSE_EXISTING and (
            self.target_weight is not None
            or (self.target_size is not None and self.target_size != 0)
        ):
            raise ValueError("CLOSE_EXISTING targets 0: leave target_size/target_weight unset")
        if self.preferred_price_zone is not None:
            low, high = self.preferred_price_zone
            if low > high:
                raise ValueError(f"preferred_price_zone low {low} is above high {high}")
        return self


class SizeDirective(FrozenModel):
    aggressiveness: Unit = 0.5
    max_risk_amount: PositiveMoney | None = None
    account_risk_pct: Unit = 0.02


class ExitDirective(FrozenModel):
    profit_taking_preference: Unit = 0.5
    risk_reward_ratio: Annotated[float, Field(gt=0.0)] = 2.0
    stop_loss_tolerance: Annotated[float, Field(ge=0.0)] = 0.02


class ExecutionDirective(FrozenModel):
    execution_urgency: Unit = 0.5
    visibility_preference: Unit = 1.0
    max_total_slippage_pct: Annotated[float, Field(ge=0.0)] = 0.01


class ExecutionPolicy(FrozenModel):
    """How the batch of this directive is carried out; copied verbatim, read by no planner."""

    mode: BatchExecutionMode = BatchExecutionMode.INDEPENDENT
    timeout_seconds: Annotated[int, Field(gt=0)] | None = None
    unwind_filled_legs: bool = False

    @model_validator(mode="after")
    def _check_unwind(self) -> Self:
        if self.unwind_filled_legs and self.mode is not BatchExecutionMode.COORDINATED:
            raise ValueError(
                f"unwind_filled_legs is valid only with mode COORDINATED, not {self.mode}"
            )
        return self


DEFAULT_POLICY = ExecutionPolicy()


class StrategyDirective(FrozenModel):
    """What one strategy planner decided on one flow. ``execution_policy`` None = INDEPENDENT."""

    directive_id: DirectiveId
    strategy_id: Annotated[str, Field(min_length=1, max_length=128)]
    decision_timestamp: UtcDatetime
    causality: CausalityChain
    confidence: Unit
    legs: Annotated[tuple[LegDirective, ...], Field(min_length=1)]
    size_directive: SizeDirective = SizeDirective()
    exit_directive: ExitDirective = ExitDirective()
    routing_directive: ExecutionDirective = ExecutionDirective()
    execution_policy: ExecutionPolicy | None = None

    @model_validator(mode="after")
    def _check_causality(self) -> Self:
        if self.causality.directive_id not in (None, self.directive_id):
            raise ValueError(
                f"causality.directive_id {self.causality.directive_id} is not {self.directive_id}"
            )
        return self

    @property
    def policy(self) -> ExecutionPolicy:
        """The effective policy (None means INDEPENDENT, no timeout)."""
        return self.execution_policy if self.execution_policy is not None else DEFAULT_POLICY


__all__ = [
    "DEFAULT_POLICY",
    "ExecutionDirective",
    "ExecutionPolicy",
    "ExitDirective",
    "LegDirective",
    "SizeDirective",
    "StrategyDirective",
]
