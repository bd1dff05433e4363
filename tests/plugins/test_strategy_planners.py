"""Strategy planners: the directive each one makes from signals, risks, schedule and positions."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import pytest
from plugin_kit import FakeLedger, FakePlan, make_bars, make_ctx
from pydantic import ValidationError

from simpletrader.core.enums import (
    BatchExecutionMode,
    Side,
    SignalDirection,
    TradeDirection,
)
from simpletrader.dtos import ExecutionPolicy, Risk, Signal, StrategyDirective
from simpletrader.plugins.base import Decision, FlowContext, PolicyParams, StrategyPlanner
from simpletrader.plugins.strategy import (
    DcaLadder,
    DcaLadderParams,
    FlashCrashExit,
    FlashCrashExitParams,
    PairTrade,
    PairTradeParams,
    PositionManager,
    PositionManagerParams,
    Rebalance,
    RebalanceParams,
    Rotation,
    RotationParams,
    ScaleInOut,
    ScaleInOutParams,
    SignalToDirective,
    SignalToDirectiveParams,
)

TPL_A = "TPL_20240101_000000_0000000a"
TPL_B = "TPL_20240101_000000_0000000b"


def _signal(ctx: FlowContext, kind: str, direction: str, symbol: str = "A") -> Signal:
    return Signal(
        signal_id=ctx.new_id("SIG"),
        timestamp=ctx.now,
        symbol=symbol,
        direction=SignalDirection(direction),
        signal_type=kind,
    )


def _risk(ctx: FlowContext, kind: str, symbol: str | None = None, severity: float = 1.0) -> Risk:
    return Risk(
        risk_id=ctx.new_id("RSK"),
        timestamp=ctx.now,
        risk_type=kind,
        severity=severity,
        affected_symbol=symbol,
    )


def _decide(
    planner: StrategyPlanner,
    ctx: FlowContext,
    signals: Iterable[Signal] = (),
    risks: Iterable[Risk] = (),
    triggers: Iterable[str] = ("signal",),
) -> StrategyDirective | None:
    planner.setup(ctx)
    origin = ctx.new_id("TCK")
    return planner.decide(Decision(ctx, tuple(signals), tuple(risks), origin, frozenset(triggers)))


def _legs(directive: StrategyDirective | None) -> list[tuple[str, str, object]]:
    assert directive is not None
    return [
        (leg.scope.value, leg.symbol, leg.direction or leg.trade_plan_id) for leg in directive.legs
    ]


def _pair_ctx(a: float = 100.0, b: float = 50.0, ledger: FakeLedger | None = None) -> FlowContext:
    return make_ctx(
        {"A": make_bars("A", [a]), "B": make_bars("B", [b])},
        ledger=ledger,
        facts={"z.hedge_ratio": [1.5]},
    )


# -- signal_to_directive ---------------------------------------------------------------------


def test_signal_to_directive_opens_long_and_closes_on_the_opposite_signal() -> None:
    ctx = make_ctx(make_bars("A", [100.0]))
    planner = SignalToDirective()
    opened = _decide(planner, ctx, [_signal(ctx, "UP", "long")])
    assert _legs(opened) == [("NEW_TRADE", "A", Side.BUY)]
    ctx.ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(10)))  # type: ignore[attr-defined]
    closed = _decide(planner, ctx, [_signal(ctx, "DOWN", "short")])
    assert _legs(closed) == [("CLOSE_EXISTING", "A", TPL_A)]
    assert _decide(planner, ctx, [_signal(ctx, "UP", "long")]) is None


def test_signal_to_directive_reverses_in_one_directive_when_short_is_allowed() -> None:
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(10)))
    ctx = make_ctx(make_bars("A", [100.0]), ledger=ledger)
    planner = SignalToDirective(SignalToDirectiveParams(allow_short=True))
    directive = _decide(planner, ctx, [_signal(ctx, "DOWN", "short")])
    assert _legs(directive) == [("CLOSE_EXISTING", "A", TPL_A), ("NEW_TRADE", "A", Side.SELL)]


def test_signal_to_directive_follows_the_latest_signal_of_every_symbol_in_one_directive() -> None:
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL_B, "B", TradeDirection.LONG, Decimal(10)))
    ctx = make_ctx({"A": make_bars("A", [100.0]), "B": make_bars("B", [50.0])}, ledger=ledger)
    signals = [
        _signal(ctx, "DOWN", "short", "A"),
        _signal(ctx, "DOWN", "short", "B"),
        _signal(ctx, "UP", "long", "A"),  # A's latest word: long
    ]
    directive = _decide(SignalToDirective(), ctx, signals)
    assert _legs(directive) == [("NEW_TRADE", "A", Side.BUY), ("CLOSE_EXISTING", "B", TPL_B)]


def test_the_directive_starts_the_causality_chain_and_takes_the_default_policy() -> None:
    ctx = make_ctx(make_bars("A", [100.0]))
    ctx.default_policy = ExecutionPolicy(mode=BatchExecutionMode.SEQUENTIAL, timeout_seconds=60)
    signals = [_signal(ctx, "UP", "long")]
    risks = [_risk(ctx, "NOISE")]
    directive = _decide(SignalToDirective(), ctx, signals, risks)
    assert directive is not None
    chain = directive.causality
    assert chain.origin_id.startswith("TCK_")
    assert chain.signal_ids == (signals[0].signal_id,)
    assert chain.risk_ids == (risks[0].risk_id,)
    assert chain.directive_id == directive.directive_id
    assert directive.execution_policy == ctx.default_policy


def test_a_planners_policy_param_wins_and_converts_durations_in_bars() -> None:
    ctx = make_ctx(make_bars("A", [100.0]))
    ctx.default_policy = ExecutionPolicy()
    params = SignalToDirectiveParams(
        policy=PolicyParams(
            mode=BatchExecutionMode.COORDINATED, timeout="2 bars", unwind_filled_legs=True
        )
    )
    directive = _decide(SignalToDirective(params), ctx, [_signal(ctx, "UP", "long")])
    assert directive is not None
    assert directive.execution_policy == ExecutionPolicy(
        mode=BatchExecutionMode.COORDINATED, timeout_seconds=2 * 86_400, unwind_filled_legs=True
    )


def test_an_unwind_policy_without_coordination_is_refused_at_setup() -> None:
    params = SignalToDirectiveParams(policy=PolicyParams(unwind_filled_legs=True))
    with pytest.raises(ValueError, match="only with mode COORDINATED"):
        SignalToDirective(params).setup(make_ctx(make_bars("A", [1.0])))


# -- position_manager ------------------------------------------------------------------------


def test_position_manager_raises_the_stop_and_never_lowers_it() -> None:
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(10)))
    bars = make_bars("A", [100.0, 110.0, 105.0, 120.0])
    ctx = make_ctx(bars, ledger=ledger)
    planner = PositionManager(PositionManagerParams(trail_pct=0.1))
    assert planner.position_trigger
    stops = []
    for i in range(4):
        ctx.cache.index = i
        directive = _decide(planner, ctx, triggers=("position",))
        if directive is None:
            stops.append(None)
            continue
        assert _legs(directive) == [("MODIFY_EXISTING", "A", TPL_A)]
        assert directive.legs[0].target_size is None
        tolerance = directive.exit_directive.stop_loss_tolerance
        stops.append(round(bars.close[i] * (1 - tolerance), 2))
    assert stops == [90.0, 99.0, None, 108.0]


def test_position_manager_respects_a_stop_already_on_the_plan() -> None:
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(10), stop_loss=Decimal(95)))
    ctx = make_ctx(make_bars("A", [100.0]), ledger=ledger)
    planner = PositionManager(PositionManagerParams(trail_pct=0.1))
    assert _decide(planner, ctx, triggers=("position",)) is None


def test_position_manager_trails_a_short_downwards_by_atr() -> None:
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.SHORT, Decimal(-10), stop_loss=Decimal(110)))
    ctx = make_ctx(make_bars("A", [100.0]), ledger=ledger, facts={"atr": [2.0]})
    planner = PositionManager(PositionManagerParams(trail_pct=None, trail_atr="atr"))
    directive = _decide(planner, ctx, triggers=("position",))
    assert directive is not None
    assert directive.exit_directive.stop_loss_tolerance == pytest.approx(0.06)


def test_position_manager_skips_a_plan_with_a_working_command() -> None:
    ledger = FakeLedger(working={TPL_A})
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(10)))
    ctx = make_ctx(make_bars("A", [100.0]), ledger=ledger)
    assert _decide(PositionManager(), ctx, triggers=("position",)) is None


def test_position_manager_enters_on_signals_like_signal_to_directive() -> None:
    ctx = make_ctx(make_bars("A", [100.0]))
    directive = _decide(PositionManager(), ctx, [_signal(ctx, "UP", "long")])
    assert _legs(directive) == [("NEW_TRADE", "A", Side.BUY)]


# -- pair_trade ------------------------------------------------------------------------------


def test_pair_trade_opens_both_legs_split_by_the_hedge_ratio() -> None:
    ctx = _pair_ctx(100.0, 50.0)
    planner = PairTrade(PairTradeParams(pair=("A", "B"), hedge_ratio="z.hedge_ratio"))
    directive = _decide(planner, ctx, [_signal(ctx, "SPREAD_LONG_ENTRY", "long")])
    assert _legs(directive) == [("NEW_TRADE", "A", Side.BUY), ("NEW_TRADE", "B", Side.SELL)]
    assert directive is not None
    # units 1 : 1.5, so notional 100 : 1.5 x 50
    assert [leg.size_weight for leg in directive.legs] == [100.0, 75.0]


def test_pair_trade_short_spread_by_notional_ratio() -> None:
    ctx = _pair_ctx()
    planner = PairTrade(
        PairTradeParams(pair=("A", "B"), hedge_ratio="z.hedge_ratio", ratio_in="notional")
    )
    directive = _decide(planner, ctx, [_signal(ctx, "SPREAD_SHORT_ENTRY", "short")])
    assert _legs(directive) == [("NEW_TRADE", "A", Side.SELL), ("NEW_TRADE", "B", Side.BUY)]
    assert directive is not None
    assert [leg.size_weight for leg in directive.legs] == [1.0, 1.5]


def test_pair_trade_closes_both_legs_in_one_directive() -> None:
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(10)))
    ledger.hold(FakePlan(TPL_B, "B", TradeDirection.SHORT, Decimal(-15)))
    ctx = _pair_ctx(ledger=ledger)
    planner = PairTrade(PairTradeParams(pair=("A", "B")))
    assert _decide(planner, ctx, [_signal(ctx, "SPREAD_SHORT_EXIT", "long")]) is None
    assert _decide(planner, ctx, [_signal(ctx, "SPREAD_LONG_ENTRY", "long")]) is None
    directive = _decide(planner, ctx, [_signal(ctx, "SPREAD_LONG_EXIT", "short")])
    assert _legs(directive) == [("CLOSE_EXISTING", "A", TPL_A), ("CLOSE_EXISTING", "B", TPL_B)]


def test_pair_trade_makes_no_trade_without_a_positive_hedge_ratio() -> None:
    ctx = make_ctx(
        {"A": make_bars("A", [100.0]), "B": make_bars("B", [50.0])},
        facts={"h": [float("nan")]},
    )
    planner = PairTrade(PairTradeParams(pair=("A", "B"), hedge_ratio="h"))
    assert _decide(planner, ctx, [_signal(ctx, "SPREAD_LONG_ENTRY", "long")]) is None


def test_pair_trade_refuses_an_unknown_symbol_at_setup() -> None:
    with pytest.raises(ValueError, match=r"pair symbols \['C'\] are not traded"):
        PairTrade(PairTradeParams(pair=("A", "C"))).setup(_pair_ctx())


# -- dca_ladder ------------------------------------------------------------------------------


def test_dca_ladder_buys_three_rungs_below_the_close_on_its_schedule() -> None:
    ctx = make_ctx(make_bars("A", [200.0]))
    planner = DcaLadder(DcaLadderParams(schedule="0 0 * * MON", amount=Decimal(3000)))
    assert _decide(planner, ctx, triggers=("signal",)) is None
    directive = _decide(planner, ctx, triggers=("schedule",))
    assert directive is not None
    zones = [leg.preferred_price_zone for leg in directive.legs]
    assert zones == [
        (Decimal(198), Decimal(198)),
        (Decimal(196), Decimal(196)),
        (Decimal(194), Decimal(194)),
    ]
    assert [leg.direction for leg in directive.legs] == [Side.BUY] * 3
    spent = sum(leg.target_size * zone[0] for leg, zone in zip(directive.legs, zones, strict=True))  # type: ignore[operator, index]
    assert spent == pytest.approx(3000)


def test_dca_ladder_accumulates_into_the_open_plan_with_cumulative_targets() -> None:
    ledger = FakeLedger()
    params = DcaLadderParams(schedule="@weekly", amount=Decimal(3000), accumulate=True)
    bars = make_bars("A", [200.0])
    first = _decide(DcaLadder(params), make_ctx(bars, ledger=ledger), triggers=("schedule",))
    assert [leg.scope.value for leg in first.legs] == ["NEW_TRADE"] * 3  # type: ignore[union-attr]
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(10)))
    directive = _decide(DcaLadder(params), make_ctx(bars, ledger=ledger), triggers=("schedule",))
    assert _legs(directive) == [("MODIFY_EXISTING", "A", TPL_A)] * 3
    assert directive is not None
    # 1000 a rung at 198, 196, 194: 5 units each (floored), on top of the 10 held
    assert [leg.target_size for leg in directive.legs] == [Decimal(15), Decimal(20), Decimal(25)]
    assert [leg.preferred_price_zone for leg in directive.legs][2] == (Decimal(194), Decimal(194))
    ledger.working.add(TPL_A)  # the last ladder still works: no new one on top of it
    assert _decide(DcaLadder(params), make_ctx(bars, ledger=ledger), triggers=("schedule",)) is None


def test_dca_ladder_rejects_bad_cron_text_and_mismatched_weights() -> None:
    with pytest.raises(ValidationError, match="not a cron expression"):
        DcaLadderParams(schedule="every monday", amount=Decimal(1))
    with pytest.raises(ValidationError, match="weights has 2 entries but offsets has 3"):
        DcaLadderParams(schedule="@weekly", amount=Decimal(1), weights=(1.0, 2.0))


# -- rebalance -------------------------------------------------------------------------------


def test_rebalance_sets_absolute_targets_with_reductions_first() -> None:
    ledger = FakeLedger(cash=Decimal(20_000))
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(800)))
    ctx = make_ctx({"A": make_bars("A", [100.0]), "B": make_bars("B", [50.0])}, ledger=ledger)
    planner = Rebalance(RebalanceParams(schedule="@monthly", weights={"A": 0.6, "B": 0.4}))
    directive = _decide(planner, ctx, triggers=("schedule",))
    # equity 20000 + 80000 = 100000: A 60000 / 100 = 600 units, B 40000 / 50 = 800 units
    assert _legs(directive) == [("MODIFY_EXISTING", "A", TPL_A), ("NEW_TRADE", "B", Side.BUY)]
    assert directive is not None
    assert [leg.target_size for leg in directive.legs] == [Decimal(600), Decimal(800)]


def test_rebalance_leaves_positions_within_the_drift_band_and_closes_weight_zero() -> None:
    ledger = FakeLedger(cash=Decimal(40_500))
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(595)))
    ledger.hold(FakePlan(TPL_B, "B", TradeDirection.LONG, Decimal(10)))
    ctx = make_ctx({"A": make_bars("A", [100.0]), "B": make_bars("B", [50.0])}, ledger=ledger)
    params = RebalanceParams(schedule="@monthly", weights={"A": 0.6, "B": 0.0}, drift=0.05)
    directive = _decide(Rebalance(params), ctx, triggers=("schedule",))
    assert _legs(directive) == [("CLOSE_EXISTING", "B", TPL_B)]


def test_rebalance_keeps_the_cash_buffer_out_of_its_targets() -> None:
    ctx = make_ctx({"A": make_bars("A", [100.0]), "B": make_bars("B", [50.0])})
    params = RebalanceParams(schedule="@monthly", weights={"A": 0.6, "B": 0.4}, cash_buffer=0.1)
    directive = _decide(Rebalance(params), ctx, triggers=("schedule",))
    # equity 100000, 90000 of it invested: A 54000 / 100 = 540 units, B 36000 / 50 = 720
    assert directive is not None
    assert [leg.target_size for leg in directive.legs] == [Decimal(540), Decimal(720)]


def test_rebalance_refuses_weights_above_one() -> None:
    with pytest.raises(ValidationError, match=r"add up to 1\.2"):
        RebalanceParams(schedule="@monthly", weights={"A": 0.6, "B": 0.6})


# -- scale_in_out ----------------------------------------------------------------------------


def _scale(
    planner: ScaleInOut,
    ledger: FakeLedger,
    rsi: list[float],
    triggers: Iterable[str] = ("schedule",),
) -> StrategyDirective | None:
    """The planner's directive on the last of ``rsi``'s bars (closes flat at 100)."""
    bars = make_bars("A", [100.0] * len(rsi))
    ctx = make_ctx(bars, ledger=ledger, facts={"rsi": rsi}, index=len(rsi) - 1)
    return _decide(planner, ctx, triggers=triggers)


def _targets(directive: StrategyDirective | None) -> list[tuple[str, object]]:
    assert directive is not None
    return [(leg.scope.value, leg.target_size) for leg in directive.legs]


def test_scale_in_out_opens_resizes_and_closes_along_its_steps() -> None:
    ledger = FakeLedger()
    planner = ScaleInOut(
        ScaleInOutParams(schedule="@weekly", fact="rsi", steps=((45, 0.3), (55, 0.6)))
    )
    assert _scale(planner, ledger, [40.0]) is None  # below every step: flat, as before
    # equity 100000: 30% at 100 = 300 units
    assert _targets(_scale(planner, ledger, [40.0, 50.0])) == [("NEW_TRADE", Decimal(300))]
    ledger.cash = Decimal(70_000)
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(300)))
    assert _scale(planner, ledger, [40.0, 50.0, 52.0]) is None  # same step: nothing to say
    directive = _scale(planner, ledger, [40.0, 50.0, 52.0, 60.0])
    assert _legs(directive) == [("MODIFY_EXISTING", "A", TPL_A)]
    assert _targets(directive) == [("MODIFY_EXISTING", Decimal(600))]
    directive = _scale(planner, ledger, [40.0, 50.0, 52.0, 60.0, 30.0])
    assert _legs(directive) == [("CLOSE_EXISTING", "A", TPL_A)]


def test_scale_in_out_redelivers_the_same_absolute_target_when_nothing_changed() -> None:
    ledger = FakeLedger()
    params = ScaleInOutParams(schedule="@weekly", fact="rsi", steps=((45, 0.3),), redeliver=True)
    planner = ScaleInOut(params)
    assert _targets(_scale(planner, ledger, [50.0])) == [("NEW_TRADE", Decimal(300))]
    ledger.cash = Decimal(70_000)
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(300)))
    # The same step again: the units fixed at the change are sent again, not recomputed.
    ledger.cash = Decimal(80_000)
    first = _scale(planner, ledger, [50.0, 51.0])
    second = _scale(planner, ledger, [50.0, 51.0, 70.0])
    assert _targets(first) == _targets(second) == [("MODIFY_EXISTING", Decimal(300))]
    assert _scale(planner, ledger, [50.0, 51.0, 70.0], triggers=("position",)) is None


def test_scale_in_out_reads_its_steps_downwards_with_below() -> None:
    params = ScaleInOutParams(
        schedule="@weekly", fact="rsi", steps=((50, 0.2), (30, 0.8)), below=True
    )
    planner = ScaleInOut(params)
    assert planner.step_of(60.0) is None
    assert _targets(_scale(planner, FakeLedger(), [35.0])) == [("NEW_TRADE", Decimal(200))]
    assert planner.step_of(25.0) is not None
    assert _targets(_scale(ScaleInOut(params), FakeLedger(), [25.0])) == [
        ("NEW_TRADE", Decimal(800))
    ]


def test_scale_in_out_refuses_a_repeated_level() -> None:
    with pytest.raises(ValidationError, match="steps repeat a level"):
        ScaleInOutParams(schedule="@weekly", fact="rsi", steps=((50, 0.2), (50, 0.4)))


# -- leg_slippage ----------------------------------------------------------------------------


def test_leg_slippage_sets_every_legs_max_acceptable_slippage() -> None:
    ctx = make_ctx({"A": make_bars("A", [100.0]), "B": make_bars("B", [50.0])})
    params = RebalanceParams(schedule="@monthly", weights={"A": 0.5, "B": 0.5}, leg_slippage=0.03)
    directive = _decide(Rebalance(params), ctx, triggers=("schedule",))
    assert directive is not None
    assert [leg.max_acceptable_slippage for leg in directive.legs] == [0.03, 0.03]
    default = _decide(
        Rebalance(RebalanceParams(schedule="@monthly", weights={"A": 0.5})),
        ctx,
        triggers=("schedule",),
    )
    assert default is not None
    assert default.legs[0].max_acceptable_slippage == 0.005


# -- rotation --------------------------------------------------------------------------------


def test_rotation_closes_the_laggard_then_buys_the_leader() -> None:
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(10)))
    ctx = make_ctx(
        {"A": make_bars("A", [100.0, 101.0]), "B": make_bars("B", [50.0, 55.0])},
        ledger=ledger,
        index=1,
    )
    planner = Rotation(RotationParams(lookback=1))
    directive = _decide(planner, ctx, triggers=("schedule",))
    assert _legs(directive) == [("CLOSE_EXISTING", "A", TPL_A), ("NEW_TRADE", "B", Side.BUY)]


def test_rotation_holds_nothing_when_no_momentum_beats_the_floor() -> None:
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(10)))
    ctx = make_ctx(
        {"A": make_bars("A", [100.0, 99.0]), "B": make_bars("B", [50.0, 49.0])},
        ledger=ledger,
        index=1,
    )
    directive = _decide(Rotation(RotationParams(lookback=1)), ctx, triggers=("schedule",))
    assert _legs(directive) == [("CLOSE_EXISTING", "A", TPL_A)]


def test_rotation_keeps_the_leader_it_holds() -> None:
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL_B, "B", TradeDirection.LONG, Decimal(10)))
    ctx = make_ctx(
        {"A": make_bars("A", [100.0, 101.0]), "B": make_bars("B", [50.0, 55.0])},
        ledger=ledger,
        index=1,
    )
    assert _decide(Rotation(RotationParams(lookback=1)), ctx, triggers=("schedule",)) is None


# -- flash_crash_exit ------------------------------------------------------------------------


def _crash_ctx() -> FlowContext:
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL_A, "A", TradeDirection.LONG, Decimal(10)))
    ledger.hold(FakePlan(TPL_B, "B", TradeDirection.SHORT, Decimal(-5)))
    return make_ctx({"A": make_bars("A", [100.0]), "B": make_bars("B", [50.0])}, ledger=ledger)


def test_flash_crash_exit_closes_every_position_in_one_urgent_directive() -> None:
    ctx = _crash_ctx()
    directive = _decide(
        FlashCrashExit(), ctx, risks=[_risk(ctx, "FAST_DROP", "A")], triggers=("risk",)
    )
    assert _legs(directive) == [("CLOSE_EXISTING", "A", TPL_A), ("CLOSE_EXISTING", "B", TPL_B)]
    assert directive is not None
    assert directive.routing_directive.execution_urgency == 1.0


def test_flash_crash_exit_can_close_only_the_affected_symbol() -> None:
    ctx = _crash_ctx()
    planner = FlashCrashExit(FlashCrashExitParams(close="affected"))
    directive = _decide(planner, ctx, risks=[_risk(ctx, "FAST_DROP", "B")], triggers=("risk",))
    assert _legs(directive) == [("CLOSE_EXISTING", "B", TPL_B)]


def test_flash_crash_exit_ignores_other_and_mild_risks() -> None:
    ctx = _crash_ctx()
    planner = FlashCrashExit(FlashCrashExitParams(min_severity=0.5))
    risks = [_risk(ctx, "EXPOSURE"), _risk(ctx, "FAST_DROP", severity=0.2)]
    assert _decide(planner, ctx, risks=risks, triggers=("risk",)) is None


def test_a_planners_default_sub_directives_are_the_directives_own_defaults() -> None:
    # The journal leaves a default out after an identity test: the planner passes those objects.
    params = SignalToDirective().params
    for name in ("size_directive", "exit_directive", "routing_directive"):
        assert getattr(params, name) is StrategyDirective.model_fields[name].default
