"""Records hold repeated amounts once and derivable ids as numbers, without changing any value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simpletrader.backtest.api import backtest
from simpletrader.core.enums import ExecutionAlgorithm, GroupRole
from simpletrader.journal.events import GroupCreated, OrderFilled
from simpletrader.ledger.records import ZERO, DecimalPool, FillRecord, GroupRecord


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


GROUP = "EXG_20240309_143005_0000abcd"
AT = 1_710_001_234 * 1_000_000_000 + 5  # 2024-03-09 16:20:34 UTC
AT_STAMP = "20240309_162034"


def _group(command_id: str | None, at: int = AT) -> GroupRecord:
    return GroupRecord(
        GROUP,
        "TPL_20240309_143005_0000abcd",
        command_id,
        f"BAT_{AT_STAMP}_00000001",
        GroupRole.ENTRY,
        ExecutionAlgorithm.SINGLE,
        Decimal(1),
        at,
    )


def _fill(fill_id: str, at: int = AT) -> FillRecord:
    order = "ORD_20240309_143005_0000abcd"
    return FillRecord(fill_id, order, Decimal(1), Decimal(2), ZERO, "USD", "TAKER", at)


@pytest.mark.parametrize(
    "command_id", [f"EXC_{AT_STAMP}_0a1b2c3d", "EXC_20240309_143005_0a1b2c3d", None]
)
def test_a_group_gives_back_its_command_id_exactly(command_id: str | None) -> None:
    group = _group(command_id)
    assert group.command_id == command_id
    assert group.snapshot().command_id == command_id
    assert group.batch_id == f"BAT_{AT_STAMP}_00000001"
    assert _group(f"EXC_{AT_STAMP}_0A1B2C3D").command_id == f"EXC_{AT_STAMP}_0A1B2C3D"


@pytest.mark.parametrize("fill_id", [f"FIL_{AT_STAMP}_ffffffff", "FIL_20240309_162035_00000000"])
def test_a_fill_gives_back_its_id_exactly(fill_id: str) -> None:
    fill = _fill(fill_id)
    assert fill.fill_id == fill_id
    assert fill.snapshot().fill_id == fill_id


def test_ids_drawn_with_their_record_are_kept_as_numbers() -> None:
    assert isinstance(_group(f"EXC_{AT_STAMP}_0a1b2c3d")._command, int)
    assert isinstance(_fill(f"FIL_{AT_STAMP}_0a1b2c3d")._fill, int)


def test_moving_a_records_time_or_setting_an_id_keeps_every_id() -> None:
    command_id, fill_id = f"EXC_{AT_STAMP}_0a1b2c3d", f"FIL_{AT_STAMP}_0a1b2c3d"
    group, fill = _group(command_id), _fill(fill_id)
    group.created_at = fill.executed_at = AT + 3_600 * 1_000_000_000
    assert (group.command_id, group.created_at) == (command_id, AT + 3_600 * 1_000_000_000)
    assert (fill.fill_id, fill.executed_at) == (fill_id, AT + 3_600 * 1_000_000_000)
    group.command_id, fill.fill_id = "EXC_x", "FIL_y"
    assert (group.command_id, fill.fill_id) == ("EXC_x", "FIL_y")


def test_a_runs_fill_and_command_ids_match_its_journal() -> None:
    run = backtest().run
    journaled = {e.fill_id: e.at for _, e in run.journal.bar_events() if isinstance(e, OrderFilled)}
    fills = run.ledger.fills
    assert len(fills) == len(journaled)
    assert all(isinstance(f._fill, int) for f in fills)  # the worker draws them at the fill
    assert {f.fill_id: f.executed_at for f in fills} == journaled
    commands = {
        e.group_id: e.command_id for _, e in run.journal.bar_events() if isinstance(e, GroupCreated)
    }
    assert {g.group_id: g.command_id for g in run.ledger.groups.values()} == commands


def test_a_plans_pooled_amounts_are_the_unpooled_ones_shared() -> None:
    from simpletrader.core.enums import TradeDirection
    from simpletrader.ledger.records import TradePlanRecord

    fills = [("5", "10.0", "0.01"), ("3", "11", "0"), ("-9.0", "12.5", "0E-8"), ("4", "9", "0.5")]
    pool = DecimalPool()
    plans = [TradePlanRecord("TPL_x", "s", "X", TradeDirection.LONG, 0) for _ in range(2)]
    for i, (signed, price, fee) in enumerate(fills):
        for plan, shared in zip(plans, (pool, None), strict=True):
            plan.apply_fill(Decimal(signed), Decimal(price), Decimal(fee), Decimal(2), i, shared)
        pooled, plain = plans
        for name in TradePlanRecord.__slots__:
            assert str(getattr(pooled, name)) == str(getattr(plain, name)), name
        for name in ("net", "traded_in", "traded_out", "fees"):
            value = getattr(pooled, name)
            assert value is ZERO or pool(Decimal(str(value))) is value, name
