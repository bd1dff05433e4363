"""TWAP and ICEBERG: slices over a window, clips refreshed when filled, retries after a
rejected child, hard constraints, and state rebuilt from the plan, the orders and the clock."""

from __future__ import annotations

from decimal import Decimal

from execution_harness import (
    NS,
    Market,
    Row,
    bars,
    batch,
    d,
    execution,
    flat,
    new_trade,
)

from simpletrader.core.enums import ExecutionAlgorithm, GroupRole, OrderStatus, OrderType, Side
from simpletrader.execution.algorithms import Action, Iceberg, Progress, Twap, build_algorithm
from simpletrader.execution.connectors.simulated import VenueConfig
from simpletrader.execution.faults import FaultConfig, OutageWindow
from simpletrader.execution.risk import RiskLimits

DAY = 86_400
TWAP = ExecutionAlgorithm.TWAP
ICEBERG = ExecutionAlgorithm.ICEBERG


def entry_fills(market: Market) -> list[tuple[int, Decimal]]:
    """(bar, quantity) of every fill of an entry group."""
    ledger = market.ledger
    out = []
    for fill in ledger.fills:
        group = ledger.groups[ledger.orders[fill.order_id].group_id]
        if group.role is GroupRole.ENTRY:
            bar = (fill.executed_at - market.open_ns(0)) // (DAY * NS)
            out.append((bar, fill.quantity))
    return out


def outcome(market: Market) -> tuple[str, str | None]:
    (record,) = market.records("command_ended")
    return record["status"], record["reason"]


def twap(size: int = 100, slices: int = 5, days: int = 5, **kw: object) -> dict[str, object]:
    plan = execution(TWAP, window=days * DAY, slices=slices, **kw)  # type: ignore[arg-type]
    return new_trade("X", Side.BUY, size, plan=plan)


def test_twap_sends_one_slice_per_due_time_at_the_bar_open() -> None:
    market = Market({"X": bars("X", flat(100, 8))})
    market.at(0, batch([twap()], created_ns=market.close_ns(0)))
    market.run()
    assert entry_fills(market) == [(1, d(20)), (2, d(20)), (3, d(20)), (4, d(20)), (5, d(20))]
    assert outcome(market) == ("COMPLETED", None)


def test_twap_retries_a_rejected_slice_with_the_next_one() -> None:
    probe = Market({"X": bars("X", flat(100, 8))})
    outage = OutageWindow(probe.open_ns(2), probe.open_ns(2) + 1)
    market = Market(
        {"X": bars("X", flat(100, 8))}, config=VenueConfig(faults=FaultConfig(outages=(outage,)))
    )
    market.at(0, batch([twap()], created_ns=market.close_ns(0)))
    market.run()
    rejected = [o for o in market.ledger.orders.values() if o.status is OrderStatus.REJECTED]
    assert len(rejected) == 1
    assert entry_fills(market) == [(1, d(20)), (3, d(40)), (4, d(20)), (5, d(20))]
    assert outcome(market) == ("COMPLETED", None)


def test_twap_fails_when_its_window_ends_below_the_min_fill_ratio() -> None:
    leg = new_trade(
        "X",
        Side.BUY,
        100,
        order_type=OrderType.LIMIT,
        limit=90,
        plan=execution(TWAP, window=2 * DAY, slices=2),
    )
    market = Market({"X": bars("X", flat(100, 6))})
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run()
    assert outcome(market) == ("FAILED", "CONSTRAINT_VIOLATED: window of 172800s ended")
    assert not market.venue.has_working


def test_twap_ending_at_its_window_above_the_min_fill_ratio_succeeds() -> None:
    rows: list[Row] = [(100, 100, 100, 100), (100, 100, 100, 100), *flat(90, 5)]
    market = Market({"X": bars("X", rows)})
    leg = new_trade(
        "X",
        Side.BUY,
        100,
        order_type=OrderType.LIMIT,
        limit=100,
        plan=execution(TWAP, window=2 * DAY, slices=4, min_fill_ratio=0.25, max_slippage=1),
    )
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run()
    assert outcome(market) == ("PARTIAL", None)


def test_twap_fails_at_once_when_a_slice_breaks_the_slippage_limit() -> None:
    rows: list[Row] = [(100, 100, 100, 100), (100, 100, 100, 100), (103, 103, 103, 103)]
    market = Market({"X": bars("X", rows + flat(103, 4))})
    market.at(0, batch([twap(max_slippage=0.01)], created_ns=market.close_ns(0)))
    market.run()
    status, reason = outcome(market)
    assert status == "FAILED"
    assert reason is not None
    assert reason.startswith("CONSTRAINT_VIOLATED: slippage 3.0000% against the decision close")
    assert entry_fills(market) == [(1, d(20)), (2, d(20))]  # nothing after the violation


