"""Every row and rule of DESIGN.md §4, each with the fault that triggers it.

Daily bars; a batch decided on bar b's close is created at b's close (= bar b+1's open), so its
market orders fill at bar b+1's open. A 30-second timeout therefore expires before any bar
after the decision, and only the one-eligible-bar guarantee lets the batch trade at all.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from execution_harness import (
    NS,
    Market,
    Row,
    bars,
    batch,
    close,
    d,
    execution,
    flat,
    new_trade,
)

from simpletrader.core.enums import (
    BatchExecutionMode,
    GroupRole,
    GroupStatus,
    OrderStatus,
    OrderType,
    Side,
    TradePlanStatus,
)
from simpletrader.execution.connectors.simulated import VenueConfig
from simpletrader.execution.faults import FaultConfig, OutageWindow
from simpletrader.execution.outcomes import (
    BatchCompleted,
    BatchFailed,
    BatchPartiallyCompleted,
    BatchSettled,
    CommandCancelled,
    CommandCompleted,
    CommandFailed,
    CommandSkipped,
)

COORDINATED = BatchExecutionMode.COORDINATED
SEQUENTIAL = BatchExecutionMode.SEQUENTIAL
HIGH = 10_000_000.0


def two_symbols(
    x: list[Row] | None = None, y: list[Row] | None = None, n: int = 6, **kw: Any
) -> Market:
    return Market({"X": bars("X", x or flat(100, n)), "Y": bars("Y", y or flat(100, n))}, **kw)


def faults(**kw: Any) -> VenueConfig:
    cap = kw.pop("participation_cap", None)
    return VenueConfig(faults=FaultConfig(**kw), participation_cap=cap)


def ended(market: Market) -> dict[str, tuple[str, str | None]]:
    """command id -> (status, reason)."""
    return {r["command_id"]: (r["status"], r["reason"]) for r in market.records("command_ended")}


def statuses(market: Market) -> list[str]:
    return [status for status, _ in ended(market).values()]


def batch_end(market: Market) -> dict[str, Any]:
    (record,) = market.records("batch_ended")
    return record


def contribution(market: Market, command_id: str) -> Decimal:
    """This command's net units: its entry group's fills plus its unwind groups' fills."""
    ledger = market.ledger
    total = Decimal(0)
    for group in ledger.groups.values():
        if group.command_id != command_id:
            continue
        for order_id in group.order_ids:
            order = ledger.orders[order_id]
            sign = 1 if order.side is Side.BUY else -1
            total += sign * order.filled_quantity
    return total


def limit(symbol: str, price: float = 90, **kw: Any) -> dict[str, Any]:
    return new_trade(symbol, Side.BUY, 10, order_type=OrderType.LIMIT, limit=price, **kw)


def test_independent_submits_everything_and_only_the_rejected_command_fails() -> None:
    market = two_symbols(config=faults(reject_probability=1.0, symbols=frozenset({"Y"})))
    events = market.subscribe(BatchPartiallyCompleted, CommandFailed, CommandCompleted)
    the_batch = batch(
        [new_trade("X"), new_trade("Y"), new_trade("X")], created_ns=market.close_ns(0)
    )
    market.at(0, the_batch)
    market.run()
    x1, y, x2 = (c.command_id for c in the_batch.commands)
    outcomes = ended(market)
    assert outcomes[x1] == outcomes[x2] == ("COMPLETED", None)
    assert outcomes[y] == ("FAILED", "REJECTED: FAULT_INJECTED_REJECT")
    record = batch_end(market)
    assert (record["status"], record["failed_command_id"]) == ("PARTIAL", y)
    assert [type(e) for e in events] == [
        CommandFailed,  # rejected at submission, on bar 0's close
        CommandCompleted,
        CommandCompleted,
        BatchPartiallyCompleted,
    ]


def test_independent_batch_fails_when_every_command_fails() -> None:
    market = two_symbols(config=faults(reject_probability=1.0))
    market.at(0, batch([new_trade("X"), new_trade("Y")], created_ns=market.close_ns(0)))
    market.run()
    assert batch_end(market)["status"] == "FAILED"


