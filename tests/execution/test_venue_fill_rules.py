"""The simulated venue's fill rules on hand-made bars (DESIGN.md §5), gaps included.

Each test sends one command through the worker and reads the fill back from the ledger.
Bars are daily; a batch queued ``at(0, ...)`` is decided on bar 0's close, so its market order
fills at bar 1's open.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from execution_harness import (
    DAY,
    NS,
    Market,
    Row,
    bars,
    batch,
    d,
    execution,
    exits,
    flat,
    instrument,
    new_trade,
)

from simpletrader.core.enums import (
    GroupStatus,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from simpletrader.execution.connectors.simulated import CostModel, VenueConfig


def one_fill(market: Market) -> tuple[Decimal, Decimal, str, int]:
    (fill,) = market.ledger.fills
    return fill.price, fill.quantity, fill.liquidity, fill.executed_at


def trade(rows: Sequence[Row], leg: dict[str, Any], **market_kw: Any) -> Market:
    market = Market({"X": bars("X", rows)}, **market_kw)
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    return market.run()


def test_market_order_fills_at_the_next_open_as_taker() -> None:
    market = trade([(100, 101, 99, 100), (102, 104, 101, 103)], new_trade("X", size=10))
    price, quantity, liquidity, at = one_fill(market)
    assert (price, quantity, liquidity) == (d(102), d(10), Liquidity.TAKER)
    assert at == market.open_ns(1)


def test_market_order_with_fill_on_close_fills_at_the_signal_bar_close() -> None:
    market = trade(
        [(100, 101, 99, 100.5), (102, 104, 101, 103)], new_trade("X", size=10), fill_on_close=True
    )
    price, _, _, at = one_fill(market)
    assert price == d("100.5")
    assert at == market.close_ns(0)


def test_latency_delays_a_market_order_to_the_first_open_after_it() -> None:
    rows = [(100, 100, 100, 100), (101, 101, 101, 101), (102, 102, 102, 102)]
    market = trade(rows, new_trade("X", size=1), config=VenueConfig(latency_ns=1 * NS))
    assert one_fill(market)[0] == d(102)


@pytest.mark.parametrize(
    ("side", "bar", "limit", "expected", "liquidity"),
    [
        (Side.BUY, (100, 101, 97, 99), 98, "98", Liquidity.MAKER),
        (Side.BUY, (95, 99, 94, 96), 98, "95", Liquidity.TAKER),  # gap down through the limit
        (Side.SELL, (100, 103, 99, 101), 102, "102", Liquidity.MAKER),
        (Side.SELL, (105, 106, 104, 105), 102, "105", Liquidity.TAKER),  # gap up through it
    ],
)
def test_limit_order_fills_at_the_limit_or_at_a_better_open(
    side: Side, bar: tuple[float, ...], limit: float, expected: str, liquidity: Liquidity
) -> None:
    leg = new_trade("X", side, 5, order_type=OrderType.LIMIT, limit=limit)
    market = trade([(100, 100, 100, 100), bar], leg)
    price, _, liq, _ = one_fill(market)
    assert (price, liq) == (d(expected), liquidity)


def test_limit_order_not_reached_keeps_working() -> None:
    leg = new_trade("X", Side.BUY, 5, order_type=OrderType.LIMIT, limit=90)
    market = trade([(100, 100, 100, 100), (100, 101, 95, 99)], leg)
    assert market.ledger.fills == []
    (order,) = market.ledger.orders.values()
    assert order.status is OrderStatus.OPEN
    assert market.venue.has_working


@pytest.mark.parametrize(
    ("side", "bar", "stop", "expected"),
    [
        (Side.BUY, (100, 106, 99, 105), 103, "103"),
        (Side.BUY, (107, 108, 106, 107), 103, "107"),  # gap over the stop: the open
        (Side.SELL, (100, 101, 94, 95), 97, "97"),
        (Side.SELL, (93, 94, 92, 93), 97, "93"),  # gap under the stop: the open
    ],
)
def test_stop_order_fills_at_the_stop_or_at_a_worse_open(
    side: Side, bar: tuple[float, ...], stop: float, expected: str
) -> None:
    leg = new_trade("X", side, 5, order_type=OrderType.STOP, stop=stop)
    market = trade([(100, 100, 100, 100), bar], leg)
    price, _, liquidity, _ = one_fill(market)
    assert (price, liquidity) == (d(expected), Liquidity.TAKER)


def test_stop_slippage_and_half_spread_are_paid_on_the_stop_price() -> None:
    leg = new_trade("X", Side.BUY, 5, order_type=OrderType.STOP, stop=103)
    config = VenueConfig(costs=CostModel(spread_bps=d(20), slippage_bps=d(5)))
    market = trade([(100, 100, 100, 100), (100, 106, 99, 105)], leg, config=config)
    # 103 x (1 + (10 + 5) bps) = 103.1545 -> tick 0.01
    assert one_fill(market)[0] == d("103.15")


def test_stop_limit_triggers_then_rests_as_a_limit_from_the_next_bar() -> None:
    leg = new_trade("X", Side.BUY, 5, order_type=OrderType.STOP_LIMIT, stop=103, limit=104)
    rows: list[Row] = [
        (100, 100, 100, 100),
        (100, 105, 99, 104.5),
        (105, 106, 103.5, 104),
        (104, 104, 104, 104),
    ]
    market = trade(rows, leg)
    price, _, liquidity, at = one_fill(market)
    assert at == market.open_ns(2)  # triggered on bar 1, not filled on it
    assert (price, liquidity) == (d(104), Liquidity.MAKER)


def test_stop_limit_not_triggered_never_fills() -> None:
    leg = new_trade("X", Side.BUY, 5, order_type=OrderType.STOP_LIMIT, stop=110, limit=111)
    market = trade([(100, 100, 100, 100), (100, 105, 99, 104), (104, 109, 103, 108)], leg)
    assert market.ledger.fills == []


def test_ioc_order_gets_one_pass_and_the_rest_is_cancelled() -> None:
    leg = new_trade(
        "X",
        Side.BUY,
        5,
        order_type=OrderType.LIMIT,
        limit=90,
        plan=execution(tif=TimeInForce.IOC),
    )
    market = trade([(100, 100, 100, 100), (100, 101, 95, 99), (89, 89, 89, 89)], leg)
    (order,) = market.ledger.orders.values()
    assert order.status is OrderStatus.CANCELLED
    assert order.status_reason == "IOC_UNFILLED"
    assert market.ledger.fills == []


def test_day_order_expires_at_the_next_day() -> None:
    leg = new_trade(
        "X", Side.BUY, 5, order_type=OrderType.LIMIT, limit=90, plan=execution(tif=TimeInForce.DAY)
    )
    rows = [(100, 100, 100, 100), (100, 101, 95, 99), (89, 89, 89, 89)]
    market = Market({"X": bars("X", rows, step=DAY // 2)})
    # Decided at 12:00 on day 0: bar 1 (day 0, 12:00) does not reach 90; bar 2 opens on day 1
    # at 89 but the DAY order has expired by then.
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run()
    (order,) = market.ledger.orders.values()
    assert order.status is OrderStatus.EXPIRED
    assert market.ledger.fills == []


def test_gtd_order_expires_at_its_time() -> None:
    from simpletrader.core.clock import ns_to_datetime

    rows = [(100, 100, 100, 100), (100, 101, 95, 99), (99, 99, 99, 99), (89, 89, 89, 89)]
    market = Market({"X": bars("X", rows)})
    expire = ns_to_datetime(market.open_ns(3))
    leg = new_trade(
        "X",
        Side.BUY,
        5,
        order_type=OrderType.LIMIT,
        limit=90,
        plan=execution(tif=TimeInForce.GTD, expire_at=expire),
    )
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run()
    (order,) = market.ledger.orders.values()
    assert order.status is OrderStatus.EXPIRED


def test_participation_cap_fills_a_fraction_of_each_bar_and_the_rest_works_on() -> None:
    rows = [(100, 100, 100, 100, 1000)] * 5
    leg = new_trade("X", Side.BUY, 250)
    market = trade(rows, leg, config=VenueConfig(participation_cap=0.1))
    assert [f.quantity for f in market.ledger.fills] == [d(100), d(100), d(50)]
    (group,) = market.ledger.groups.values()
    assert group.status is GroupStatus.COMPLETED


def test_prices_round_to_the_tick_and_quantities_floor_to_the_lot() -> None:
    market = Market(
        {"X": bars("X", flat(100, 3))}, instruments={"X": instrument("X", "0.05", "0.5")}
    )
    leg = new_trade("X", Side.BUY, "7.3", order_type=OrderType.LIMIT, limit="100.123")
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run()
    (order,) = market.ledger.orders.values()
    assert (order.quantity, order.limit_price) == (d("7.0"), d("100.10"))


def test_an_order_below_the_min_notional_is_rejected_at_fill() -> None:
    market = Market(
        {"X": bars("X", flat(100, 3))},
        instruments={"X": instrument("X", min_notional="1000")},
    )
    market.at(0, batch([new_trade("X", size=5)], created_ns=market.close_ns(0)))
    market.run()
    (order,) = market.ledger.orders.values()
    assert order.status is OrderStatus.REJECTED
    assert order.status_reason is not None
    assert order.status_reason.startswith("BELOW_MIN_NOTIONAL")


def test_both_protective_levels_in_one_bar_fill_the_adverse_stop() -> None:
    rows = [(100, 100, 100, 100), (100, 100, 100, 100), (100, 111, 89, 100)]
    leg = new_trade("X", Side.BUY, 10, exit_plan=exits(stop=90, take=110))
    market = trade(rows, leg)
    exit_fill = market.ledger.fills[-1]
    assert exit_fill.price == d(90)
    assert market.plan().net == 0


def test_a_level_the_open_already_passed_fills_at_the_open() -> None:
    gap_up = [(100, 100, 100, 100), (100, 100, 100, 100), (112, 113, 85, 100)]
    market = trade(gap_up, new_trade("X", Side.BUY, 10, exit_plan=exits(stop=90, take=110)))
    take = market.ledger.fills[-1]
    assert (take.price, take.liquidity) == (d(112), Liquidity.TAKER)
    gap_down = [(100, 100, 100, 100), (100, 100, 100, 100), (88, 115, 87, 100)]
    market = trade(gap_down, new_trade("X", Side.BUY, 10, exit_plan=exits(stop=90, take=110)))
    assert market.ledger.fills[-1].price == d(88)


def test_the_pair_cancels_the_other_order_when_one_fills() -> None:
    rows = [(100, 100, 100, 100), (100, 100, 100, 100), (100, 111, 99, 100)]
    market = trade(rows, new_trade("X", Side.BUY, 10, exit_plan=exits(stop=90, take=110)))
    statuses = sorted(
        (o.order_type, o.status, o.status_reason) for o in market.ledger.orders.values()
    )
    assert (OrderType.STOP, OrderStatus.CANCELLED) in [(t, s) for t, s, _ in statuses]
    assert (OrderType.LIMIT, OrderStatus.FILLED) in [(t, s) for t, s, _ in statuses]
    assert market.plan().status == "CLOSED"


def test_a_pair_armed_by_a_fill_at_the_open_is_matched_against_the_rest_of_that_bar() -> None:
    rows = [(100, 100, 100, 100), (100, 101, 94, 96), (96, 96, 96, 96)]
    leg = new_trade("X", Side.BUY, 10, exit_plan=exits(stop=5, take=20, offsets=True))
    market = trade(rows, leg)
    entry, stop = market.ledger.fills
    assert entry.executed_at == stop.executed_at == market.open_ns(1)
    assert stop.price == d(95)


def test_a_pair_armed_by_a_fill_inside_the_bar_waits_for_the_next_bar() -> None:
    rows = [(100, 100, 100, 100), (100, 101, 94, 96), (96, 96, 80, 90)]
    leg = new_trade(
        "X",
        Side.BUY,
        10,
        order_type=OrderType.LIMIT,
        limit=99,
        exit_plan=exits(stop=5, offsets=True),
    )
    market = trade(rows, leg)
    entry, stop = market.ledger.fills
    assert entry.executed_at == market.open_ns(1)  # filled inside bar 1 at the limit
    assert stop.executed_at == market.open_ns(2)  # the stop at 94 was not matched on bar 1
    assert stop.price == d(94)
