"""The built-in helpers and planners build their DTOs without re-validation only where that
changes nothing: the result is what validation makes, and anything else still goes through it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from plugin_kit import (
    FakeLedger,
    FakePlan,
    assert_as_validated,
    leg_context,
    make_bars,
    make_ctx,
    new_leg,
)
from pydantic import ValidationError

from simpletrader.core.enums import OriginType, SignalDirection, TradeDirection
from simpletrader.dtos import (
    ExecutionDirective,
    ExitDirective,
    LegDirective,
    Origin,
    StrategyDirective,
)
from simpletrader.plugins.base import (
    Decision,
    FlowContext,
    RiskMonitor,
    SignalDetector,
    StrategyPlanner,
)
from simpletrader.plugins.entry import MarketEntry
from simpletrader.plugins.execution import SingleOrder
from simpletrader.plugins.exits import PercentExit, PercentExitParams
from simpletrader.plugins.size import EquityFraction, EquityFractionParams
from simpletrader.plugins.strategy import SignalToDirective, close_leg, open_leg

TPL = "TPL_20240101_000000_0000000a"


class Detector(SignalDetector):
    def detect(self, ctx: FlowContext) -> None:
        return None


class Monitor(RiskMonitor):
    def assess(self, ctx: FlowContext) -> None:
        return None


class Planner(StrategyPlanner):
    def decide(self, decision: Decision) -> StrategyDirective | None:
        return None


def _ctx() -> FlowContext:
    return make_ctx({"A": make_bars("A", [100.0, 101.0])})


def test_the_signal_helper_builds_the_validated_signal() -> None:
    ctx = _ctx()
    for confidence in (None, 0.0, 0.25, 1.0):
        signal = Detector().signal(ctx, SignalDirection.LONG, "X_UP", confidence=confidence)
        assert_as_validated(signal)
    signal = Detector().signal(ctx, SignalDirection.SHORT, "X_DOWN", symbol="A")
    assert (signal.symbol, signal.timestamp) == ("A", ctx.now)


def test_the_signal_helper_validates_what_it_cannot_trust() -> None:
    ctx = _ctx()
    coerced = Detector().signal(ctx, "long", "X_UP", confidence=1)  # type: ignore[arg-type]
    assert (coerced.direction, coerced.confidence) == (SignalDirection.LONG, 1.0)
    assert type(coerced.confidence) is float
    assert_as_validated(coerced)
    for bad in (
        {"signal_type": "lower"},
        {"signal_type": "X_UP", "confidence": 1.5},
        {"signal_type": "X_UP", "confidence": float("nan")},
        {"signal_type": "X_UP", "symbol": "two words"},
    ):
        with pytest.raises(ValidationError):
            Detector().signal(ctx, SignalDirection.LONG, **bad)  # type: ignore[arg-type]


def test_the_risk_helper_builds_the_validated_risk_or_says_what_is_wrong() -> None:
    ctx = _ctx()
    assert_as_validated(Monitor().risk(ctx, "DRAWDOWN", 0.5))
    assert_as_validated(Monitor().risk(ctx, "DRAWDOWN", 1.0, symbol="A"))
    assert Monitor().risk(ctx, "DRAWDOWN", 1).severity == 1.0  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Monitor().risk(ctx, "DRAWDOWN", -0.1)


def _decision(ctx: FlowContext, origin: str | None = None) -> Decision:
    signal = Detector().signal(ctx, SignalDirection.LONG, "X_UP")
    return Decision(ctx, (signal,), (), origin or ctx.new_id("TCK"), frozenset({"signal"}))


def test_the_directive_helper_builds_the_validated_directive() -> None:
    ctx = _ctx()
    planner = Planner()
    decision = _decision(ctx)
    directive = planner.directive(decision, [new_leg("A")], confidence=0.5)
    assert_as_validated(directive)
    assert directive.causality.signal_ids == (decision.signals[0].signal_id,)
    routed = planner.directive(
        decision, [new_leg("A")], routing_directive=ExecutionDirective(execution_urgency=0.9)
    )
    assert_as_validated(routed)
    assert routed.routing_directive.execution_urgency == 0.9


def test_the_directive_helper_validates_what_it_cannot_trust() -> None:
    ctx = _ctx()
    planner = Planner()
    coerced = planner.directive(
        _decision(ctx),
        [{"scope": "NEW_TRADE", "symbol": "A", "direction": "BUY"}],  # type: ignore[list-item]
        confidence=1,
        exit_directive={"risk_reward_ratio": 3},
    )
    assert type(coerced.legs[0]) is LegDirective
    assert type(coerced.confidence) is float
    assert coerced.exit_directive.risk_reward_ratio == 3.0
    assert_as_validated(coerced)
    for bad_origin in ("TCK_nope", "SIG_20240101_000000_0000000a"):
        with pytest.raises(ValidationError):
            planner.directive(_decision(ctx, bad_origin), [new_leg("A")])
    with pytest.raises(ValidationError):
        planner.directive(_decision(ctx), [new_leg("A")], confidence=2.0)
    with pytest.raises(ValidationError):
        planner.directive(_decision(ctx), [])
    with pytest.raises(TypeError):
        planner.directive(_decision(ctx), [new_leg("A")], directive_id="STR_x")


def test_the_directive_helper_trusts_only_the_flows_own_origin_id() -> None:
    ctx = _ctx()
    planner = Planner()
    ctx.cache.origin = Origin(id=ctx.new_id("TCK"), type=OriginType.TICK)
    own = _decision(ctx, ctx.cache.origin.id)
    assert_as_validated(planner.directive(own, [new_leg("A")]))
    with pytest.raises(ValidationError):
        planner.directive(_decision(ctx, "TCK_nope"), [new_leg("A")])


def test_the_directive_helper_reads_params_replaced_after_a_directive() -> None:
    ctx = _ctx()
    planner = SignalToDirective()
    planner.directive(_decision(ctx), [new_leg("A")])
    planner.params = SignalToDirective.Params(
        exit_directive=ExitDirective(risk_reward_ratio=4), leg_slippage=0.001
    )
    directive = planner.directive(_decision(ctx), [new_leg("A")])
    assert directive.exit_directive.risk_reward_ratio == 4.0
    assert directive.legs[0].max_acceptable_slippage == 0.001
    assert_as_validated(directive)


def test_built_in_legs_are_the_validated_legs_or_refused() -> None:
    plan = FakePlan(TPL, "A", TradeDirection.LONG, Decimal(1))
    assert_as_validated(close_leg(plan))
    assert_as_validated(open_leg("A", TradeDirection.LONG.entry_side))
    with pytest.raises(ValidationError):
        close_leg(FakePlan("TPL_bad", "A", TradeDirection.LONG, Decimal(1)))
    with pytest.raises(ValidationError):
        open_leg("two words", TradeDirection.LONG.entry_side)


def test_signal_to_directive_makes_the_validated_directive() -> None:
    ctx = _ctx()
    ledger = FakeLedger()
    ctx.ledger = ledger
    planner = SignalToDirective()
    planner.setup(ctx)
    opened = planner.decide(_decision(ctx))
    assert opened is not None
    assert_as_validated(opened)
    ledger.hold(FakePlan(TPL, "A", TradeDirection.LONG, Decimal(1)))
    short = Detector().signal(ctx, SignalDirection.SHORT, "X_DOWN")
    closed = planner.decide(Decision(ctx, (short,), (), ctx.new_id("TCK"), frozenset()))
    assert closed is not None
    assert_as_validated(closed)


@pytest.mark.parametrize("fraction", [1.0, 0.5, 1e-9])
def test_built_in_leg_planners_make_validated_plans(fraction: float) -> None:
    job = leg_context(_ctx(), new_leg("A"))
    job.entry_plan = MarketEntry().plan(job)
    job.size_plan = EquityFraction(EquityFractionParams(fraction=fraction)).plan(job)
    plans: list[Any] = [job.entry_plan, job.size_plan, SingleOrder().plan(job)]
    for plan in plans:
        assert_as_validated(plan)
    assert job.size_plan.target_equity_fraction == fraction


@pytest.mark.parametrize("take_profit_pct", [None, 0.1])
def test_percent_exit_makes_validated_offset_plans(take_profit_pct: float | None) -> None:
    params = PercentExitParams(stop_pct=0.05, take_profit_pct=take_profit_pct)
    plan = PercentExit(params).plan(leg_context(_ctx(), new_leg("A")))
    assert plan is not None
    assert plan.as_offsets
    assert_as_validated(plan)