def test_coordinated_rejected_leg_cancels_the_other_legs_working_orders() -> None:
    market = two_symbols(config=faults(reject_probability=1.0, symbols=frozenset({"Y"})))
    events = market.subscribe(BatchFailed, CommandCancelled, CommandFailed)
    the_batch = batch([limit("X"), new_trade("Y")], mode=COORDINATED, created_ns=market.close_ns(0))
    market.at(0, the_batch)
    market.run()
    x, y = (c.command_id for c in the_batch.commands)
    assert ended(market)[x] == ("CANCELLED", "CANCELLED_BY_COORDINATION")
    x_order = market.orders(market.ledger.groups[next(iter(market.ledger.groups))].group_id)[0]
    assert (x_order.status, x_order.status_reason) == (
        OrderStatus.CANCELLED,
        "CANCELLED_BY_COORDINATION",
    )
    record = batch_end(market)
    assert (record["status"], record["failed_command_id"], record["reason"]) == (
        "FAILED",
        y,
        "REJECTED: FAULT_INJECTED_REJECT",
    )
    assert {type(e) for e in events} == {BatchFailed, CommandCancelled, CommandFailed}
    assert not market.venue.has_working


def test_coordinated_ties_go_to_the_first_command() -> None:
    market = two_symbols()
    legs = [limit("X"), limit("Y")]
    the_batch = batch(legs, mode=COORDINATED, timeout=30, created_ns=market.close_ns(0))
    market.at(0, the_batch)
    market.run()
    x, y = (c.command_id for c in the_batch.commands)
    assert ended(market) == {
        x: ("FAILED", "TIMEOUT"),
        y: ("CANCELLED", "CANCELLED_BY_COORDINATION"),
    }
    assert batch_end(market)["failed_command_id"] == x


def test_coordinated_with_unwind_reverses_every_leg_after_a_partial_fill_at_the_deadline() -> None:
    y_rows: list[Row] = [(100, 100, 100, 100, 40)] * 2 + [(100, 100, 100, 100, HIGH)] * 4
    market = two_symbols(
        x=[(100, 100, 100, 100, HIGH)] * 6, y=y_rows, config=faults(participation_cap=0.1)
    )
    the_batch = batch(
        [new_trade("X"), new_trade("Y")],
        mode=COORDINATED,
        timeout=30,
        unwind=True,
        created_ns=market.close_ns(0),
    )
    market.at(0, the_batch)
    market.run(1)
    assert [f.quantity for f in market.ledger.fills] == [d(10), d(4)]  # Y: 10% of 40
    assert all(p.status is TradePlanStatus.ACTIVE for p in market.ledger.plans.values())
    market.run()
    x, y = (c.command_id for c in the_batch.commands)
    assert ended(market) == {x: ("COMPLETED", None), y: ("FAILED", "TIMEOUT")}
    unwinds = [g for g in market.ledger.groups.values() if g.role is GroupRole.UNWIND]
    assert sorted(g.target_quantity for g in unwinds) == [d(4), d(10)]
    assert all(g.status is GroupStatus.COMPLETED for g in unwinds)
    unwind_fills = list(market.ledger.fills[2:])
    assert {f.executed_at for f in unwind_fills} == {market.open_ns(2)}  # created in step 1
    assert contribution(market, x) == contribution(market, y) == 0
    assert all(p.status is TradePlanStatus.CLOSED for p in market.ledger.plans.values())
    assert [r["kind"] for r in market.journal.records() if "unwind" in r["kind"]] == [
        "unwind_started",
        "unwind_completed",
    ]
    assert market.worker.coordinator.unwinding_plans() == set()  # done legs are not kept


