"""Costs, cash and margin to the cent on hand-checked trades, long and short (DESIGN.md §5)."""

from __future__ import annotations

from execution_harness import (
    Market,
    Row,
    bars,
    batch,
    close,
    d,
    flat,
    new_trade,
)

from simpletrader.core.enums import GroupStatus, OrderStatus, Side
from simpletrader.execution.connectors.simulated import CostModel, MarginModel, VenueConfig

COSTS = CostModel(
    fee_bps=d(10), fee_per_unit=d("0.01"), fee_minimum=d(1), spread_bps=d(20), slippage_bps=d(5)
)


def round_trip(rows: list[Row], side: Side, size: int, config: VenueConfig) -> Market:
    market = Market({"X": bars("X", rows)}, config=config)
    market.at(0, batch([new_trade("X", side, size)], created_ns=market.close_ns(0)))
    market.run(1)
    market.at(2, batch([close(market.plan().trade_plan_id)], created_ns=market.close_ns(2)))
    return market.run()


def test_long_round_trip_pays_fees_half_spread_and_slippage_to_the_cent() -> None:
    rows: list[Row] = [(50, 50, 50, 50), (50, 51, 49, 50), (54, 55, 53, 55), (55, 56, 54, 55)]
    market = round_trip(rows, Side.BUY, 100, VenueConfig(costs=COSTS))
    buy, sell = market.ledger.fills
    # 50 x (1 + 15 bps) = 50.075 -> 50.08 (tick, half-even); fee 5.008 + 1.00 per unit
    assert (buy.price, buy.fee) == (d("50.08"), d("6.008"))
    # 55 x (1 - 15 bps) = 54.9175 -> 54.92; fee 5.492 + 1.00
    assert (sell.price, sell.fee) == (d("54.92"), d("6.492"))
    ledger = market.ledger
    assert ledger.realized_pnl == d("484.00")
    assert ledger.fees == d("12.500")
    assert ledger.cash == d("100471.500")
    assert market.plan().status == "CLOSED"


def test_short_round_trip_pays_fees_half_spread_and_slippage_to_the_cent() -> None:
    rows: list[Row] = [(50, 50, 50, 50), (50, 51, 49, 50), (45, 46, 44, 45), (45, 45, 45, 45)]
    market = round_trip(rows, Side.SELL, 100, VenueConfig(costs=COSTS))
    sell, buy = market.ledger.fills
    # 50 x (1 - 15 bps) = 49.925 -> 49.92 (half-even); fee 4.992 + 1.00 per unit
    assert (sell.price, sell.fee) == (d("49.92"), d("5.992"))
    # 45 x (1 + 15 bps) = 45.0675 -> 45.07; fee 4.507 + 1.00
    assert (buy.price, buy.fee) == (d("45.07"), d("5.507"))
    ledger = market.ledger
    assert ledger.realized_pnl == d("485.00")
    assert ledger.fees == d("11.499")
    assert ledger.cash == d("100473.501")


def test_a_small_fill_pays_the_minimum_fee() -> None:
    rows: list[Row] = [(50, 50, 50, 50), (50, 51, 49, 50), (50, 50, 50, 50), (50, 50, 50, 50)]
    market = round_trip(rows, Side.BUY, 1, VenueConfig(costs=COSTS))
    assert [f.fee for f in market.ledger.fills] == [d("1.00"), d("1.00")]


def test_short_round_trip_pays_borrow_daily_as_journaled_entries() -> None:
    rows: list[Row] = [(50, 50, 50, 50), (50, 50, 50, 50), (51, 53, 50, 52), (50, 50, 47, 48)]
    rows.append((49, 49, 49, 49))
    costs = CostModel(borrow_bps_per_year=d(365))  # 1 bp of the short's value per day
    market = Market({"X": bars("X", rows)}, config=VenueConfig(costs=costs))
    market.at(0, batch([new_trade("X", Side.SELL, 100)], created_ns=market.close_ns(0)))
    market.run(2)
    market.at(3, batch([close(market.plan().trade_plan_id)], created_ns=market.close_ns(3)))
    market.run()
    accrued = market.records("cost_accrued")
    # valued at the close before each day's first bar: 50, 52, 48
    assert [d(r["amount"]) for r in accrued] == [d("0.50"), d("0.52"), d("0.48")]
    assert {r["cost_kind"] for r in accrued} == {"BORROW"}
    ledger = market.ledger
    assert ledger.carry_costs == d("1.50")
    assert market.plan().carry_costs == d("1.50")
    assert ledger.realized_pnl == d(100)  # sold at 50, bought back at 49
    assert ledger.cash == d("100098.50")


