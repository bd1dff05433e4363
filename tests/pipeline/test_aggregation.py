"""Aggregation: one directive becomes exactly one batch (or a journaled reason for none)."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pipeline_kit import blueprint, flow_dtos, kinds
from pydantic import ValidationError

from simpletrader.backtest.engine import run_backtest
from simpletrader.core.enums import BatchExecutionMode, LegScope, OrderType, Side, TradeDirection
from simpletrader.core.errors import PlanError
from simpletrader.core.ids import IdGenerator
from simpletrader.dtos import (
    EntryPlan,
    ExecutionPlan,
    ExecutionPolicy,
    ExitPlan,
    LegDirective,
    SizePlan,
)
from simpletrader.pipeline.aggregation import Aggregator, NotPlanned, roles_for
from simpletrader.pipeline.selection import RangedPlugin, RoleSelector
from simpletrader.plugins.base import (
    EntryPlanner,
    ExecutionPlanner,
    ExitPlanner,
    LegContext,
    SizePlanner,
)

sys.path.insert(0, str(Path(__file__).parents[1] / "plugins"))
from plugin_kit import (
    FakeLedger,
    FakePlan,
    assert_as_validated,
    make_bars,
    make_ctx,
    make_directive,
    new_leg,
)

CALLS: list[str] = []


class Entry(EntryPlanner):
    def plan(self, leg: LegContext) -> EntryPlan:
        CALLS.append("entry")
        return EntryPlan(plan_id=leg.ctx.new_id("ENT"), symbol=leg.symbol, direction=Side.BUY)


class Exit(ExitPlanner):
    def plan(self, leg: LegContext) -> ExitPlan | None:
        CALLS.append("exit")
        return ExitPlan(plan_id=leg.ctx.new_id("EXT"), stop_loss=Decimal(3), as_offsets=True)


class Size(SizePlanner):
    def plan(self, leg: LegContext) -> SizePlan:
        CALLS.append(
            "size"
            if leg.exit_plan is not None or leg.scope is not LegScope.NEW_TRADE
            else "size-without-exit"
        )
        if leg.leg.symbol == "REFUSE":
            raise PlanError("no budget left")
        return SizePlan(plan_id=leg.ctx.new_id("SIZ"), target_size=Decimal(1))


class Execution(ExecutionPlanner):
    def plan(self, leg: LegContext) -> ExecutionPlan:
        CALLS.append("execution")
        return ExecutionPlan(plan_id=leg.ctx.new_id("EXP"))


class RecordingIds(IdGenerator):
    def __init__(self) -> None:
        super().__init__(1)
        self.prefixes: list[str] = []

    def new(self, prefix: str, moment: object) -> str:  # type: ignore[override]
        self.prefixes.append(prefix)
        return super().new(prefix, moment)  # type: ignore[arg-type]


def _aggregator(entry_range: tuple[float, float] = (0.0, 1.0)) -> Aggregator:
    def one(role: str, plugin: object, lo: float = 0.0, hi: float = 1.0) -> RoleSelector:
        return RoleSelector(role, [RangedPlugin(lo, hi, plugin, role)])  # type: ignore[arg-type]

    return Aggregator(
        {
            "entry_planner": one("entry_planner", Entry(), *entry_range),
            "exit_planner": one("exit_planner", Exit()),
            "size_planner": one("size_planner", Size()),
            "execution_planner": one("execution_planner", Execution()),
        }
    )


TPL = "TPL_20240101_000000_000000aa"


def _world():  # type: ignore[no-untyped-def]
    ledger = FakeLedger()
    ledger.hold(FakePlan(TPL, "A", TradeDirection.LONG, Decimal(10)))
    ctx = make_ctx(
        {
            "A": make_bars("A", [100.0]),
            "B": make_bars("B", [50.0]),
            "REFUSE": make_bars("REFUSE", [100.0]),
        },
        ledger=ledger,
    )
    ctx.ids = RecordingIds()
    return ctx


def test_roles_follow_the_leg_scope() -> None:
    new = new_leg("A")
    resize = LegDirective(
        scope=LegScope.MODIFY_EXISTING, trade_plan_id=TPL, symbol="A", target_size=Decimal(3)
    )
    exit_only = LegDirective(scope=LegScope.MODIFY_EXISTING, trade_plan_id=TPL, symbol="A")
    close = LegDirective(scope=LegScope.CLOSE_EXISTING, trade_plan_id=TPL, symbol="A")
    assert roles_for(new) == ("entry_planner", "exit_planner", "size_planner", "execution_planner")
    assert roles_for(resize) == ("entry_planner", "size_planner", "execution_planner")
    assert roles_for(exit_only) == ("exit_planner",)
    assert roles_for(close) == ("execution_planner",)


def test_size_runs_after_entry_and_exit_and_the_batch_id_comes_first() -> None:
    ctx = _world()
    directive = make_directive(ctx, [new_leg("B")])
    ctx.ids.prefixes.clear()
    CALLS.clear()
    batch = _aggregator().build(directive, ctx)
    assert not isinstance(batch, NotPlanned)
    assert CALLS == ["entry", "exit", "size", "execution"]
    assert ctx.ids.prefixes == ["BAT", "ENT", "EXT", "SIZ", "EXP", "EXC"]


def test_mixed_scope_legs_become_one_batch_with_commands_in_leg_order() -> None:
    ctx = _world()
    ctx.default_policy = None
    close = LegDirective(scope=LegScope.CLOSE_EXISTING, trade_plan_id=TPL, symbol="A")
    directive = make_directive(ctx, [close, new_leg("B")])
    directive = directive.model_copy(
        update={
            "execution_policy": ExecutionPolicy(
                mode=BatchExecutionMode.SEQUENTIAL, timeout_seconds=90
            )
        }
    )
    batch = _aggregator().build(directive, ctx)
    assert not isinstance(batch, NotPlanned)
    assert [(c.leg_index, c.scope, c.trade_plan_id) for c in batch.commands] == [
        (0, LegScope.CLOSE_EXISTING, TPL),
        (1, LegScope.NEW_TRADE, None),
    ]
    assert batch.commands[0].entry_plan is None
    assert batch.commands[0].execution_plan is not None
    assert (batch.mode, batch.timeout_seconds, batch.unwind_filled_legs) == (
        BatchExecutionMode.SEQUENTIAL,
        90,
        False,
    )
    assert batch.created_at == directive.decision_timestamp
    assert len({c.causality.batch_id for c in batch.commands}) == 1


def test_a_confidence_gap_plans_nothing_and_names_the_role() -> None:
    ctx = _world()
    CALLS.clear()
    directive = make_directive(ctx, [new_leg("B")], confidence=0.7)
    result = _aggregator(entry_range=(0.0, 0.5)).build(directive, ctx)
    assert isinstance(result, NotPlanned)
    assert result.reason == (
        "confidence 0.7 of leg 0 falls in a gap of entry_planner ranges (entry_planner [0.0, 0.5))"
    )
    assert CALLS == []


def test_a_close_leg_ignores_gaps_of_roles_it_does_not_use() -> None:
    ctx = _world()
    close = LegDirective(scope=LegScope.CLOSE_EXISTING, trade_plan_id=TPL, symbol="A")
    directive = make_directive(ctx, [close], confidence=0.7)
    assert not isinstance(_aggregator(entry_range=(0.0, 0.5)).build(directive, ctx), NotPlanned)


def test_a_planner_refusal_or_an_unknown_plan_makes_no_batch() -> None:
    ctx = _world()
    refused = _aggregator().build(make_directive(ctx, [new_leg("REFUSE")]), ctx)
    assert isinstance(refused, NotPlanned)
    assert refused.reason == "leg 0 (NEW_TRADE REFUSE): no budget left"
    gone = LegDirective(
        scope=LegScope.CLOSE_EXISTING, trade_plan_id=TPL.replace("aa", "bb"), symbol="A"
    )
    unknown = _aggregator().build(make_directive(ctx, [gone]), ctx)
    assert isinstance(unknown, NotPlanned)
    assert "is not an open plan of strategy test on A" in unknown.reason


def test_exit_levels_on_the_wrong_side_are_refused() -> None:
    class BadExit(ExitPlanner):
        def plan(self, leg: LegContext) -> ExitPlan | None:
            return ExitPlan(plan_id=leg.ctx.new_id("EXT"), stop_loss=Decimal(120))

    ctx = _world()
    aggregator = _aggregator()
    aggregator.selectors["exit_planner"] = RoleSelector(
        "exit_planner", [RangedPlugin(0.0, 1.0, BadExit(), "bad")]
    )
    result = aggregator.build(make_directive(ctx, [new_leg("A")]), ctx)
    assert isinstance(result, NotPlanned)
    assert "stop_loss 120 must be below the reference price 100.0 for a long trade" in result.reason


ROTATION = """
    name: rot
    data:
      symbols: [{symbol: SPX, source: SPX_1d}, {symbol: NASDAQ, source: NASDAQ_1d}]
      start: "2010-01-01"
      end: "2014-12-31"
    workforce:
      strategy_planner:
        plugin: rotation
        params: {lookback: 60, schedule: "@monthly", min_momentum: -1.0}
      size_planner: [{plugin: equity_fraction, params: {fraction: 0.95}}]
    execution:
      policy: {mode: SEQUENTIAL, timeout: 5d}
