"""Entry, exit, size and execution planners on hand-checked legs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from plugin_kit import (
    FakeLedger,
    FakePlan,
    leg_context,
    make_bars,
    make_ctx,
    make_directive,
    new_leg,
)

from simpletrader.core.enums import (
    ExecutionAlgorithm,
    LegScope,
    OrderType,
    Side,
    TimeInForce,
    TradeDirection,
)
from simpletrader.core.errors import PlanError
from simpletrader.dtos import (
    EntryPlan,
    ExecutionDirective,
    ExitDirective,
    ExitPlan,
    LegDirective,
    SizeDirective,
)
from simpletrader.plugins.entry import (
    LimitOffset,
    LimitOffsetParams,
    MarketEntry,
    ZoneLimit,
    ZoneLimitParams,
)
from simpletrader.plugins.execution import AdaptiveExecution, AdaptiveParams, SingleOrder
from simpletrader.plugins.exits import (
    AtrExit,
    AtrExitParams,
    NoExit,
    PercentExit,
    PercentExitParams,
)
from simpletrader.plugins.size import (
    EquityFraction,
    EquityFractionParams,
    FixedRisk,
    FixedRiskParams,
    FixedUnits,
    FixedUnitsParams,
    TargetWeight,
    TargetWeightParams,
)

PLAN_ID = "TPL_20240101_000000_00000001"


def _ctx(close: float = 100.0, **kwargs: object):  # type: ignore[no-untyped-def]
    return make_ctx(make_bars("A", [close]), **kwargs)  # type: ignore[arg-type]


def _held(units: int, direction: TradeDirection = TradeDirection.LONG, **kw: object) -> FakePlan:
    return FakePlan(PLAN_ID, "A", direction, Decimal(units), **kw)  # type: ignore[arg-type]


# -- entry -------------------------------------------------------------------------------


def test_market_entry_buys_for_a_long_leg() -> None:
    plan = MarketEntry().plan(leg_context(_ctx(), new_leg("A")))
    assert (plan.order_type, plan.direction, plan.limit_price) == (OrderType.MARKET, Side.BUY, None)


def test_limit_offset_sits_below_the_close_to_buy_and_above_to_sell() -> None:
    ctx = _ctx(100.0)
    planner = LimitOffset(LimitOffsetParams(offset_pct=0.013))
    buy = planner.plan(leg_context(ctx, new_leg("A", Side.BUY)))
    sell = planner.plan(leg_context(ctx, new_leg("A", Side.SELL)))
    assert (buy.order_type, buy.limit_price) == (OrderType.LIMIT, Decimal("98.70"))
    assert (sell.direction, sell.limit_price) == (Side.SELL, Decimal("101.30"))


def test_limit_offset_sells_when_a_modify_scales_a_long_down() -> None:
    ctx = _ctx(100.0)
    leg = LegDirective(
        scope=LegScope.MODIFY_EXISTING, trade_plan_id=PLAN_ID, symbol="A", target_size=Decimal(4)
    )
    plan = LimitOffset(LimitOffsetParams(offset_pct=0.01)).plan(
        leg_context(ctx, leg, plan=_held(10))
    )
    assert (plan.direction, plan.limit_price) == (Side.SELL, Decimal("101.00"))


def test_zone_limit_places_the_price_by_timing_preference() -> None:
    ctx = _ctx(100.0)
    zone = (Decimal(90), Decimal(96))
    patient = new_leg("A", preferred_price_zone=zone, timing_preference=0.0)
    eager_sell = new_leg("A", Side.SELL, preferred_price_zone=zone, timing_preference=1.0)
    middle = new_leg("A", preferred_price_zone=zone)
    planner = ZoneLimit()
    assert planner.plan(leg_context(ctx, patient)).limit_price == Decimal(90)
    assert planner.plan(leg_context(ctx, eager_sell)).limit_price == Decimal(90)
    assert planner.plan(leg_context(ctx, middle)).limit_price == Decimal(93)
    fixed = ZoneLimit(ZoneLimitParams(position=0.25)).plan(leg_context(ctx, middle))
    assert fixed.limit_price == Decimal("91.50")


def test_zone_limit_without_a_zone_falls_back() -> None:
    ctx = _ctx(100.0)
    assert ZoneLimit().plan(leg_context(ctx, new_leg("A"))).order_type is OrderType.MARKET
    offset = ZoneLimit(ZoneLimitParams(fallback_offset_pct=0.02))
    assert offset.plan(leg_context(ctx, new_leg("A"))).limit_price == Decimal("98.00")


# -- exit --------------------------------------------------------------------------------


def test_no_exit_plans_nothing() -> None:
    assert NoExit().plan(leg_context(_ctx(), new_leg("A"))) is None


def test_percent_exit_gives_offsets_from_the_fill() -> None:
    plan = PercentExit(PercentExitParams(stop_pct=0.05, take_profit_pct=0.1)).plan(
        leg_context(_ctx(100.0), new_leg("A"))
    )
    assert plan is not None
    assert (plan.stop_loss, plan.take_profit, plan.as_offsets) == (
        Decimal("5.00"),
        Decimal("10.00"),
        True,
    )


def test_percent_exit_defaults_to_the_directives_tolerance() -> None:
    leg = new_leg("A")
    ctx = _ctx(200.0)
    plan = PercentExit().plan(leg_context(ctx, leg, exit_=ExitDirective(stop_loss_tolerance=0.03)))
    assert plan is not None
    assert (plan.stop_loss, plan.take_profit) == (Decimal("6.00"), None)


def test_atr_exit_targets_risk_reward_times_the_stop_distance() -> None:
    ctx = make_ctx(make_bars("A", [100.0]), facts={"atr": [1.5]})
    leg = leg_context(ctx, new_leg("A"), exit_=ExitDirective(risk_reward_ratio=3.0))
    plan = AtrExit(AtrExitParams(atr="atr", multiple=2.0)).plan(leg)
    assert plan is not None
    assert (plan.stop_loss, plan.take_profit) == (Decimal("3.00"), Decimal("9.00"))


def test_atr_exit_refuses_a_leg_before_the_atr_exists() -> None:
    ctx = make_ctx(make_bars("A", [100.0]), facts={"atr": [float("nan")]})
    with pytest.raises(PlanError, match="ATR fact 'atr' is nan"):
        AtrExit(AtrExitParams(atr="atr")).plan(leg_context(ctx, new_leg("A")))


def _exit_only(ctx, plan: FakePlan, tolerance: float) -> ExitPlan | None:  # type: ignore[no-untyped-def]
    leg = LegDirective(scope=LegScope.MODIFY_EXISTING, trade_plan_id=PLAN_ID, symbol="A")
    return PercentExit(PercentExitParams(stop_pct=0.5)).plan(
        leg_context(ctx, leg, plan=plan, exit_=ExitDirective(stop_loss_tolerance=tolerance))
    )


def test_exit_only_modify_trails_from_the_directives_tolerance_and_never_loosens() -> None:
    ctx = _ctx(100.0)
    raised = _exit_only(ctx, _held(10, stop_loss=Decimal(90)), 0.05)
    kept = _exit_only(ctx, _held(10, stop_loss=Decimal(96)), 0.05)
    short = _exit_only(ctx, _held(-10, TradeDirection.SHORT, stop_loss=Decimal(110)), 0.05)
    assert raised is not None
    assert (raised.stop_loss, raised.take_profit, raised.as_offsets) == (Decimal(95), None, False)
    assert kept is not None
    assert (kept.stop_loss, kept.take_profit) == (None, None)
    assert short is not None
    assert short.stop_loss == Decimal(105)


# -- size --------------------------------------------------------------------------------


def test_a_legs_own_target_wins_over_every_size_planner() -> None:
    ctx = _ctx(100.0)
    leg = new_leg("A", target_size=Decimal(7))
    for planner in (
        FixedUnits(FixedUnitsParams(units=Decimal(3))),
        EquityFraction(),
        FixedRisk(),
        TargetWeight(TargetWeightParams(weight=0.5)),
    ):
        assert planner.plan(leg_context(ctx, leg)).target_size == Decimal(7)


def test_a_target_weight_leg_becomes_an_absolute_size() -> None:
    ctx = _ctx(250.0)
    plan = EquityFraction().plan(leg_context(ctx, new_leg("A", target_weight=0.5)))
    assert plan.target_size == Decimal(200)


def test_equity_fraction_splits_the_budget_by_size_weight() -> None:
    ctx = make_ctx({"A": make_bars("A", [100.0]), "B": make_bars("B", [50.0])})
    legs = [new_leg("A", size_weight=3.0), new_leg("B", Side.SELL, size_weight=1.0)]
    directive = make_directive(ctx, legs)
    planner = EquityFraction(EquityFractionParams(fraction=0.8))
    fractions = [
        planner.plan(leg_context(ctx, leg, directive=directive)).target_equity_fraction
        for leg in legs
    ]
    assert fractions == pytest.approx([0.6, 0.2])


@given(st.floats(min_value=0.0, max_value=1e300, exclude_min=True))
def test_a_lone_budget_leg_takes_the_whole_budget_whatever_its_weight(weight: float) -> None:
    ctx = _ctx(100.0)
    leg = new_leg("A", size_weight=weight)
    assert leg_context(ctx, leg).budget_share == 1.0 == leg.size_weight / leg.size_weight


def test_fixed_risk_sizes_so_the_stop_loses_the_risk_amount() -> None:
    ctx = _ctx(100.0)
    leg = leg_context(ctx, new_leg("A"), size=SizeDirective(max_risk_amount=Decimal(500)))
    leg.exit_plan = ExitPlan(plan_id=ctx.new_id("EXT"), stop_loss=Decimal(4), as_offsets=True)
    plan = FixedRisk().plan(leg)
    assert (plan.target_size, plan.risk_amount) == (Decimal(125), Decimal(500))


def test_fixed_risk_measures_an_absolute_stop_from_the_limit_price() -> None:
    ctx = _ctx(100.0)
    leg = leg_context(ctx, new_leg("A"))
    leg.entry_plan = EntryPlan(
        plan_id=ctx.new_id("ENT"),
        symbol="A",
        direction=Side.BUY,
        order_type=OrderType.LIMIT,
        limit_price=Decimal(98),
    )
    leg.exit_plan = ExitPlan(plan_id=ctx.new_id("EXT"), stop_loss=Decimal(93))
    # default: 2% of 100000 equity = 2000 at risk over 5 per unit
    assert FixedRisk().plan(leg).target_size == Decimal(400)


def test_fixed_risk_is_capped_by_max_fraction() -> None:
    ctx = _ctx(100.0)
    leg = leg_context(ctx, new_leg("A"))
    leg.exit_plan = ExitPlan(plan_id=ctx.new_id("EXT"), stop_loss=Decimal("0.5"), as_offsets=True)
    plan = FixedRisk(FixedRiskParams(max_fraction=0.5)).plan(leg)
    assert plan.target_size == Decimal(500)


def test_fixed_risk_refuses_a_leg_without_a_stop() -> None:
    with pytest.raises(PlanError, match="needs a stop"):
        FixedRisk().plan(leg_context(_ctx(), new_leg("A")))


def test_target_weight_sizes_from_the_symbols_weight() -> None:
    ctx = _ctx(100.0, ledger=FakeLedger(cash=Decimal(50_000)))
    plan = TargetWeight(TargetWeightParams(weights={"A": 0.6})).plan(leg_context(ctx, new_leg("A")))
    assert plan.target_size == Decimal(300)
    with pytest.raises(PlanError, match="no target weight for A"):
        TargetWeight(TargetWeightParams(weights={"B": 0.4})).plan(leg_context(ctx, new_leg("A")))


# -- execution ---------------------------------------------------------------------------


def test_single_order_takes_the_tighter_slippage_limit() -> None:
    leg = new_leg("A", max_acceptable_slippage=0.002)
    plan = SingleOrder().plan(leg_context(_ctx(), leg))
    assert (plan.algorithm, plan.time_in_force, plan.max_slippage_pct) == (
        ExecutionAlgorithm.SINGLE,
        TimeInForce.GTC,
        0.002,
    )


def _adaptive(urgency: float, visibility: float, units: int = 100, **params: object):  # type: ignore[no-untyped-def]
    planner = AdaptiveExecution(AdaptiveParams(**params))  # type: ignore[arg-type]
    ctx = _ctx(100.0)
    planner.setup(ctx)
    leg = leg_context(
        ctx,
        new_leg("A", target_size=Decimal(units)),
        routing=ExecutionDirective(execution_urgency=urgency, visibility_preference=visibility),
    )
    leg.size_plan = FixedUnits(FixedUnitsParams(units=Decimal(1))).plan(leg)
    return planner.plan(leg)


def test_adaptive_execution_chooses_by_urgency_and_visibility() -> None:
    urgent = _adaptive(0.9, 0.1, urgent_time_in_force="IOC")
    hidden = _adaptive(0.5, 0.2, iceberg_slices=4)
    patient = _adaptive(0.1, 1.0, twap_window="3 bars", twap_slices=6)
    plain = _adaptive(0.5, 1.0)
    assert (urgent.algorithm, urgent.time_in_force) == (ExecutionAlgorithm.SINGLE, TimeInForce.IOC)
    assert (hidden.algorithm, hidden.slice_count) == (ExecutionAlgorithm.ICEBERG, 4)
    assert (patient.algorithm, patient.slice_count, patient.window_seconds) == (
        ExecutionAlgorithm.TWAP,
        6,
        3 * 86_400,
    )
    assert (plain.algorithm, plain.time_in_force) == (ExecutionAlgorithm.SINGLE, TimeInForce.GTC)


def test_adaptive_execution_slices_only_large_patient_orders() -> None:
    small = _adaptive(0.1, 1.0, units=10, large_notional=5_000)
    large = _adaptive(0.1, 1.0, units=100, large_notional=5_000)
    assert small.algorithm is ExecutionAlgorithm.SINGLE
    assert large.algorithm is ExecutionAlgorithm.TWAP


def test_adaptive_execution_rejects_a_bad_window_at_setup() -> None:
    with pytest.raises(ValueError, match="twap_window: duration 'soon' is not understood"):
        AdaptiveExecution(AdaptiveParams(twap_window="soon")).setup(_ctx())
