"""Protective orders: one stop-loss / take-profit pair per plan, reduce-only, sized to |net|,
resized on every fill, re-anchored on the average price, cancelled at zero (DESIGN.md §4)."""

from __future__ import annotations

from typing import Any

from execution_harness import (
    Market,
    Row,
    bars,
    batch,
    close,
    d,
    exits,
    flat,
    modify,
    new_trade,
)

from simpletrader.core.enums import GroupRole, GroupStatus, OrderStatus, OrderType, Side
from simpletrader.execution.connectors.simulated import VenueConfig
from simpletrader.ledger.records import OrderRecord


def protective(market: Market) -> list[OrderRecord]:
    ledger = market.ledger
    return [
        ledger.orders[o]
        for g in ledger.groups.values()
        if g.role is GroupRole.PROTECTIVE
        for o in g.order_ids
    ]


def working(market: Market, order_type: OrderType) -> OrderRecord:
    (order,) = [o for o in protective(market) if o.is_working and o.order_type is order_type]
    return order


def opened(rows: list[Row], leg: dict[str, Any], **kw: Any) -> Market:
    market = Market({"X": bars("X", rows)}, **kw)
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    return market


def test_the_pair_is_sized_to_net_through_partial_entry_fills() -> None:
    rows: list[Row] = [(100, 100, 100, 100, 1000)] * 5
    leg = new_trade("X", Side.BUY, 250, exit_plan=exits(stop=80, take=130))
    market = opened(rows, leg, config=VenueConfig(participation_cap=0.1))
    sizes = []
    for _ in range(4):
        market.step()
        if market.index >= 1:
            sizes.append(working(market, OrderType.STOP).remaining)
    assert sizes == [d(100), d(200), d(250)]
    stop, take = working(market, OrderType.STOP), working(market, OrderType.LIMIT)
    assert (stop.stop_price, take.limit_price) == (d(80), d(130))
    assert stop.reduce_only
    assert take.reduce_only
    replaced = [r for r in market.records("order_replaced") if r["order_id"] == stop.order_id]
    assert [d(r["quantity"]) for r in replaced] == [d(200), d(250)]


def test_scale_in_resizes_the_pair_and_reanchors_offsets_on_the_average_price() -> None:
    rows: list[Row] = [(100, 100, 100, 100)] * 2 + [(110, 110, 110, 110)] * 3
    leg = new_trade("X", Side.BUY, 10, exit_plan=exits(stop=5, take=30, offsets=True))
    market = opened(rows, leg)
    market.run(1)
    stop = working(market, OrderType.STOP)
    assert (stop.stop_price, stop.quantity) == (d(95), d(10))
    plan_id = market.plan().trade_plan_id
    market.submit(batch([modify(plan_id, "X", Side.BUY, 20)], created_ns=market.close_ns(1)))
    market.run()
    assert market.plan().average_price == d(105)
    same = working(market, OrderType.STOP)
    assert same.order_id == stop.order_id  # amended, not replaced by a new order
    assert (same.stop_price, same.quantity) == (d(100), d(20))
    assert working(market, OrderType.LIMIT).limit_price == d(135)
    assert (market.plan().stop_loss, market.plan().take_profit) == (d(100), d(135))


def test_scale_out_resizes_the_pair() -> None:
    market = opened(flat(100, 5), new_trade("X", Side.BUY, 10, exit_plan=exits(stop=90, take=120)))
    market.run(1)
    plan_id = market.plan().trade_plan_id
    market.submit(batch([modify(plan_id, "X", Side.BUY, 4)], created_ns=market.close_ns(1)))
    market.run()
    assert market.plan().net == d(4)
    assert working(market, OrderType.STOP).remaining == d(4)
    assert working(market, OrderType.LIMIT).remaining == d(4)


