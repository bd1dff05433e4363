"""The execution worker on single commands: scopes, groups, plans and bad input (DESIGN.md §4)."""

from __future__ import annotations

from decimal import Decimal

from execution_harness import (
    Market,
    Row,
    bars,
    batch,
    close,
    d,
    flat,
    modify,
    new_trade,
)

from simpletrader.core.enums import (
    GroupRole,
    GroupStatus,
    OrderStatus,
    OrderType,
    Side,
    TradePlanStatus,
)
from simpletrader.execution.connectors.simulated import VenueConfig
from simpletrader.ledger.ledger import Ledger


def rebuilt(market: Market) -> Ledger:
    ledger = Ledger(market.ledger.starting_cash, {s: Decimal(1) for s in market.bars})
    ledger.replay(market.journal.events())
    return ledger


def test_new_trade_opens_a_plan_with_one_entry_group_and_one_order() -> None:
    market = Market({"X": bars("X", flat(100, 3))})
    market.at(0, batch([new_trade("X", Side.BUY, 10)], created_ns=market.close_ns(0)))
    market.run()
    plan = market.plan()
    assert (plan.symbol, plan.direction, plan.net) == ("X", "LONG", d(10))
    (group,) = market.ledger.groups.values()
    assert (group.role, group.status, group.target_quantity) == (
        GroupRole.ENTRY,
        GroupStatus.COMPLETED,
        d(10),
    )
    (order,) = market.ledger.orders.values()
    assert order.client_order_id == f"{group.group_id}-1"
    assert [r["status"] for r in market.records("command_ended")] == ["COMPLETED"]
    assert [r["status"] for r in market.records("batch_ended")] == ["COMPLETED"]


def test_new_trade_below_one_lot_is_rejected_and_journaled() -> None:
    market = Market({"X": bars("X", flat(100, 3))})
    market.at(0, batch([new_trade("X", Side.BUY, "0.5")], created_ns=market.close_ns(0)))
    market.run()
    (ended,) = market.records("command_ended")
    assert ended["status"] == "FAILED"
    assert ended["reason"] == "REJECTED: BELOW_MIN_LOT size 0 < lot 1"
    assert market.ledger.orders == {}
    assert market.ledger.plans == {}


def test_an_unknown_symbol_is_rejected_and_the_run_goes_on() -> None:
    market = Market({"X": bars("X", flat(100, 4))})
    market.at(0, batch([new_trade("NOPE", Side.BUY, 1)], created_ns=market.close_ns(0)))
    market.at(1, batch([new_trade("X", Side.BUY, 1)], created_ns=market.close_ns(1)))
    market.run()
    first, second = market.records("command_ended")
    assert (first["status"], first["reason"]) == ("FAILED", "REJECTED: UNKNOWN_SYMBOL NOPE")
    assert second["status"] == "COMPLETED"


def test_a_modify_or_close_of_an_unknown_plan_is_rejected() -> None:
    market = Market({"X": bars("X", flat(100, 3))})
    market.run(0)
    ghost = "TPL_20240101_000000_0000dead"
    market.submit(batch([close(ghost)], created_ns=market.close_ns(0)))
    (ended,) = market.records("command_ended")
    assert ended["reason"].startswith("REJECTED: UNKNOWN_TRADE_PLAN")


def test_modify_to_an_absolute_target_orders_the_signed_delta() -> None:
    market = Market({"X": bars("X", flat(100, 6))})
    market.at(0, batch([new_trade("X", Side.BUY, 10)], created_ns=market.close_ns(0)))
    market.run(1)
    plan_id = market.plan().trade_plan_id
    market.at(2, batch([modify(plan_id, "X", Side.BUY, 25)], created_ns=market.close_ns(2)))
    market.run(3)
    assert market.plan().net == d(25)
    market.at(4, batch([modify(plan_id, "X", Side.BUY, 5)], created_ns=market.close_ns(4)))
    market.run()
    assert market.plan().net == d(5)
    last = list(market.ledger.orders.values())[-1]
    assert (last.side, last.quantity, last.reduce_only) == (Side.SELL, d(20), True)


