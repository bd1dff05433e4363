"""Records hold repeated amounts once and derivable ids as numbers, without changing any value."""

from __future__ import annotations

from decimal import Decimal

from simpletrader.backtest.api import backtest
from simpletrader.ledger.records import DecimalPool


def test_equal_amounts_share_one_object_per_form() -> None:
    pool = DecimalPool()
    first = pool(Decimal("998"))
    assert pool(Decimal("998")) is first
    other_form = Decimal("998.0")
    assert pool(other_form) is other_form
    assert pool(Decimal("998.0")) is other_form
    assert str(pool(Decimal("998.0"))) == "998.0"
    assert pool(Decimal("0E-8")) is pool(Decimal("0E-8"))
    assert str(pool(Decimal("-0"))) == "-0"
    assert str(pool(Decimal("0"))) == "0"
    assert len(pool) == 5


def test_a_run_holds_each_distinct_amount_once() -> None:
    ledger = backtest().run.ledger
    amounts = [f.quantity for f in ledger.fills] + [o.quantity for o in ledger.orders.values()]
    assert len({id(a) for a in amounts}) == len({str(a) for a in amounts})


def test_an_order_record_gives_back_its_client_id_exactly() -> None:
    from simpletrader.core.enums import OrderType, Side, TimeInForce
    from simpletrader.ledger.records import OrderRecord

    group = "EXG_20200101_000000_0000abcd"
    for client in (f"{group}-1", f"{group}-12", f"{group}-01", f"{group}-²", "venue-7", "x"):
        order = OrderRecord(
            "ORD_20200101_000000_0000abcd",
            client,
            group,
            "X",
            Side.BUY,
            OrderType.MARKET,
            Decimal(1),
            None,
            None,
            TimeInForce.GTC,
            None,
            False,
            0,
        )
        assert order.client_order_id == client
        assert order.snapshot().client_order_id == client
