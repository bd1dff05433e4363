"""Pre-trade risk checks: each rule rejects with its name, before the venue (DESIGN.md §5)."""

from __future__ import annotations

from execution_harness import Market, Row, bars, batch, close, d, flat, modify, new_trade

from simpletrader.core.enums import OrderStatus, Side
from simpletrader.execution.risk import RiskLimits


def rejection(market: Market) -> str:
    (order,) = [o for o in market.ledger.orders.values() if o.status is OrderStatus.REJECTED]
    assert order.status_reason is not None
    return order.status_reason


def test_max_order_notional_rejects_before_the_venue() -> None:
    market = Market({"X": bars("X", flat(100, 3))}, risk=RiskLimits(max_order_notional=d(1500)))
    market.at(0, batch([new_trade("X", Side.BUY, 20)], created_ns=market.close_ns(0)))
    market.run()
    assert rejection(market) == "RISK_MAX_ORDER_NOTIONAL notional 2000.00 > limit 1500"
    assert market.records("order_status_changed")[0]["status"] == "REJECTED"  # never OPEN
    (ended,) = market.records("command_ended")
    assert ended["reason"] == "REJECTED: RISK_MAX_ORDER_NOTIONAL notional 2000.00 > limit 1500"
    assert market.ledger.fills == []


def test_max_position_per_symbol_blocks_growth_but_not_reduction() -> None:
    limits = RiskLimits(max_position_per_symbol=d(1500))
    market = Market({"X": bars("X", flat(100, 6))}, risk=limits)
    market.at(0, batch([new_trade("X", Side.BUY, 10)], created_ns=market.close_ns(0)))
    market.run(1)
    plan_id = market.plan().trade_plan_id
    market.at(2, batch([modify(plan_id, "X", Side.BUY, 20)], created_ns=market.close_ns(2)))
    market.run(3)
    assert rejection(market).startswith("RISK_MAX_POSITION_PER_SYMBOL X position notional 2000")
    market.at(4, batch([modify(plan_id, "X", Side.BUY, 5)], created_ns=market.close_ns(4)))
    market.run()
    assert market.plan().net == d(5)


def test_max_gross_exposure_counts_every_symbol() -> None:
    data = {"X": bars("X", flat(100, 4)), "Y": bars("Y", flat(100, 4))}
    market = Market(data, risk=RiskLimits(max_gross_exposure=d(1)))
    market.at(0, batch([new_trade("X", Side.BUY, 600)], created_ns=market.close_ns(0)))
    market.at(1, batch([new_trade("Y", Side.SELL, 500)], created_ns=market.close_ns(1)))
    market.run()
    assert rejection(market).startswith("RISK_MAX_GROSS_EXPOSURE gross exposure 110000.00 > 1 x")


def test_the_kill_switch_stops_new_entries_after_the_drawdown_limit() -> None:
    rows: list[Row] = [(100, 100, 100, 100)] * 2 + [(85, 85, 85, 85)] * 2 + [(99, 99, 99, 99)] * 3
    market = Market({"X": bars("X", rows)}, risk=RiskLimits(kill_switch_drawdown=0.1))
    market.at(0, batch([new_trade("X", Side.BUY, 1000)], created_ns=market.close_ns(0)))
    market.run(3)  # equity 85,000: a 15% drawdown
    market.submit(batch([close(market.plan().trade_plan_id)], created_ns=market.close_ns(3)))
    market.run(4)  # back at 99 and flat: the drawdown recovered, the switch stays tripped
    market.submit(batch([new_trade("X", Side.BUY, 1)], created_ns=market.close_ns(4)))
    market.run()
    assert rejection(market).startswith("RISK_KILL_SWITCH drawdown 15.00% reached the limit")
    (tripped,) = market.records("kill_switch_tripped")
    assert tripped["rule"] == "RISK_KILL_SWITCH"
    closing = [o for o in market.ledger.orders.values() if o.reduce_only]
    assert [o.status for o in closing] == [OrderStatus.FILLED]  # exits are never blocked


def test_rules_that_are_not_set_never_reject() -> None:
    market = Market({"X": bars("X", flat(100, 3))}, risk=RiskLimits())
    market.at(0, batch([new_trade("X", Side.BUY, 999)], created_ns=market.close_ns(0)))
    market.run()
    assert market.plan().net == d(999)