def test_modify_cancels_the_plans_working_entry_orders() -> None:
    market = Market({"X": bars("X", flat(100, 5))})
    leg = new_trade("X", Side.BUY, 10, order_type=OrderType.LIMIT, limit=90)
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run(1)
    plan_id = market.plan().trade_plan_id
    market.at(2, batch([modify(plan_id, "X", Side.BUY, 4)], created_ns=market.close_ns(2)))
    market.run()
    first, second = market.ledger.orders.values()
    assert first.status is OrderStatus.CANCELLED
    assert second.status is OrderStatus.FILLED
    assert market.plan().net == d(4)
    ended = {r["command_id"]: r["status"] for r in market.records("command_ended")}
    assert list(ended.values()) == ["SUPERSEDED", "COMPLETED"]


def test_a_redelivered_modify_changes_nothing() -> None:
    market = Market({"X": bars("X", flat(100, 6))})
    market.at(0, batch([new_trade("X", Side.BUY, 10)], created_ns=market.close_ns(0)))
    market.run(1)
    plan_id = market.plan().trade_plan_id
    again = modify(plan_id, "X", Side.BUY, 10)
    market.at(2, batch([again], created_ns=market.close_ns(2)))
    twice = batch([modify(plan_id, "X", Side.BUY, 10)], created_ns=market.close_ns(3))
    market.at(3, twice)
    market.at(4, twice)  # the very same batch delivered again
    market.run()
    assert len(market.ledger.orders) == 1
    assert market.plan().net == d(10)
    statuses = [r["status"] for r in market.records("command_ended")]
    assert statuses == ["COMPLETED", "COMPLETED", "COMPLETED"]


def test_close_cancels_every_working_order_and_flattens() -> None:
    market = Market({"X": bars("X", flat(100, 5))})
    market.at(0, batch([new_trade("X", Side.BUY, 10)], created_ns=market.close_ns(0)))
    market.run(1)
    plan_id = market.plan().trade_plan_id
    market.at(2, batch([close(plan_id)], created_ns=market.close_ns(2)))
    market.run()
    plan = market.plan()
    assert plan.net == 0
    assert plan.status is TradePlanStatus.CLOSED
    assert not market.venue.has_working


def test_close_below_one_lot_succeeds_without_an_order() -> None:
    market = Market({"X": bars("X", flat(100, 5))})
    leg = new_trade("X", Side.BUY, 10, order_type=OrderType.LIMIT, limit=90)
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run(1)
    plan_id = market.plan().trade_plan_id
    market.at(2, batch([close(plan_id)], created_ns=market.close_ns(2)))
    market.run()
    assert len(market.ledger.orders) == 1  # only the cancelled entry
    assert market.plan().status is TradePlanStatus.CLOSED
    assert [r["status"] for r in market.records("command_ended")] == ["SUPERSEDED", "COMPLETED"]


def test_a_plan_closes_only_when_flat_with_nothing_working() -> None:
    market = Market({"X": bars("X", flat(100, 4))})
    leg = new_trade("X", Side.BUY, 10, order_type=OrderType.LIMIT, limit=90)
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run()
    plan = market.plan()
    assert plan.net == 0
    assert plan.status is TradePlanStatus.ACTIVE  # its entry is still working


def test_short_trade_and_its_close() -> None:
    rows: list[Row] = [(100, 100, 100, 100), (100, 100, 100, 100), (90, 90, 90, 90)]
    rows.append((90, 90, 90, 90))
    market = Market({"X": bars("X", rows)})
    market.at(0, batch([new_trade("X", Side.SELL, 10)], created_ns=market.close_ns(0)))
    market.run(1)
    assert market.plan().net == d(-10)
    market.submit(batch([close(market.plan().trade_plan_id)], created_ns=market.close_ns(1)))
    market.run()
    assert market.ledger.realized_pnl == d(100)
    assert market.plan().status is TradePlanStatus.CLOSED


def test_the_ledger_is_a_projection_of_the_journal() -> None:
    market = Market({"X": bars("X", flat(100, 6))}, config=VenueConfig(participation_cap=0.5))
    market.at(0, batch([new_trade("X", Side.BUY, 10)], created_ns=market.close_ns(0)))
    market.run(2)
    plan_id = market.plan().trade_plan_id
    market.at(3, batch([close(plan_id)], created_ns=market.close_ns(3)))
    market.run()
    assert rebuilt(market).state_digest() == market.ledger.state_digest()
