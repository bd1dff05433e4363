"""The flow runner end to end: triggers, schedule, warm-up, quiet bars and causality."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import numpy as np
import pytest
from pipeline_kit import (
    DAY_NS,
    MONDAY_NS,
    blueprint,
    daily_bars,
    flow_dtos,
    flow_entries,
    kinds,
    run_on,
)

from simpletrader.backtest.engine import run_backtest
from simpletrader.core.errors import ConfigError
from simpletrader.dtos import StrategyDirective
from simpletrader.plugins import registry
from simpletrader.plugins.base import Decision
from simpletrader.plugins.strategy import SignalToDirective

CALLS: list[tuple[int, frozenset[str], str]] = []


class RecordingPlanner(SignalToDirective):
    """Signal entries and exits; records every call (bar, triggers, origin prefix)."""

    @property
    def position_trigger(self) -> bool:
        return bool(getattr(self.params, "allow_short", False))

    @property
    def schedule(self) -> str | None:
        return "0 0 * * WED"

    def decide(self, decision: Decision) -> StrategyDirective | None:
        CALLS.append(
            (decision.ctx.cache.index, decision.triggers, decision.origin_id.split("_", 1)[0])
        )
        return self.from_signals(decision)


@pytest.fixture
def recording() -> Iterator[list[tuple[int, frozenset[str], str]]]:
    registry.available("strategy_planner")
    registry.register("test_recording_planner")(RecordingPlanner)
    CALLS.clear()
    yield CALLS
    registry._REGISTRY["strategy_planner"].pop("test_recording_planner")


GOOG_SMA = """
    name: t
    seed: 3
    data:
      symbols: [{{symbol: GOOG, source: GOOG_1d}}]
      warmup_bars: {warmup}
    workforce:
      context_worker:
        - {{plugin: sma, name: fast, params: {{period: {fast}}}}}
        - {{plugin: sma, name: slow, params: {{period: 30}}}}
      signal_detector:
        - {{plugin: ma_crossover, params: {{fast: fast, slow: slow}}}}
      strategy_planner: {planner}