def test_borrow_counts_calendar_days_between_bars() -> None:
    rows = flat(50, 4)
    costs = CostModel(borrow_bps_per_year=d(365))
    market = Market({"X": bars("X", rows, step=2 * 86_400)}, config=VenueConfig(costs=costs))
    market.at(0, batch([new_trade("X", Side.SELL, 100)], created_ns=market.close_ns(0)))
    market.run()
    amounts = [d(r["amount"]) for r in market.records("cost_accrued")]
    assert amounts == [d("1.00"), d("1.00")]  # two days per bar


def test_longs_pay_no_borrow() -> None:
    costs = CostModel(borrow_bps_per_year=d(365))
    market = Market({"X": bars("X", flat(50, 5))}, config=VenueConfig(costs=costs))
    market.at(0, batch([new_trade("X", Side.BUY, 100)], created_ns=market.close_ns(0)))
    market.run()
    assert market.records("cost_accrued") == []


def test_an_order_cash_cannot_pay_is_rejected_with_insufficient_funds() -> None:
    market = Market({"X": bars("X", flat(100, 3))}, cash=1_000)
    market.at(0, batch([new_trade("X", Side.BUY, 20)], created_ns=market.close_ns(0)))
    market.run()
    (order,) = market.ledger.orders.values()
    assert order.status is OrderStatus.REJECTED
    assert order.status_reason is not None
    assert order.status_reason.startswith("INSUFFICIENT_FUNDS need 2000.00, cash 1000.00")
    (ended,) = market.records("command_ended")
    assert ended["status"] == GroupStatus.FAILED
    assert ended["reason"].startswith("REJECTED: INSUFFICIENT_FUNDS")
    assert market.ledger.cash == d(1_000)


def test_equity_fraction_order_is_resized_from_the_fill_price() -> None:
    rows: list[Row] = [(100, 100, 100, 100), (125, 125, 125, 125), (125, 125, 125, 125)]
    market = Market({"X": bars("X", rows)}, cash=10_000)
    market.at(0, batch([new_trade("X", size=None, fraction=1.0)], created_ns=market.close_ns(0)))
    market.run()
    (order,) = market.ledger.orders.values()
    (group,) = market.ledger.groups.values()
    assert order.quantity == group.target_quantity == d(80)  # estimated 100 at 100
    assert order.status is OrderStatus.FILLED
    assert market.ledger.cash == d(0)


def test_equity_fraction_order_is_clipped_to_cash_after_fees() -> None:
    rows: list[Row] = [(100, 100, 100, 100), (100, 100, 100, 100), (100, 100, 100, 100)]
    market = Market({"X": bars("X", rows)}, cash=10_000, config=VenueConfig(costs=COSTS))
    market.at(0, batch([new_trade("X", size=None, fraction=1.0)], created_ns=market.close_ns(0)))
    market.run()
    (fill,) = market.ledger.fills
    # at 100.15 with 0.1% + 0.01 per unit in fees, 99 units cost 9914.85 + 10.91
    assert fill.quantity == d(99)
    assert market.ledger.cash >= 0


def test_leverage_through_a_margin_requirement_below_one() -> None:
    config = VenueConfig(margin=MarginModel(long=d("0.5")))
    market = Market({"X": bars("X", flat(100, 3))}, cash=100_000, config=config)
    market.at(0, batch([new_trade("X", Side.BUY, 1500)], created_ns=market.close_ns(0)))
    market.run()
    assert market.plan().net == d(1500)
    assert market.ledger.cash == d(-50_000)


def test_short_margin_requirement_limits_the_short() -> None:
    config = VenueConfig(margin=MarginModel(short=d("1.5")))
    market = Market({"X": bars("X", flat(100, 3))}, cash=100_000, config=config)
    legs = [new_trade("X", Side.SELL, 700), new_trade("X", Side.SELL, 600)]
    market.at(0, batch(legs, created_ns=market.close_ns(0)))
    market.run()
    first, second = market.ledger.orders.values()
    assert first.status is OrderStatus.REJECTED  # 70,000 x 1.5 > 100,000 of equity
    assert second.status is OrderStatus.FILLED  # 60,000 x 1.5 = 90,000