"""


def test_a_rotation_is_one_sequential_batch_close_then_new() -> None:
    run = run_backtest(blueprint(ROTATION))
    rotations = [b for b in flow_dtos(run, "ExecutionCommandBatch") if len(b["commands"]) == 2]
    assert rotations
    directives = {d["directive_id"]: d for d in flow_dtos(run, "StrategyDirective")}
    for batch in rotations:
        scopes = [c["scope"] for c in batch["commands"]]
        assert scopes == ["CLOSE_EXISTING", "NEW_TRADE"]
        assert (batch["mode"], batch["timeout_seconds"]) == ("SEQUENTIAL", 5 * 86_400)
        legs = directives[batch["directive_id"]]["legs"]
        assert legs[0]["symbol"] != legs[1]["symbol"]
        assert batch["commands"][1]["entry_plan"]["order_type"] == OrderType.MARKET.value


CONFIDENCE = """
    name: gaps
    data: {symbols: [{symbol: GOOG, source: GOOG_1d}]}
    workforce:
      context_worker:
        - {plugin: sma, name: fast, params: {period: 10}}
        - {plugin: sma, name: slow, params: {period: 30}}
      signal_detector: [{plugin: ma_crossover, params: {fast: fast, slow: slow}}]
      strategy_planner: {plugin: signal_to_directive, params: {default_confidence: 0.7}}
      entry_planner: %s