"""


def _goog(fast: int = 10, warmup: int = 0, planner: str = "{plugin: signal_to_directive}"):  # type: ignore[no-untyped-def]
    return blueprint(GOOG_SMA.format(fast=fast, warmup=warmup, planner=planner))


def test_a_run_where_nothing_fires_runs_no_flow_and_journals_nothing() -> None:
    run = run_backtest(_goog(fast=30))
    assert run.flows == 0
    assert len(run.journal) == 0


def test_the_schedule_fires_on_quiet_bars_with_only_the_schedule_trigger(
    recording: list[tuple[int, frozenset[str], str]],
) -> None:
    bp = blueprint(
        """
        name: t
        data: {symbols: [{symbol: A, source: A.csv}]}
        workforce:
          strategy_planner: {plugin: test_recording_planner}
        """
    )
    run = run_on(bp, daily_bars("A", [100.0] * 16))
    # Wednesday 00:00 is the close of each Tuesday bar: bars 1 and 8 (and 15).
    assert recording == [
        (1, frozenset({"schedule"}), "SCH"),
        (8, frozenset({"schedule"}), "SCH"),
        (15, frozenset({"schedule"}), "SCH"),
    ]
    origins = list(flow_dtos(run, "Origin"))
    assert [o["type"] for o in origins] == ["SCHEDULE"] * 3
    ats = [r["at"] for r in kinds(run, "flow")]
    assert ats == [MONDAY_NS + 2 * DAY_NS, MONDAY_NS + 9 * DAY_NS, MONDAY_NS + 16 * DAY_NS]


def test_a_scheduled_rebalance_trades_on_its_fire_bars() -> None:
    bp = blueprint(
        """
        name: t
        data: {symbols: [{symbol: A, source: a.csv}, {symbol: B, source: b.csv}]}
        workforce:
          strategy_planner:
            plugin: rebalance
            params: {schedule: "0 0 * * WED", weights: {A: 0.5, B: 0.3}}
        """
    )
    closes = 100.0 + np.arange(16)
    run = run_on(bp, daily_bars("A", closes), daily_bars("B", closes / 2))
    directives = list(flow_dtos(run, "StrategyDirective"))
    assert [d["causality"]["origin_id"][:3] for d in directives] == ["SCH"] * 3
    first = directives[0]["legs"]
    assert [(leg["scope"], leg["symbol"]) for leg in first] == [
        ("NEW_TRADE", "A"),
        ("NEW_TRADE", "B"),
    ]
    # equity 100000 at bar 1's close: A 50000 / 101, B 30000 / 50.5
    assert [Decimal(leg["target_size"]) for leg in first] == [Decimal(495), Decimal(594)]
    later = [leg["scope"] for d in directives[1:] for leg in d["legs"]]
    assert set(later) == {"MODIFY_EXISTING"}


def test_warm_up_bars_see_no_flow(recording: list[tuple[int, frozenset[str], str]]) -> None:
    full = run_backtest(_goog())
    first_signal_bar = (next(iter(kinds(full, "flow")))["at"] // DAY_NS) * DAY_NS
    bars = full.bars["GOOG"]
    index = int(np.searchsorted(bars.timestamps + DAY_NS, first_signal_bar))
    warm = run_backtest(_goog(warmup=index + 1))
    cutoff = int(bars.timestamps[index + 1]) + DAY_NS
    assert min(r["at"] for r in kinds(warm, "flow")) >= cutoff
    assert warm.flows < full.flows
    scheduled = run_backtest(_goog(warmup=20, planner="{plugin: test_recording_planner}"))
    assert scheduled.flows > 0
    assert min(bar for bar, _, _ in recording) >= 20


def test_warm_up_longer_than_the_data_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"data\.warmup_bars: 5000 leaves no bar to trade"):
        run_backtest(_goog(warmup=5000))


def test_the_position_trigger_runs_the_planner_on_every_bar_a_position_is_held(
    recording: list[tuple[int, frozenset[str], str]],
) -> None:
    planner = "{plugin: test_recording_planner, params: {allow_short: true}}"
    run = run_backtest(_goog(planner=planner))
    closes_ns = run.bars["GOOG"].timestamps + DAY_NS
    plans = list(run.ledger.plans.values())
    held = {
        i
        for i, close in enumerate(closes_ns)
        for plan in plans
        if plan.created_at < close and (plan.closed_at is None or plan.closed_at >= close)
    }
    with_position = {bar for bar, triggers, _ in recording if "position" in triggers}
    assert with_position == held
    assert len(held) > 1000
    quiet = [t for bar, t, _ in recording if bar in held and "signal" not in t]
    assert set(quiet) <= {frozenset({"position"}), frozenset({"position", "schedule"})}


def test_position_only_flows_that_decide_nothing_journal_nothing() -> None:
    run = run_backtest(_goog(planner="{plugin: position_manager, params: {trail_pct: 0.5}}"))
    origins = list(flow_dtos(run, "Origin"))
    directives = list(flow_dtos(run, "StrategyDirective"))
    signals = list(flow_dtos(run, "Signal"))
    # every journaled origin has a signal or led to a directive
    with_signal = {s["signal_id"] for s in signals}
    assert with_signal
    assert len(origins) <= len(signals) + len(directives)
    assert run.flows > len(origins)


def test_the_position_manager_raises_stops_and_never_lowers_them() -> None:
    bp = _goog(planner="{plugin: position_manager, params: {trail_pct: 0.08}}")
    exits = ({"plugin": "percent_exit", "params": {"stop_pct": 0.1}},)
    bp = bp.model_validate(
        {**bp.model_dump(), "workforce": {**bp.workforce.model_dump(), "exit_planner": exits}}
    )
    run = run_backtest(bp)
    stops: dict[str, list[Decimal]] = {}
    for batch in flow_dtos(run, "ExecutionCommandBatch"):
        for command in batch["commands"]:
            if command["scope"] == "MODIFY_EXISTING":
                assert command["entry_plan"] is None
                assert command["size_plan"] is None
                assert command["execution_plan"] is None
                stop = command["exit_plan"]["stop_loss"]
                assert stop is not None
                stops.setdefault(command["trade_plan_id"], []).append(Decimal(stop))
    assert sum(len(s) for s in stops.values()) > 20
    for levels in stops.values():
        assert levels == sorted(levels)
        assert len(set(levels)) == len(levels)


def test_every_command_chain_holds_every_id_of_its_flow() -> None:
    bp = blueprint(
        """
        name: t
        seed: 5
        data: {symbols: [{symbol: GOOG, source: GOOG_1d}]}
        workforce:
          context_worker:
            - {plugin: sma, name: fast, params: {period: 10}}
            - {plugin: sma, name: slow, params: {period: 30}}
            - {plugin: atr, params: {period: 14}}
          signal_detector:
            - {plugin: ma_crossover, params: {fast: fast, slow: slow}}
          risk_monitor:
            - {plugin: fast_drop, params: {pct: 0.05, bars: 3}}
          strategy_planner: {plugin: flash_crash_exit}
          exit_planner:
            - {plugin: atr_exit, params: {atr: atr}}
          size_planner:
            - {plugin: fixed_risk, params: {max_fraction: 0.9}}
        """
    )
    run = run_backtest(bp)
    by_at: dict[int, dict[str, set[str]]] = {}
    for at, name, key, _ in flow_entries(run):
        by_at.setdefault(at, {}).setdefault(name, set()).add(key)
    directives = {d["directive_id"]: d for d in flow_dtos(run, "StrategyDirective")}
    batches = list(flow_dtos(run, "ExecutionCommandBatch"))
    assert len(batches) > 10
    with_risk = 0
    for at, name, _, batch in flow_entries(run):
        if name != "ExecutionCommandBatch":
            continue
        flow = by_at[at]
        directive = directives[batch["directive_id"]]
        for command in batch["commands"]:
            chain = command["causality"]
            assert chain["origin_id"] in flow["Origin"]
            assert set(chain["signal_ids"]) == flow.get("Signal", set())
            assert set(chain["risk_ids"]) == flow.get("Risk", set())
            assert chain["directive_id"] == directive["directive_id"]
            plans = [
                command[k]["plan_id"]
                for k in ("entry_plan", "size_plan", "exit_plan", "execution_plan")
                if command[k] is not None
            ]
            assert sorted(chain["plan_ids"]) == sorted(plans)
            assert chain["command_id"] == command["command_id"]
            assert chain["batch_id"] == batch["batch_id"]
            with_risk += bool(chain["risk_ids"])
    assert with_risk > 0


def test_a_trailing_stop_without_an_exit_planner_is_journaled_as_not_planned() -> None:
    run = run_backtest(_goog(planner="{plugin: position_manager}"))
    reasons = {r["reason"].split(" of TPL_")[0] for r in kinds(run, "directive_not_planned")}
    assert reasons == {"leg 0: exit planner no_exit gave no exit plan for an exit-only MODIFY"}