def test_iceberg_shows_one_clip_at_a_time_and_refreshes_it_when_filled() -> None:
    rows: list[Row] = [(100, 100, 100, 100)] + [(100, 100, 98, 100)] * 6
    leg = new_trade(
        "X",
        Side.BUY,
        100,
        order_type=OrderType.LIMIT,
        limit=99,
        plan=execution(ICEBERG, slices=4),
    )
    market = Market({"X": bars("X", rows)})
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run()
    orders = list(market.ledger.orders.values())
    assert [o.quantity for o in orders] == [d(25)] * 4
    assert entry_fills(market) == [(1, d(25)), (2, d(25)), (3, d(25)), (4, d(25))]
    assert outcome(market) == ("COMPLETED", None)


def test_iceberg_retries_a_rejected_clip_at_the_next_bar() -> None:
    rows: list[Row] = [(100, 100, 100, 100)] + [(100, 100, 98, 100)] * 6
    leg = new_trade(
        "X", Side.BUY, 100, order_type=OrderType.LIMIT, limit=99, plan=execution(ICEBERG, slices=4)
    )
    market = Market({"X": bars("X", rows)})
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.on_close[1] = lambda m: m.venue.set_faults(FaultConfig(reject_probability=1.0))
    market.on_close[2] = lambda m: m.venue.set_faults(FaultConfig())
    market.run()
    statuses = [o.status for o in market.ledger.orders.values()]
    assert statuses.count(OrderStatus.REJECTED) == 1
    assert sum(q for _, q in entry_fills(market)) == d(100)
    assert outcome(market) == ("COMPLETED", None)


def test_iceberg_ends_after_slice_count_clips_in_a_row_fail() -> None:
    rows: list[Row] = [(100, 100, 100, 100)] + [(100, 100, 98, 100)] * 9
    leg = new_trade(
        "X", Side.BUY, 100, order_type=OrderType.LIMIT, limit=99, plan=execution(ICEBERG, slices=4)
    )
    market = Market({"X": bars("X", rows)}, risk=RiskLimits(max_position_per_symbol=d(6000)))
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run()
    status, reason = outcome(market)
    assert status == "FAILED"
    assert reason is not None
    assert reason.startswith("REJECTED: RISK_MAX_POSITION_PER_SYMBOL")
    assert reason.endswith("(4 clips in a row)")
    assert market.plan().net == d(50)


def test_an_algorithm_rebuilt_mid_run_from_plan_orders_and_clock_continues_identically() -> None:
    probe = Market({"X": bars("X", flat(100, 8))})
    the_batch = batch([twap()], created_ns=probe.close_ns(0))

    def run(rebuild: bool) -> Market:
        market = Market({"X": bars("X", flat(100, 8))})
        market.at(0, the_batch)
        market.run(2)
        if rebuild:
            (state,) = [c for b in market.worker.coordinator.active.values() for c in b.commands]
            group = market.ledger.groups[state.group_id or ""]
            assert state.algorithm is not None
            state.algorithm = build_algorithm(
                state.command.execution_plan,
                group.target_quantity,
                Decimal(1),
                market.ledger.orders[group.order_ids[0]].created_at,
            )
        return market.run()

    assert run(True).journal.run_hash == run(False).journal.run_hash


def test_twap_schedule_and_cumulative_targets() -> None:
    algo = Twap(d(10), d(1), started_at=0, slices=4, window_seconds=400)
    assert [algo.due(t * NS) for t in (0, 99, 100, 250, 399, 1000)] == [1, 1, 2, 3, 4, 4]
    assert [algo.cumulative(k) for k in range(5)] == [d(0), d(2), d(5), d(7), d(10)]
    idle = Progress(d(10), d(2), d(0), 1, 0, None, 0)
    assert algo.step(idle, 150 * NS, scheduled=False).action is Action.WAIT
    due = algo.step(idle, 150 * NS, scheduled=True)
    assert (due.action, due.quantity) == (Action.SEND, d(3))
    assert algo.step(idle, 400 * NS, scheduled=True).action is Action.END


def test_iceberg_clip_is_at_least_one_lot() -> None:
    assert Iceberg(d(3), d(1), 0, slices=10, window_seconds=None).clip == d(1)
    assert Iceberg(d(100), d(1), 0, slices=3, window_seconds=None).clip == d(34)
    assert Iceberg(d(1000), d(10), 0, slices=3, window_seconds=None).clip == d(340)


def test_iceberg_of_n_slices_sends_n_clips_when_the_target_does_not_divide() -> None:
    rows: list[Row] = [(100, 100, 100, 100)] + [(100, 100, 98, 100)] * 7
    leg = new_trade(
        "X", Side.BUY, 103, order_type=OrderType.LIMIT, limit=99, plan=execution(ICEBERG, slices=5)
    )
    market = Market({"X": bars("X", rows)})
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run()
    assert [o.quantity for o in market.ledger.orders.values()] == [d(21)] * 4 + [d(19)]
    assert sum(q for _, q in entry_fills(market)) == d(103)
    assert outcome(market) == ("COMPLETED", None)
