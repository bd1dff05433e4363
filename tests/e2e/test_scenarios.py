"""The scenario examples (DESIGN.md §4), each run once as a user runs it, keep their promise.

Every example in ``examples/`` runs in its own subprocess (all started together) with
``--json --store``; the tests read the summary and the stored journal back.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from scenario_kit import EXAMPLES, ROOT, Scenario, collect, launch, report_batches

from simpletrader.backtest.engine import run_backtest
from simpletrader.config.loader import load_blueprint_text
from simpletrader.core.enums import (
    BatchExecutionMode,
    ExecutionAlgorithm,
    GroupRole,
    LegScope,
    OrderStatus,
    OrderType,
    Side,
)
from simpletrader.dtos import ExecutionCommandBatch, LegDirective, StrategyDirective
from simpletrader.journal.events import (
    CommandEnded,
    GroupCreated,
    LateFill,
    OrderCancelRefused,
    OrderReplaced,
    OrderSubmitted,
    UnwindCompleted,
    UnwindStarted,
)
from simpletrader.plugins import registry
from simpletrader.plugins.base import Decision, StrategyPlanner

NAMES = (
    "sma_cross_goog",
    "pair_trade",
    "pair_trade_faults",
    "dca_ladder",
    "flash_crash_exit",
    "rebalance",
    "rotation",
    "trailing_stop",
    "scale_in_out",
    "twap_entry",
    "iceberg_entry",
)
HOUR_NS = 3_600 * 1_000_000_000
DAY_S = 86_400


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenarios")


@pytest.fixture(scope="module")
def scenarios(workdir: Path) -> dict[str, Scenario]:
    """Every example, run once: all processes start at once, then are read back in turn."""
    reported = ("pair_trade_faults", "twap_entry", "iceberg_entry")
    procs = {
        name: launch(
            name,
            workdir,
            *(("--report", str(workdir / f"{name}.html")) if name in reported else ()),
        )
        for name in NAMES
    }
    runs = {name: collect(name, proc, workdir) for name, proc in procs.items()}
    for name in reported:
        runs[name].report = (workdir / f"{name}.html").read_text()
    return runs


def _modes(s: Scenario) -> set[BatchExecutionMode]:
    return {b.mode for b in s.batches.values()}


def _failed_or_skipped(s: Scenario, batch: ExecutionCommandBatch) -> int | None:
    """Index of the first command that did not succeed (None when all did)."""
    for k, command in enumerate(batch.commands):
        if s.command_status(command) in ("FAILED", "SKIPPED", "CANCELLED"):
            return k
    return None


def test_every_scenario_example_is_tested_here() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.yaml")) == sorted(NAMES)


# -- 10. the skeleton's example ------------------------------------------------------------------


def test_sma_cross_goog_stays_the_packaged_default_and_trades(
    scenarios: dict[str, Scenario],
) -> None:
    link = EXAMPLES / "sma_cross_goog.yaml"
    assert link.is_symlink()
    packaged = ROOT / "src" / "simpletrader" / "examples" / "sma_cross_goog.yaml"
    assert Path(os.path.realpath(link)) == packaged.resolve()
    s = scenarios["sma_cross_goog"]
    assert s.summary["trades"] > 10
    assert _modes(s) == {BatchExecutionMode.INDEPENDENT}


# -- 1. pair trade -------------------------------------------------------------------------------


def test_pair_trade_opens_both_legs_in_one_coordinated_batch_split_by_the_hedge_ratio(
    scenarios: dict[str, Scenario],
) -> None:
    s = scenarios["pair_trade"]
    entries = [b for b in s.batches.values() if b.commands[0].scope is LegScope.NEW_TRADE]
    assert len(entries) > 20
    for batch in s.batches.values():
        assert batch.mode is BatchExecutionMode.COORDINATED
        assert batch.timeout_seconds == 2 * DAY_S
        assert batch.unwind_filled_legs
    for batch in entries:
        legs = s.directive_of(batch).legs
        assert [leg.scope for leg in legs] == [LegScope.NEW_TRADE] * 2
        assert [leg.symbol for leg in legs] == ["SPX", "NASDAQ"]
        assert {legs[0].direction, legs[1].direction} == {Side.BUY, Side.SELL}
        # Log-price spread: the notional of NASDAQ per unit of SPX notional is the hedge ratio.
        beta = s.decision_bar(batch).facts["spread.hedge_ratio"]
        assert beta is not None
        assert legs[1].size_weight / legs[0].size_weight == pytest.approx(beta)
        fractions = [c.size_plan.target_equity_fraction for c in batch.commands if c.size_plan]
        assert sum(f for f in fractions if f is not None) == pytest.approx(0.5)
        if s.status(batch) == "COMPLETED":
            moved = s.batch_contribution(batch)
            assert set(moved) == {"SPX", "NASDAQ"}
            assert (moved["SPX"] > 0) != (moved["NASDAQ"] > 0)  # long one, short the other


def test_pair_trade_closes_both_legs_in_one_coordinated_batch(
    scenarios: dict[str, Scenario],
) -> None:
    s = scenarios["pair_trade"]
    opened = {}
    for batch in s.batches.values():
        if batch.commands[0].scope is LegScope.NEW_TRADE:
            plans = frozenset(g.trade_plan_id for c in batch.commands for g in s.groups(c))
            opened[plans] = batch
    exits = [b for b in s.batches.values() if b.commands[0].scope is LegScope.CLOSE_EXISTING]
    assert len(exits) > 20
    for batch in exits:
        assert [c.scope for c in batch.commands] == [LegScope.CLOSE_EXISTING] * 2
        assert frozenset(c.trade_plan_id for c in batch.commands) in opened
        assert s.status(batch) == "COMPLETED"
    summary = s.summary["batches"]["COORDINATED"]
    assert summary["failed"] == summary["partial"] == 0
    assert summary["completed"] == len(s.batch_ended)


# -- 2. pair trade with injected faults ----------------------------------------------------------


def test_every_failed_pair_batch_leaves_nothing_on_either_leg_once_settled(
    scenarios: dict[str, Scenario],
) -> None:
    s = scenarios["pair_trade_faults"]
    failed = [b for b in s.batches.values() if s.status(b) == "FAILED"]
    assert len(failed) >= 10
    assert s.summary["batches"]["COORDINATED"]["failed"] == len(failed)
    started = {e.batch_id for e in s.of_kind(UnwindStarted)}
    unwound = {e.batch_id for e in s.of_kind(UnwindCompleted)}
    undone = 0
    for batch in failed:
        assert batch.batch_id in started  # settled: its unwind began and completed
        assert batch.batch_id in unwound
        symbols = {"SPX", "NASDAQ"}
        contribution = s.batch_contribution(batch)
        assert set(contribution) <= symbols
        assert all(contribution.get(sym, Decimal(0)) == 0 for sym in symbols), batch.batch_id
        undone += any(s.groups(c, GroupRole.UNWIND) for c in batch.commands)
    assert undone >= 5  # failures that had filled something and reversed it
    # Every fault kind happened: rejects, partial fills, refused cancels (and their late fills).
    reasons = {s.batch_ended[b.batch_id].reason for b in failed}
    assert "REJECTED: FAULT_INJECTED_REJECT" in reasons
    assert "TIMEOUT" in reasons
    assert s.of_kind(OrderCancelRefused)
    assert s.of_kind(LateFill)
    assert any(
        o.status is OrderStatus.CANCELLED and o.filled_quantity > 0
        for o in s.ledger.orders.values()
    )


def test_the_report_lists_every_failed_pair_batch_with_its_reason(
    scenarios: dict[str, Scenario],
) -> None:
    s = scenarios["pair_trade_faults"]
    rows = report_batches(s.report)
    failed = [e for e in s.batch_ended.values() if e.status.value == "FAILED"]
    assert failed
    for ended in failed:
        assert ended.reason
        row = rows[ended.batch_id]
        assert (row["mode"], row["outcome"]) == ("COORDINATED", "FAILED")
        assert row["reason"] == ended.reason


# -- 3. DCA ladder -------------------------------------------------------------------------------


def test_dca_ladder_never_places_a_rung_after_one_failed(scenarios: dict[str, Scenario]) -> None:
    s = scenarios["dca_ladder"]
    assert len(s.batches) > 200
    stopped = completed = 0
    for batch in s.batches.values():
        assert batch.mode is BatchExecutionMode.SEQUENTIAL
        assert batch.timeout_seconds == 3 * DAY_S
        assert len(batch.commands) == 3
        prices = [c.entry_plan.limit_price for c in batch.commands if c.entry_plan]
        assert len(prices) == 3
        assert prices == sorted(prices, reverse=True)  # deeper and deeper below the close
        assert all(
            c.entry_plan.order_type is OrderType.LIMIT for c in batch.commands if c.entry_plan
        )
        if batch.commands[0].scope is LegScope.MODIFY_EXISTING:
            # Accumulating: each rung's absolute target assumes the rungs above it filled.
            targets = [c.size_plan.target_size for c in batch.commands if c.size_plan]
            assert targets == sorted(targets)
            assert len({c.trade_plan_id for c in batch.commands}) == 1
        stop = _failed_or_skipped(s, batch)
        if stop is None:
            completed += s.status(batch) == "COMPLETED"
            statuses = {s.command_status(c) for c in batch.commands}
            if batch.commands[0].scope is LegScope.MODIFY_EXISTING and statuses == {"COMPLETED"}:
                plan = batch.commands[0].trade_plan_id or ""
                assert s.nets_when_ended[batch.batch_id][plan] == targets[-1]
            continue
        stopped += stop < 2
        for later in batch.commands[stop + 1 :]:
            assert s.command_status(later) == "SKIPPED"
            assert not s.groups(later)  # never submitted: no group, no order
        # A rung goes out only once the rung above it has filled.
        for above, below in zip(batch.commands[:stop], batch.commands[1 : stop + 1], strict=True):
            last_fill = max(f.at for o in s.orders(above) for f in s.fills_by_order[o.order_id])
            assert all(s.submitted_at[o.order_id] >= last_fill for o in s.orders(below))
    assert stopped > 50
    assert completed > 10
    assert len(s.summary["open_positions"]) <= 3  # the first ladder's lots, grown since


# -- 4. flash crash exit -------------------------------------------------------------------------


def test_a_crash_attempts_every_close_even_when_one_is_rejected(
    scenarios: dict[str, Scenario],
) -> None:
    s = scenarios["flash_crash_exit"]
    crashes = [
        b
        for b in s.batches.values()
        if s.directive_of(b).causality.risk_ids
        and all(leg.scope is LegScope.CLOSE_EXISTING for leg in s.directive_of(b).legs)
    ]
    assert len(crashes) > 10
    mixed = 0
    for batch in crashes:
        assert batch.mode is BatchExecutionMode.INDEPENDENT
        statuses = []
        for command in batch.commands:
            orders = s.orders(command)
            assert orders, f"close {command.command_id} was never attempted"
            statuses.append(orders[0].status)
        if OrderStatus.REJECTED in statuses and OrderStatus.FILLED in statuses:
            mixed += 1
            assert s.status(batch) == "PARTIAL"
    assert mixed >= 3
    assert any(len(b.commands) == 3 for b in crashes)


# -- 5. rebalance --------------------------------------------------------------------------------


def test_rebalance_sets_60_40_absolute_targets_and_reaches_them(
    scenarios: dict[str, Scenario],
) -> None:
    s = scenarios["rebalance"]
    assert len(s.batches) > 30
    both = 0
    for batch in s.batches.values():
        assert batch.mode is BatchExecutionMode.INDEPENDENT
        assert s.status(batch) == "COMPLETED"
        targets = {}
        for command, leg in zip(batch.commands, s.directive_of(batch).legs, strict=True):
            assert leg.target_size is not None
            assert leg.target_weight is None
            assert command.size_plan is not None
            assert command.size_plan.target_size == leg.target_size
            targets[leg.symbol] = leg.target_size
            (plan,) = {g.trade_plan_id for g in s.groups(command)}
            assert s.nets_when_ended[batch.batch_id][plan] == leg.target_size
        if len(targets) == 2:
            both += 1
            value = {sym: float(u) * s.decision_close(batch, sym) for sym, u in targets.items()}
            assert value["SPX"] / (value["SPX"] + value["NASDAQ"]) == pytest.approx(0.6, abs=0.01)
    assert both >= 5
    held = {
        p["symbol"]: float(p["quantity"]) * p["mark_price"] for p in s.summary["open_positions"]
    }
    assert held["SPX"] / (held["SPX"] + held["NASDAQ"]) == pytest.approx(0.6, abs=0.05)


# -- 6. rotation ---------------------------------------------------------------------------------


def test_rotation_closes_then_opens_in_one_sequential_batch(scenarios: dict[str, Scenario]) -> None:
    s = scenarios["rotation"]
    switched = skipped = 0
    for batch in s.batches.values():
        assert batch.mode is BatchExecutionMode.SEQUENTIAL
        scopes = [c.scope for c in batch.commands]
        if len(scopes) == 1:
            continue
        assert scopes == [LegScope.CLOSE_EXISTING, LegScope.NEW_TRADE]
        close, new = batch.commands
        assert new.entry_plan is not None
        assert s.ledger.plans[close.trade_plan_id or ""].symbol != new.entry_plan.symbol
        if s.command_status(close) == "COMPLETED":
            switched += 1
            sold = max(f.at for o in s.orders(close) for f in s.fills_by_order[o.order_id])
            assert all(s.submitted_at[o.order_id] >= sold for o in s.orders(new))
        else:
            skipped += 1
            assert s.command_status(new) == "SKIPPED"
            assert not s.groups(new)
    assert switched > 10
    assert skipped >= 2
    assert len(s.summary["open_positions"]) <= 1


# -- 7. trailing stop ----------------------------------------------------------------------------


def test_the_trailing_stop_is_raised_by_cancel_replace_and_never_lowered(
    scenarios: dict[str, Scenario],
) -> None:
    s = scenarios["trailing_stop"]
    ledger = s.ledger
    stops: dict[str, list[Decimal]] = {}
    stop_orders: set[str] = set()
    raised = 0
    for event in s.events:
        if isinstance(event, OrderSubmitted) and event.order_type is OrderType.STOP:
            group = ledger.groups[event.group_id]
            assert group.role is GroupRole.PROTECTIVE
            assert event.stop_price is not None
            stops.setdefault(group.trade_plan_id, []).append(event.stop_price)
            stop_orders.add(event.order_id)
        elif (
            isinstance(event, OrderReplaced)
            and event.order_id in stop_orders
            and event.stop_price is not None
        ):
            plan = ledger.groups[ledger.orders[event.order_id].group_id].trade_plan_id
            raised += event.stop_price > stops[plan][-1]
            stops[plan].append(event.stop_price)
    assert len(stops) > 10
    assert raised > 50
    # Raised by amending the one working stop order of each plan, not by sending new ones.
    per_plan = Counter(ledger.groups[ledger.orders[o].group_id].trade_plan_id for o in stop_orders)
    assert set(per_plan.values()) == {1}
    for plan_id, sequence in stops.items():
        assert ledger.plans[plan_id].direction.value == "LONG"
        assert sequence == sorted(sequence), f"{plan_id} lowered its stop: {sequence}"


# -- 8. scale in and out -------------------------------------------------------------------------


def test_scaling_uses_absolute_targets_and_a_redelivered_target_makes_no_order(
    scenarios: dict[str, Scenario],
) -> None:
    s = scenarios["scale_in_out"]
    last: dict[str, Decimal] = {}
    redelivered = 0
    sides: set[Side] = set()
    for batch in s.batches.values():
        legs = s.directive_of(batch).legs
        wanted = {leg.symbol: leg.target_size or Decimal(0) for leg in legs}
        again = wanted == {sym: last.get(sym) for sym in wanted}
        for command, leg in zip(batch.commands, legs, strict=True):
            if leg.scope is not LegScope.CLOSE_EXISTING:
                assert leg.target_size is not None
                assert leg.target_weight is None
            orders = s.orders(command)
            if again:
                assert leg.scope is LegScope.MODIFY_EXISTING
                assert not orders
                assert [g.target_quantity for g in s.groups(command)] == [0]
            elif leg.scope is LegScope.MODIFY_EXISTING:
                sides.update(o.side for o in orders)
        assert s.status(batch) == "COMPLETED"
        redelivered += again
        last.update(wanted)
    assert redelivered > 50
    assert sides == {Side.BUY, Side.SELL}  # scaled in and out


# -- 9. sliced entries ---------------------------------------------------------------------------


def test_twap_entries_go_out_in_six_hourly_slices_within_their_window(
    scenarios: dict[str, Scenario],
) -> None:
    s = scenarios["twap_entry"]
    rows = report_batches(s.report)
    whole = 0
    for batch in s.batches.values():
        (command,) = batch.commands
        assert command.execution_plan is not None
        assert command.execution_plan.algorithm is ExecutionAlgorithm.TWAP
        (group,) = s.groups(command, GroupRole.ENTRY)
        sent = sorted(s.submitted_at[o] for o in group.order_ids)
        assert all(b - a >= HOUR_NS for a, b in pairwise(sent))
        assert all(t - group.created_at < 6 * HOUR_NS for t in sent)
        if s.command_status(command) == "COMPLETED":
            whole += 1
            assert len(sent) == 6
            assert rows[batch.batch_id]["orders"] == "6"  # the slices, visible in the report
            sizes = [s.ledger.orders[o].quantity for o in group.order_ids]
            assert max(sizes) - min(sizes) <= 1000  # one lot
    assert whole > 40


def test_iceberg_entries_show_one_clip_at_a_time(scenarios: dict[str, Scenario]) -> None:
    s = scenarios["iceberg_entry"]
    rows = report_batches(s.report)
    whole = 0
    for batch in s.batches.values():
        (command,) = batch.commands
        assert command.execution_plan is not None
        assert command.execution_plan.algorithm is ExecutionAlgorithm.ICEBERG
        (group,) = s.groups(command, GroupRole.ENTRY)
        orders = [s.ledger.orders[o] for o in group.order_ids]
        clip = max(o.quantity for o in orders)
        assert clip <= group.target_quantity / 5 + 1
        for before, after in pairwise(orders):
            filled = max(f.at for f in s.fills_by_order[before.order_id])
            assert s.submitted_at[after.order_id] >= filled  # the next clip after a full fill
        if s.command_status(command) == "COMPLETED" and command.scope is LegScope.NEW_TRADE:
            whole += 1
            assert len(orders) >= 5
            assert rows[batch.batch_id]["orders"] == str(len(orders))
            days = {s.submitted_at[o.order_id] // (24 * HOUR_NS) for o in orders}
            assert len(days) >= 4  # spread over several bars
    assert whole > 10


def test_every_scenario_stays_small_enough_to_run_in_seconds(
    scenarios: dict[str, Scenario],
) -> None:
    for s in scenarios.values():
        assert s.summary["bars"] <= 5_100, s.name
        assert s.summary["journal_entries"] < 20_000, s.name


# -- found by the scenarios: a superseded command that had not started still trades ---------------


class StackedLadder(StrategyPlanner):
    """Test-only: buys 10 GOOG, then on every bar a SEQUENTIAL ladder of two MODIFY rungs far
    below the market, so each ladder's first rung supersedes the last ladder's working rung
    (the situation ``dca_ladder`` with ``accumulate`` now avoids)."""

    @property
    def position_trigger(self) -> bool:
        return True

    @property
    def schedule(self) -> str | None:
        return "@daily"

    def decide(self, decision: Decision) -> StrategyDirective | None:
        ctx = decision.ctx
        plans = ctx.ledger.open_plans(ctx.strategy_id)
        if not plans:
            buy = LegDirective(
                scope=LegScope.NEW_TRADE, symbol="GOOG", direction=Side.BUY, target_size=10
            )
            return self.directive(decision, [buy])
        plan = plans[0]
        if plan.net == 0:
            return None
        low = Decimal(repr(ctx.cache.close())) / 2
        legs = [
            LegDirective(
                scope=LegScope.MODIFY_EXISTING,
                trade_plan_id=plan.trade_plan_id,
                symbol="GOOG",
                target_size=plan.net + k,
                preferred_price_zone=(low, low),
            )
            for k in (1, 2)
        ]
        return self.directive(decision, legs)


STACKED = """
name: stacked
data:
  symbols: [{symbol: GOOG, source: GOOG_1d}]
  start: 2010-01-01
  end: 2010-01-20
workforce:
  strategy_planner: {plugin: test_stacked_ladder}
  entry_planner: [zone_limit]
execution:
  policy: {mode: SEQUENTIAL}
"""


@pytest.fixture
def stacked_ladder() -> Iterator[None]:
    registry.available("strategy_planner")
    registry.register("test_stacked_ladder")(StackedLadder)
    yield
    registry._REGISTRY["strategy_planner"].pop("test_stacked_ladder")


@pytest.mark.usefixtures("stacked_ladder")
def test_a_command_that_ended_before_it_started_opens_no_group_and_sends_no_order() -> None:
    run = run_backtest(load_blueprint_text(STACKED)[0])
    ended: set[str] = set()
    late: list[str] = []
    for event in run.journal.events():
        if isinstance(event, CommandEnded):
            ended.add(event.command_id)
        elif (
            isinstance(event, GroupCreated)
            and event.role is GroupRole.ENTRY
            and event.command_id in ended
        ):
            late.append(event.group_id)
    outcomes = {e.status.value for e in run.journal.events() if isinstance(e, CommandEnded)}
    assert "SUPERSEDED" in outcomes
    assert late == [], f"groups opened for commands that had already ended: {late}"