def test_an_unwind_order_rejected_once_is_retried_the_next_bar() -> None:
    outage = OutageWindow(two_symbols().open_ns(2), two_symbols().open_ns(2) + 1)
    market = two_symbols(config=faults(outages=(outage,)))
    the_batch = batch(
        [new_trade("X"), limit("Y", 50)],
        mode=COORDINATED,
        timeout=30,
        unwind=True,
        created_ns=market.close_ns(0),
    )
    market.at(0, the_batch)
    market.run()
    (unwind,) = [g for g in market.ledger.groups.values() if g.role is GroupRole.UNWIND]
    first, second = market.orders(unwind.group_id)
    assert first.status is OrderStatus.REJECTED
    assert first.status_reason == "VENUE_UNAVAILABLE (outage)"
    assert second.status is OrderStatus.FILLED
    assert market.ledger.fills[-1].executed_at == market.open_ns(3)
    assert unwind.status is GroupStatus.COMPLETED
    assert contribution(market, the_batch.commands[0].command_id) == 0


def test_sequential_submits_the_next_command_after_the_previous_ended() -> None:
    market = two_symbols(config=faults(reject_probability=1.0, symbols=frozenset({"Y"})))
    events = market.subscribe(CommandSkipped)
    the_batch = batch(
        [new_trade("X"), new_trade("Y"), new_trade("X")],
        mode=SEQUENTIAL,
        created_ns=market.close_ns(0),
    )
    market.at(0, the_batch)
    market.run()
    first, second, third = (c.command_id for c in the_batch.commands)
    outcomes = ended(market)
    assert outcomes[first] == ("COMPLETED", None)
    assert outcomes[second] == ("FAILED", "REJECTED: FAULT_INJECTED_REJECT")
    assert outcomes[third] == ("SKIPPED", f"SKIPPED after {second} failed")
    assert [type(e) for e in events] == [CommandSkipped]
    records = list(market.journal.records())
    first_end = next(
        r["seq"] for r in records if r.get("command_id") == first and r["kind"] == "command_ended"
    )
    y_orders = [r["seq"] for r in records if r["kind"] == "order_submitted" and r["symbol"] == "Y"]
    assert y_orders
    assert min(y_orders) > first_end
    assert market.plan().net == d(10)  # the earlier success stays
    assert len([g for g in market.ledger.groups.values() if g.command_id == third]) == 0
    assert batch_end(market)["status"] == "FAILED"


def test_a_30_second_timeout_on_daily_bars_still_trades_one_bar() -> None:
    reached: list[Row] = [(100, 100, 100, 100), (100, 100, 98, 100), *flat(100, 3)]
    market = Market({"X": bars("X", reached)})
    market.at(0, batch([limit("X", 99)], timeout=30, created_ns=market.close_ns(0)))
    market.run()
    assert statuses(market) == ["COMPLETED"]
    missed: list[Row] = [(100, 100, 100, 100), (100, 100, 99.5, 100), (100, 100, 98, 100)]
    market = Market({"X": bars("X", missed + flat(100, 2))})
    market.at(0, batch([limit("X", 99)], timeout=30, created_ns=market.close_ns(0)))
    market.run()
    assert list(ended(market).values()) == [("FAILED", "TIMEOUT")]
    (order,) = market.ledger.orders.values()
    assert (order.status, order.status_reason) == (OrderStatus.CANCELLED, "TIMEOUT")
    assert market.ledger.fills == []


def test_latency_extends_the_one_eligible_bar_guarantee() -> None:
    rows: list[Row] = [(100, 100, 100, 100), (100, 100, 98, 100), (100, 100, 98, 100)]
    market = Market({"X": bars("X", rows + flat(100, 2))}, config=VenueConfig(latency_ns=3600 * NS))
    market.at(0, batch([limit("X", 99)], timeout=30, created_ns=market.close_ns(0)))
    market.run()
    (fill,) = market.ledger.fills
    assert fill.executed_at == market.open_ns(2)  # not eligible on bar 1, spared until bar 2
    assert statuses(market) == ["COMPLETED"]


def test_a_partial_fill_at_the_deadline_succeeds_at_its_min_fill_ratio() -> None:
    rows: list[Row] = [(100, 100, 100, 100, 60)] * 5
    for ratio, expected in ((0.5, ("PARTIAL", None)), (0.9, ("FAILED", "TIMEOUT"))):
        market = Market({"X": bars("X", rows)}, config=VenueConfig(participation_cap=0.1))
        leg = new_trade("X", Side.BUY, 10, plan=execution(min_fill_ratio=ratio))
        market.at(0, batch([leg], timeout=30, created_ns=market.close_ns(0)))
        market.run()
        assert list(ended(market).values()) == [expected]
        assert sum(f.quantity for f in market.ledger.fills) == d(6)  # one bar: 10% of 60


