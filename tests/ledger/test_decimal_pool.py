"""The ledger shares one Decimal per amount, without changing how any amount is written."""

from __future__ import annotations

from decimal import Decimal

from simpletrader.backtest.api import backtest
from simpletrader.ledger.records import DecimalPool


def test_equal_amounts_share_one_object_and_keep_their_form() -> None:
    pool = DecimalPool()
    first = pool(Decimal("998"))
    assert pool(Decimal("998")) is first
    other_form = Decimal("998.0")
    assert pool(other_form) is other_form
    assert str(pool(Decimal("998.0"))) == "998.0"
    assert pool(Decimal("0E-8")) is pool(Decimal("0E-8"))
    assert len(pool) == 2


def test_a_run_holds_each_distinct_amount_once() -> None:
    ledger = backtest().run.ledger
    amounts = [f.quantity for f in ledger.fills] + [o.quantity for o in ledger.orders.values()]
    assert len({id(a) for a in amounts}) == len({str(a) for a in amounts})