def test_close_cancels_the_pair_and_closes_the_plan() -> None:
    market = opened(flat(100, 5), new_trade("X", Side.BUY, 10, exit_plan=exits(stop=90, take=120)))
    market.run(1)
    market.submit(batch([close(market.plan().trade_plan_id)], created_ns=market.close_ns(1)))
    market.run()
    assert all(o.status is OrderStatus.CANCELLED for o in protective(market))
    assert market.plan().status == "CLOSED"
    (group,) = [g for g in market.ledger.groups.values() if g.role is GroupRole.PROTECTIVE]
    assert group.status is GroupStatus.CANCELLED


def test_a_stop_fill_flattens_the_plan_cancels_the_target_and_closes_the_plan() -> None:
    rows: list[Row] = [(100, 100, 100, 100)] * 2 + [(95, 96, 85, 90), (90, 90, 90, 90)]
    market = opened(rows, new_trade("X", Side.BUY, 10, exit_plan=exits(stop=92, take=120)))
    market.run()
    stop = next(o for o in protective(market) if o.order_type is OrderType.STOP)
    take = next(o for o in protective(market) if o.order_type is OrderType.LIMIT)
    assert stop.status is OrderStatus.FILLED
    assert take.status is OrderStatus.CANCELLED
    assert market.ledger.fills[-1].price == d(92)
    assert market.plan().status == "CLOSED"


def test_a_trailing_stop_moves_by_cancel_replace_and_then_fills() -> None:
    rows: list[Row] = [(100, 100, 100, 100), (100, 101, 99, 100), (103, 104, 102, 104)]
    rows += [(106, 107, 105, 106), (105, 105, 98, 99), (99, 99, 99, 99)]
    market = opened(rows, new_trade("X", Side.BUY, 10, exit_plan=exits(stop=95, take=150)))
    market.run(1)
    plan_id = market.plan().trade_plan_id
    stop_id = working(market, OrderType.STOP).order_id
    for bar, level in ((2, 100), (3, 102)):
        market.at(
            bar,
            batch(
                [modify(plan_id, "X", Side.BUY, exit_plan=exits(stop=level))],
                created_ns=market.close_ns(bar),
            ),
        )
    market.run()
    replaced = [r for r in market.records("order_replaced") if r["order_id"] == stop_id]
    assert [d(r["stop_price"]) for r in replaced] == [d(100), d(102)]
    stop = market.ledger.orders[stop_id]
    assert stop.status is OrderStatus.FILLED
    assert market.ledger.fills[-1].price == d(102)
    take = next(o for o in protective(market) if o.order_type is OrderType.LIMIT)
    assert take.limit_price == d(150)  # None kept the take-profit


def test_an_exit_only_modify_supersedes_nothing() -> None:
    leg = new_trade("X", Side.BUY, 10, order_type=OrderType.LIMIT, limit=90)
    market = opened(flat(100, 4), leg)
    market.run(1)
    plan_id = market.plan().trade_plan_id
    exit_only = modify(plan_id, "X", Side.BUY, exit_plan=exits(stop=80))
    market.submit(batch([exit_only], created_ns=market.close_ns(1)))
    market.run()
    (entry,) = [o for o in market.ledger.orders.values() if not o.reduce_only]
    assert entry.is_working
    assert market.plan().stop_loss is None  # levels are placed once the entry fills
    assert [r["status"] for r in market.records("command_ended")] == ["COMPLETED"]


def test_protective_fills_are_clipped_to_the_plans_net() -> None:
    rows: list[Row] = [(100, 100, 100, 100)] * 2 + [(100, 100, 100, 100), (80, 80, 80, 80)]
    market = opened(rows, new_trade("X", Side.BUY, 10, exit_plan=exits(stop=90)))
    market.run(1)
    # a close and the stop meet on the same bar: the close goes first, the stop has nothing left
    market.submit(batch([close(market.plan().trade_plan_id)], created_ns=market.close_ns(1)))
    market.run()
    assert market.plan().net == 0
    assert sum(f.quantity for f in market.ledger.fills) == d(20)
