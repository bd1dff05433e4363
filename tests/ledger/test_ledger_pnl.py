"""P&L, cash and fees on hand-checked trades: long, short, partial closes, flips, multipliers."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from ledger_programs import make_id

from simpletrader.core.enums import (
    ExecutionAlgorithm,
    GroupRole,
    GroupStatus,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradeDirection,
    TradePlanStatus,
)
from simpletrader.core.errors import ExecutionError, IllegalTransitionError
from simpletrader.journal.events import (
    GroupCreated,
    OrderFilled,
    OrderStatusChanged,
    OrderSubmitted,
    TradePlanClosed,
    TradePlanOpened,
)
from simpletrader.ledger.ledger import Ledger
from simpletrader.ledger.records import TradePlanRecord

D = Decimal
PLAN = make_id("TPL", 1)
GROUP = make_id("EXG", 1)


class Book:
    """Drives one trade plan through a ledger with terse calls."""

    def __init__(self, symbol: str = "AAA", direction: str = "LONG", cash: str = "10000") -> None:
        self.ledger = Ledger(D(cash), {"AAA": D(1), "FUT": D(50)})
        self.symbol = symbol
        self.n = 0
        self.ledger.apply(TradePlanOpened(1, PLAN, "s", symbol, TradeDirection(direction)))
        self.ledger.apply(
            GroupCreated(
                1,
                GROUP,
                PLAN,
                make_id("EXC", 1),
                make_id("BAT", 1),
                GroupRole.ENTRY,
                ExecutionAlgorithm.SINGLE,
                D(0),
            )
        )

    def order(self, side: str, quantity: str) -> str:
        self.n += 1
        order_id = make_id("ORD", self.n)
        self.ledger.apply(
            OrderSubmitted(
                2,
                order_id,
                f"{GROUP}-{self.n}",
                GROUP,
                self.symbol,
                Side(side),
                OrderType.MARKET,
                D(quantity),
                None,
                None,
                TimeInForce.GTC,
                None,
                False,
            )
        )
        self.ledger.apply(OrderStatusChanged(2, order_id, OrderStatus.OPEN))
        return order_id

    def fill(self, order_id: str, quantity: str, price: str, fee: str) -> None:
        self.n += 1
        self.ledger.apply(
            OrderFilled(
                3,
                make_id("FIL", self.n),
                order_id,
                D(quantity),
                D(price),
                D(fee),
                "USD",
                Liquidity.TAKER,
            )
        )

    def trade(self, side: str, quantity: str, price: str, fee: str = "0") -> None:
        self.fill(self.order(side, quantity), quantity, price, fee)

    @property
    def plan(self) -> TradePlanRecord:
        return self.ledger.plans[PLAN]


def test_long_with_fees_and_a_partial_close() -> None:
    book = Book()
    book.trade("BUY", "10", "100", fee="1")
    assert book.ledger.cash == D("8999")
    assert (book.plan.net, book.plan.average_price, book.ledger.fees) == (D(10), D(100), D(1))
    book.trade("SELL", "4", "110", fee="0.5")
    assert book.plan.realized_pnl == D(40)
    assert book.ledger.cash == D("9438.5")
    assert book.plan.net == D(6)
    assert book.plan.average_price == D(100)  # a partial close keeps the average
    assert book.ledger.plan_unrealized_pnl(PLAN, D(105)) == D(30)
    # equity at 105: 9438.5 + 6 * 105 = 10068.5 = 10000 + 40 realized + 30 unrealized - 1.5 fees
    assert book.ledger.cash + 6 * D(105) == D(10000) + D(40) + D(30) - D("1.5")
    book.trade("SELL", "6", "90", fee="0.5")
    assert book.plan.realized_pnl == D(-20)
    assert book.ledger.realized_pnl == D(-20)
    assert book.plan.fees == book.ledger.fees == D(2)
    assert book.ledger.cash == D(10000) - D(20) - D(2)
    assert book.plan.net == 0
    assert book.plan.average_price == 0
    book.ledger.apply(TradePlanClosed(4, PLAN))
    assert book.plan.status is TradePlanStatus.CLOSED
    assert book.ledger.open_plans("s") == ()


def test_short_with_fees_covered_in_two_steps() -> None:
    book = Book(direction="SHORT")
    book.trade("SELL", "5", "50", fee="0.25")
    assert book.ledger.cash == D("10249.75")
    assert (book.plan.net, book.plan.average_price) == (D(-5), D(50))
    book.trade("BUY", "2", "40", fee="0.1")
    assert book.plan.realized_pnl == D(20)
    assert book.ledger.cash == D("10169.65")
    assert book.ledger.plan_unrealized_pnl(PLAN, D(45)) == D(15)
    assert book.ledger.cash - 3 * D(45) == D(10000) + D(20) + D(15) - D("0.35")
    book.trade("BUY", "3", "60", fee="0.1")
    assert book.plan.realized_pnl == D(-10)
    assert book.ledger.cash == D(10000) - D(10) - D("0.45")
    assert book.ledger.positions["AAA"] == 0


def test_a_fill_through_zero_flips_at_the_fill_price() -> None:
    book = Book()
    book.trade("BUY", "5", "10")
    book.trade("SELL", "8", "12")
    assert book.plan.realized_pnl == D(10)  # 5 closed at +2
    assert (book.plan.net, book.plan.average_price) == (D(-3), D(12))
    book.trade("BUY", "3", "11")
    assert book.plan.realized_pnl == D(13)
    assert book.ledger.cash == D(10000) + D(13)


def test_a_multiplier_scales_cash_and_pnl() -> None:
    book = Book(symbol="FUT", cash="500000")
    book.trade("BUY", "2", "4000", fee="5")
    assert book.ledger.cash == D(500000) - D(400000) - D(5)
    book.trade("SELL", "2", "4010", fee="5")
    assert book.plan.realized_pnl == D(1000)  # 2 contracts x 10 points x 50
    assert book.ledger.cash == D(500000) + D(1000) - D(10)


def test_partial_fills_move_the_order_through_its_states() -> None:
    book = Book()
    order_id = book.order("BUY", "10")
    book.fill(order_id, "4", "100", "0")
    order = book.ledger.orders[order_id]
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, D(4))
    book.fill(order_id, "6", "101", "0")
    assert (order.status, order.filled_quantity) == (OrderStatus.FILLED, D(10))
    assert book.plan.average_price == D("100.6")
    assert book.ledger.groups[GROUP].filled_quantity == D(10)
    with pytest.raises(IllegalTransitionError):
        book.ledger.apply(OrderStatusChanged(5, order_id, OrderStatus.CANCELLED))


def test_an_order_resized_at_fill_resizes_its_group() -> None:
    book = Book()
    order_id = book.order("BUY", "10")
    book.ledger.apply(
        OrderFilled(
            3, make_id("FIL", 99), order_id, D(7), D(100), D(0), "USD", Liquidity.TAKER, D(7)
        )
    )
    assert book.ledger.orders[order_id].quantity == D(7)
    assert book.ledger.orders[order_id].status is OrderStatus.FILLED
    assert book.ledger.groups[GROUP].target_quantity == D(7)


def test_overfilling_an_order_or_closing_an_open_plan_is_refused() -> None:
    book = Book()
    order_id = book.order("BUY", "1")
    with pytest.raises(ExecutionError, match="filled 2 > quantity 1"):
        book.fill(order_id, "2", "100", "0")
    fresh = Book()
    fresh.trade("BUY", "1", "100")
    with pytest.raises(ExecutionError, match="closed with net 1"):
        fresh.ledger.apply(TradePlanClosed(4, PLAN))


def test_equity_curve_and_exposure_mark_positions_at_the_close() -> None:
    book = Book()
    closes = np.array([100.0, 101.0, 99.0])
    book.ledger.equity_curve = np.full(3, np.nan)
    book.ledger.attach_prices({"AAA": closes.data})
    book.ledger.mark(0)
    book.trade("BUY", "10", "100", fee="1")
    book.ledger.mark(1)
    book.ledger.mark(2)
    assert list(book.ledger.equity_curve) == [10000.0, 10009.0, 9989.0]
    assert book.ledger.exposure(2) == {"AAA": 990.0}
    assert book.ledger.gross_exposure(1) == 1010.0
    assert book.ledger.peak_equity() == 10009.0
    assert book.ledger.groups[GROUP].status is GroupStatus.PENDING  # no group event applied