def test_a_sequential_rotation_on_daily_bars_shares_the_deadline_and_completes() -> None:
    market = two_symbols()
    market.at(0, batch([new_trade("X")], created_ns=market.close_ns(0)))
    market.run(1)
    rotation = batch(
        [close(market.plan().trade_plan_id), new_trade("Y")],
        mode=SEQUENTIAL,
        timeout=30,
        created_ns=market.close_ns(2),
    )
    market.at(2, rotation)
    market.run()
    assert statuses(market) == ["COMPLETED", "COMPLETED", "COMPLETED"]
    y_fill = market.ledger.fills[-1]
    assert y_fill.executed_at == market.open_ns(4)  # sent after the close filled at bar 3
    assert market.records("batch_ended")[-1]["status"] == "COMPLETED"


def test_refused_cancels_are_sent_again_every_bar_until_acknowledged() -> None:
    probe = two_symbols(n=7)
    outage = OutageWindow(probe.open_ns(2), probe.open_ns(4))
    market = two_symbols(n=7, config=faults(outages=(outage,)))
    settled = market.subscribe(BatchSettled)
    the_batch = batch(
        [limit("X"), limit("Y")],
        mode=COORDINATED,
        timeout=86_400,
        created_ns=market.close_ns(0),
    )
    market.at(0, the_batch)
    market.run(2)
    assert batch_end(market)["status"] == "FAILED"  # ended at bar 2's open...
    assert market.venue.has_working  # ...but its cancels were refused
    assert settled == []
    market.run()
    refused = market.records("order_cancel_refused")
    assert len(refused) == 4  # two orders, refused at bars 2 and 3
    assert {r["reason"] for r in refused} == {"VENUE_UNAVAILABLE (outage)"}
    assert all(o.status is OrderStatus.CANCELLED for o in market.ledger.orders.values())
    assert [e.batch_id for e in settled] == [the_batch.batch_id]
    assert not market.worker.coordinator.busy


def test_a_failed_cancel_followed_by_a_late_fill_stays_in_the_position() -> None:
    rows: list[Row] = [(100, 100, 100, 100), (100, 100, 99.5, 100), (100, 100, 98, 100)]
    market = Market(
        {"X": bars("X", rows + flat(100, 2))},
        config=faults(cancel_failure_probability=1.0),
    )
    market.at(0, batch([limit("X", 99)], timeout=30, created_ns=market.close_ns(0)))
    market.run()
    assert list(ended(market).values()) == [("FAILED", "TIMEOUT")]
    (late,) = market.records("late_fill")
    assert late["unwound"] is False
    assert market.plan().net == d(10)
    assert market.plan().status is TradePlanStatus.ACTIVE


def test_a_late_fill_is_added_to_the_unwind() -> None:
    y_rows: list[Row] = [(100, 100, 100, 100), (100, 100, 99.5, 100), (100, 100, 98, 100)]
    market = two_symbols(
        y=y_rows + flat(100, 3),
        config=faults(cancel_failure_probability=1.0, symbols=frozenset({"Y"})),
    )
    the_batch = batch(
        [new_trade("X"), limit("Y", 99)],
        mode=COORDINATED,
        timeout=30,
        unwind=True,
        created_ns=market.close_ns(0),
    )
    market.at(0, the_batch)
    market.run()
    x, y = (c.command_id for c in the_batch.commands)
    assert ended(market)[y] == ("FAILED", "TIMEOUT")
    (late,) = market.records("late_fill")
    assert (late["command_id"], late["unwound"]) == (y, True)
    unwinds = [g for g in market.ledger.groups.values() if g.role is GroupRole.UNWIND]
    assert sorted(g.command_id for g in unwinds) == sorted([x, y])
    assert contribution(market, x) == contribution(market, y) == 0
    assert all(p.net == 0 for p in market.ledger.plans.values())