"""


def test_a_confidence_gap_is_journaled_and_makes_no_batch_end_to_end() -> None:
    entries = (
        "[{plugin: market_entry, confidence: [0.0, 0.5]}, "
        "{plugin: limit_offset, confidence: [0.8, 1.0]}]"
    )
    run = run_backtest(blueprint(CONFIDENCE % entries))
    not_planned = kinds(run, "directive_not_planned")
    assert not_planned
    assert list(flow_dtos(run, "ExecutionCommandBatch")) == []
    assert not_planned[0]["reason"] == (
        "confidence 0.7 of leg 0 falls in a gap of entry_planner ranges "
        "(market_entry (#0) [0.0, 0.5), limit_offset (#1) [0.8, 1.0))"
    )


def test_the_confidence_picks_the_planner_of_its_range_end_to_end() -> None:
    entries = (
        "[{plugin: market_entry, confidence: [0.0, 0.7]}, "
        "{plugin: limit_offset, confidence: [0.7, 1.0]}]"
    )
    run = run_backtest(blueprint(CONFIDENCE % entries))
    types = {
        c["entry_plan"]["order_type"]
        for b in flow_dtos(run, "ExecutionCommandBatch")
        for c in b["commands"]
        if c["entry_plan"] is not None
    }
    assert types == {"LIMIT"}


def test_overlapping_ranges_are_a_bootstrap_error_naming_both() -> None:
    entries = (
        "[{plugin: market_entry, confidence: [0.0, 0.6]}, "
        "{plugin: limit_offset, confidence: [0.5, 1.0]}]"
    )
    with pytest.raises(
        Exception,
        match=r"confidence ranges overlap: market_entry \(#0\) "
        r"\[0\.0, 0\.6\) and limit_offset \(#1\) \[0\.5, 1\.0\)",
    ):
        run_backtest(blueprint(CONFIDENCE % entries))


def test_a_batch_of_exact_plan_types_is_the_validated_batch() -> None:
    ctx = _world()
    close = LegDirective(scope=LegScope.CLOSE_EXISTING, trade_plan_id=TPL, symbol="A")
    batch = _aggregator().build(make_directive(ctx, [close, new_leg("B")]), ctx)
    assert not isinstance(batch, NotPlanned)
    assert_as_validated(batch)


def test_plans_of_other_types_go_through_validation() -> None:
    class MyEntryPlan(EntryPlan):
        pass

    class SubclassEntry(EntryPlanner):
        def plan(self, leg: LegContext) -> EntryPlan:
            return MyEntryPlan(plan_id=leg.ctx.new_id("ENT"), symbol=leg.symbol, direction=Side.BUY)

    class NoExecution(ExecutionPlanner):
        def plan(self, leg: LegContext) -> ExecutionPlan:
            return None  # type: ignore[return-value]

    ctx = _world()
    aggregator = _aggregator()
    aggregator.selectors["entry_planner"] = RoleSelector(
        "entry_planner",
        [RangedPlugin(0.0, 1.0, SubclassEntry(), "entry_planner")],  # type: ignore[arg-type]
    )
    batch = aggregator.build(make_directive(ctx, [new_leg("B")]), ctx)
    assert not isinstance(batch, NotPlanned)
    assert type(batch.commands[0].entry_plan) is MyEntryPlan
    assert_as_validated(batch)
    aggregator = _aggregator()  # a fresh one: planners are picked once per confidence
    aggregator.selectors["execution_planner"] = RoleSelector(
        "execution_planner",
        [RangedPlugin(0.0, 1.0, NoExecution(), "execution_planner")],  # type: ignore[arg-type]
    )
    close = LegDirective(scope=LegScope.CLOSE_EXISTING, trade_plan_id=TPL, symbol="A")
    with pytest.raises(ValidationError, match="a command needs at least one plan"):
        aggregator.build(make_directive(ctx, [close]), ctx)


def test_colliding_command_ids_are_refused_by_the_batch_validation() -> None:
    class SameIds(RecordingIds):
        def new(self, prefix: str, moment: object) -> str:  # type: ignore[override]
            return (
                "EXC_20240101_000000_00000001" if prefix == "EXC" else super().new(prefix, moment)
            )

    ctx = _world()
    ctx.ids = SameIds()
    with pytest.raises(ValidationError, match="command ids must be unique"):
        _aggregator().build(make_directive(ctx, [new_leg("A"), new_leg("B")]), ctx)
