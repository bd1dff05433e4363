"""Ledger snapshots: Order status moves, TradePlan, ExecutionGroup and Fill (DESIGN.md §3.5)."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from dto_examples import (
    T0,
    T1,
    field_error,
    fill_kwargs,
    group_kwargs,
    make_id,
    order_kwargs,
    trade_plan_kwargs,
)
from pydantic import ValidationError

from simpletrader.core.enums import OrderStatus
from simpletrader.core.errors import IllegalTransitionError
from simpletrader.dtos import ExecutionGroup, Fill, Order, TradePlan

S = OrderStatus
# DESIGN.md §3.5, written out here rather than read from core, so the two are checked.
LEGAL_MOVES = {
    (S.PENDING, S.OPEN),
    (S.PENDING, S.REJECTED),
    (S.PENDING, S.CANCELLED),
    *((S.OPEN, s) for s in (S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.REJECTED)),
    *(
        (S.PARTIALLY_FILLED, s)
        for s in (S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.EXPIRED, S.REJECTED)
    ),
}
ALL_PAIRS = list(itertools.product(OrderStatus, repeat=2))
ILLEGAL_MOVES = sorted(set(ALL_PAIRS) - LEGAL_MOVES)


@pytest.mark.parametrize(("current", "new"), sorted(LEGAL_MOVES), ids=str)
def test_order_with_status_makes_every_legal_move(current: OrderStatus, new: OrderStatus) -> None:
    order = Order(**order_kwargs(status=current))
    moved = order.with_status(new, T1, reason="venue said so")
    assert (moved.status, moved.updated_at, moved.status_reason) == (new, T1, "venue said so")
    assert order.status is current
    assert moved.model_dump(exclude={"status", "status_reason", "updated_at"}) == order.model_dump(
        exclude={"status", "status_reason", "updated_at"}
    )


@pytest.mark.parametrize(("current", "new"), ILLEGAL_MOVES, ids=str)
def test_order_with_status_rejects_every_illegal_move(
    current: OrderStatus, new: OrderStatus
) -> None:
    order = Order(**order_kwargs(status=current))
    with pytest.raises(
        IllegalTransitionError,
        match=rf"order {order.order_id}: illegal status move {current} -> {new};",
    ):
        order.with_status(new, T1)


def test_order_status_pairs_are_all_covered() -> None:
    assert len(LEGAL_MOVES) + len(ILLEGAL_MOVES) == len(OrderStatus) ** 2 == 49


def test_order_with_status_normalises_the_timestamp_to_utc() -> None:
    order = Order(**order_kwargs())
    at = datetime(2024, 1, 2, 5, 5, tzinfo=timezone(timedelta(hours=2)))
    assert order.with_status(S.OPEN, at).updated_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError, match="updated_at"):
        order.with_status(S.OPEN, datetime(2024, 1, 2, 3, 5))


def test_order_rejects_non_positive_quantity() -> None:
    with pytest.raises(ValidationError, match=field_error("quantity", "Input should be greater")):
        Order(**order_kwargs(quantity=0))


def test_order_gtd_requires_expire_at() -> None:
    with pytest.raises(ValidationError, match="expire_at is required with time_in_force GTD"):
        Order(**order_kwargs(time_in_force="GTD"))


def test_order_rejects_expire_at_without_gtd() -> None:
    with pytest.raises(ValidationError, match=r"expire_at is required with .*GTD and only with it"):
        Order(**order_kwargs(expire_at=T1))


def test_order_gtd_with_expire_at_is_valid() -> None:
    assert Order(**order_kwargs(time_in_force="GTD", expire_at=T1)).expire_at == T1


def test_order_rejects_a_command_id_as_group_id() -> None:
    with pytest.raises(ValidationError, match=field_error("group_id", "String should match")):
        Order(**order_kwargs(group_id=make_id("EXC")))


def test_trade_plan_closed_requires_closed_at() -> None:
    with pytest.raises(ValidationError, match="closed_at is required when status is CLOSED"):
        TradePlan(**trade_plan_kwargs(status="CLOSED"))


def test_trade_plan_active_rejects_closed_at() -> None:
    with pytest.raises(ValidationError, match=r"closed_at is required .*CLOSED and only then"):
        TradePlan(**trade_plan_kwargs(closed_at=T1))


def test_trade_plan_rejects_closing_before_creation() -> None:
    with pytest.raises(ValidationError, match=r"closed_at .* is before created_at"):
        TradePlan(**trade_plan_kwargs(status="CLOSED", closed_at=T0 - timedelta(seconds=1)))


def test_trade_plan_closed_with_closed_at_is_valid() -> None:
    assert TradePlan(**trade_plan_kwargs(status="CLOSED", closed_at=T1)).closed_at == T1


@pytest.mark.parametrize("status", ["PENDING", "ACTIVE", "PARTIAL", "CANCELLED"])
def test_group_failure_reason_is_only_for_failed(status: str) -> None:
    with pytest.raises(
        ValidationError, match=f"failure_reason is only for status FAILED, not {status}"
    ):
        ExecutionGroup(**group_kwargs(status=status, failure_reason="venue down"))


def test_failed_group_may_carry_a_reason() -> None:
    group = ExecutionGroup(**group_kwargs(status="FAILED", failure_reason="venue down"))
    assert group.failure_reason == "venue down"


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("quantity", 0, "Input should be greater than 0"),
        ("price", Decimal("-1"), "Input should be greater than 0"),
        ("fee", Decimal("-0.01"), "Input should be greater than or equal to 0"),
    ],
)
def test_fill_rejects_out_of_range_amounts(field: str, value: Decimal, rule: str) -> None:
    with pytest.raises(ValidationError, match=field_error(field, re.escape(rule))):
        Fill(**fill_kwargs(**{field: value}))


def test_fill_defaults_to_zero_fee_in_usd() -> None:
    fill = Fill(**fill_kwargs())
    assert (fill.fee, fill.fee_asset) == (Decimal(0), "USD")