def test_a_superseded_command_counts_as_success_and_the_sequence_goes_on() -> None:
    market = two_symbols()
    the_batch = batch([limit("X"), new_trade("Y")], mode=SEQUENTIAL, created_ns=market.close_ns(0))
    market.at(0, the_batch)
    market.run(1)
    assert len(market.ledger.orders) == 1  # Y waits for X
    market.submit(batch([close(market.plan().trade_plan_id)], created_ns=market.close_ns(1)))
    market.run()
    x, y = (c.command_id for c in the_batch.commands)
    outcomes = ended(market)
    assert outcomes[x][0] == "SUPERSEDED"
    assert outcomes[y] == ("COMPLETED", None)
    assert market.records("batch_ended")[0]["status"] == "COMPLETED"


def test_a_superseded_leg_is_never_unwound() -> None:
    x_rows: list[Row] = [(100, 100, 100, 100, 40)] * 2 + [(100, 100, 100, 100, HIGH)] * 4
    market = two_symbols(x=x_rows, config=faults(participation_cap=0.1))
    the_batch = batch(
        [new_trade("X"), limit("Y")],
        mode=COORDINATED,
        timeout=2 * 86_400,
        unwind=True,
        created_ns=market.close_ns(0),
    )
    market.at(0, the_batch)
    market.run(1)  # X filled 4 of 10 and works on
    x_plan = next(p for p in market.ledger.plans.values() if p.symbol == "X")
    market.submit(batch([close(x_plan.trade_plan_id)], created_ns=market.close_ns(1)))
    market.run()
    x, y = (c.command_id for c in the_batch.commands)
    outcomes = ended(market)
    assert outcomes[x][0] == "SUPERSEDED"
    assert outcomes[y] == ("FAILED", "TIMEOUT")
    unwinds = [g for g in market.ledger.groups.values() if g.role is GroupRole.UNWIND]
    assert unwinds == []
    assert x_plan.net == 0  # flattened by the CLOSE, not by an unwind


def test_a_flat_leg_of_a_coordinated_batch_with_unwind_stays_open_until_the_batch_ends() -> None:
    market = two_symbols()
    the_batch = batch(
        [limit("X"), limit("Y")], mode=COORDINATED, unwind=True, created_ns=market.close_ns(0)
    )
    market.at(0, the_batch)
    market.run()
    assert all(p.status is TradePlanStatus.ACTIVE for p in market.ledger.plans.values())
    assert market.worker.coordinator.holds_plan(next(iter(market.ledger.plans)))


def test_completed_batches_publish_their_outcome() -> None:
    market = two_symbols()
    events = market.subscribe(BatchCompleted, BatchSettled)
    market.at(
        0, batch([new_trade("X"), new_trade("Y")], mode=COORDINATED, created_ns=market.close_ns(0))
    )
    market.run()
    assert [type(e) for e in events] == [BatchCompleted, BatchSettled]
    assert not market.worker.coordinator.busy


def test_with_fill_on_close_a_sequential_rotation_fills_both_legs_at_the_same_close() -> None:
    market = two_symbols(fill_on_close=True)
    market.at(0, batch([new_trade("X")], created_ns=market.close_ns(0)))
    market.run(1)
    rotation = batch(
        [close(market.plan().trade_plan_id), new_trade("Y")],
        mode=SEQUENTIAL,
        created_ns=market.close_ns(2),
    )
    market.at(2, rotation)
    market.run()
    close_fill, y_fill = market.ledger.fills[-2:]
    assert close_fill.executed_at == y_fill.executed_at == market.close_ns(2)
    records = list(market.journal.records())
    close_end = next(
        r["seq"]
        for r in records
        if r["kind"] == "command_ended" and r["command_id"] == rotation.commands[0].command_id
    )
    y_submitted = next(
        r["seq"] for r in records if r["kind"] == "order_submitted" and r["symbol"] == "Y"
    )
    assert y_submitted > close_end
