"""The execution layer end to end: ``run_backtest`` on tiny blueprints over a bundled sample."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from simpletrader.backtest.engine import BacktestRun, run_backtest
from simpletrader.config.blueprint import Blueprint
from simpletrader.core.enums import GroupRole, OrderStatus
from simpletrader.ledger.ledger import Ledger


def blueprint(**execution: Any) -> Blueprint:
    planner = execution.pop("planner", {"plugin": "signal_to_directive"})
    exit_planner = execution.pop("exit_planner", [{"plugin": "no_exit"}])
    return Blueprint.model_validate(
        {
            "name": "execution_e2e",
            "seed": 3,
            "data": {"symbols": [{"symbol": "GOOG", "source": "GOOG_1d"}]},
            "workforce": {
                "context_worker": [
                    {"plugin": "sma", "name": "fast", "params": {"period": 10}},
                    {"plugin": "sma", "name": "slow", "params": {"period": 30}},
                ],
                "signal_detector": [
                    {"plugin": "ma_crossover", "params": {"fast": "fast", "slow": "slow"}}
                ],
                "strategy_planner": planner,
                "exit_planner": exit_planner,
                "size_planner": [{"plugin": "equity_fraction", "params": {"fraction": 0.5}}],
            },
            "execution": execution,
        }
    )


def rebuilt(run: BacktestRun) -> Ledger:
    ledger = Ledger(run.ledger.starting_cash, {"GOOG": Decimal(1)})
    ledger.replay(run.journal.events())
    return ledger


@pytest.fixture(scope="module")
def plain() -> BacktestRun:
    return run_backtest(blueprint())


def test_costs_lower_the_result_and_are_journaled_as_fees(plain: BacktestRun) -> None:
    costly = run_backtest(
        blueprint(costs={"fee_bps": 5, "fee_minimum": 1, "spread_bps": 10, "slippage_bps": 2})
    )
    assert len(costly.ledger.fills) == len(plain.ledger.fills)
    assert costly.ledger.fees > 0
    assert costly.final_equity < plain.final_equity
    assert rebuilt(costly).state_digest() == costly.ledger.state_digest()


def test_shorts_pay_borrow_as_daily_entries() -> None:
    planner = {"plugin": "signal_to_directive", "params": {"allow_short": True}}
    run = run_backtest(blueprint(planner=planner, costs={"borrow_bps_per_year": 300}))
    accrued = [r for r in run.journal.records() if r["kind"] == "cost_accrued"]
    assert accrued
    assert run.ledger.carry_costs == sum(Decimal(r["amount"]) for r in accrued)
    assert rebuilt(run).state_digest() == run.ledger.state_digest()


def test_protective_orders_come_from_the_exit_planner() -> None:
    exits = [{"plugin": "percent_exit", "params": {"stop_pct": 0.03, "take_profit_pct": 0.1}}]
    run = run_backtest(blueprint(exit_planner=exits))
    groups = [g for g in run.ledger.groups.values() if g.role is GroupRole.PROTECTIVE]
    assert groups
    filled = [
        run.ledger.orders[o]
        for g in groups
        for o in g.order_ids
        if run.ledger.orders[o].status is OrderStatus.FILLED
    ]
    assert filled  # some stops or targets were hit on GOOG's history
    assert all(o.reduce_only for g in groups for o in map(run.ledger.orders.get, g.order_ids) if o)
    assert rebuilt(run).state_digest() == run.ledger.state_digest()


def test_a_risk_limit_rejects_every_entry_and_the_run_goes_on() -> None:
    run = run_backtest(blueprint(risk_limits={"max_order_notional": 100}))
    assert run.ledger.fills == []
    reasons = {o.status_reason for o in run.ledger.orders.values()}
    assert len(reasons) > 0
    assert all(r is not None and r.startswith("RISK_MAX_ORDER_NOTIONAL") for r in reasons)


def test_injected_faults_are_deterministic_for_a_seed() -> None:
    faulty = blueprint(faults={"reject_probability": 0.3, "partial_fill_probability": 0.3})
    first, second = run_backtest(faulty), run_backtest(faulty)
    assert first.run_hash == second.run_hash
    rejected = [o for o in first.ledger.orders.values() if o.status is OrderStatus.REJECTED]
    assert rejected
    other_seed = run_backtest(faulty, seed=4)
    assert other_seed.run_hash != first.run_hash


def test_participation_cap_and_latency_from_the_blueprint() -> None:
    run = run_backtest(blueprint(venue={"participation_cap": 0.0001, "latency": "1h"}))
    entries = [o for o in run.ledger.orders.values() if not o.reduce_only]
    assert any(len([f for f in run.ledger.fills if f.order_id == o.order_id]) > 1 for o in entries)


PAIR = {
    "name": "pair_e2e",
    "seed": 5,
    "data": {
        "symbols": [
            {"symbol": "SPX", "source": "SPX_1d"},
            {"symbol": "NASDAQ", "source": "NASDAQ_1d"},
        ]
    },
    "workforce": {
        "context_worker": [
            {"plugin": "spread_zscore", "name": "z", "params": {"pair": ["SPX", "NASDAQ"]}}
        ],
        "signal_detector": [
            {"plugin": "zscore_bands", "params": {"zscore": "z", "entry": 2.0, "exit": 0.5}}
        ],
        "strategy_planner": {"plugin": "pair_trade", "params": {"pair": ["SPX", "NASDAQ"]}},
        "size_planner": [{"plugin": "equity_fraction", "params": {"fraction": 0.4}}],
    },
    "execution": {
        "margin": {"requirement": 0.5},
        "faults": {"reject_probability": 0.2, "cancel_failure_probability": 0.3},
        "policy": {"mode": "COORDINATED", "unwind_filled_legs": True, "timeout": "2 bars"},
    },
}


def test_a_coordinated_pair_with_faults_unwinds_every_failed_batch_to_zero() -> None:
    run = run_backtest(Blueprint.model_validate(PAIR))
    ledger = run.ledger
    records = list(run.journal.records())
    failed = {
        r["batch_id"] for r in records if r["kind"] == "batch_ended" and r["status"] == "FAILED"
    }
    unwinding = {r["batch_id"] for r in records if r["kind"] == "unwind_started"}
    unwinding -= {r["batch_id"] for r in records if r["kind"] == "unwind_completed"}
    # A newer MODIFY or CLOSE that superseded a leg (or its unwind) took over its position.
    superseded = {
        r["command_id"]
        for r in records
        if r["kind"] == "command_ended" and r["status"] == "SUPERSEDED"
    } | {g.command_id for g in ledger.groups.values() if g.status == "SUPERSEDED"}
    assert failed - unwinding
    for batch_id in failed - unwinding:
        net: dict[str | None, Decimal] = {}
        for group in ledger.groups.values():
            if group.batch_id != batch_id or group.command_id in superseded:
                continue
            for order_id in group.order_ids:
                order = ledger.orders[order_id]
                signed = order.filled_quantity if order.side == "BUY" else -order.filled_quantity
                net[group.command_id] = net.get(group.command_id, Decimal(0)) + signed
        assert all(v == 0 for v in net.values()), (batch_id, net)
    replayed = Ledger(ledger.starting_cash, {"SPX": Decimal(1), "NASDAQ": Decimal(1)})
    replayed.replay(run.journal.events())
    assert replayed.state_digest() == ledger.state_digest()
