"""EntryPlan, SizePlan, ExitPlan, ExecutionPlan and check_exit_levels (DESIGN.md §3.3)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from dto_examples import (
    T0,
    entry_kwargs,
    execution_plan_kwargs,
    exit_kwargs,
    field_error,
    order_kwargs,
    size_kwargs,
)
from pydantic import ValidationError

from simpletrader.core.enums import Side, TradeDirection
from simpletrader.core.errors import PlanError
from simpletrader.dtos import EntryPlan, ExecutionPlan, ExitPlan, Order, SizePlan, check_exit_levels

L, S = Decimal(101), Decimal(99)

# (order_type, limit_price, stop_price, error or None): each type's valid prices, then each
# missing price and each stray one.
PRICE_RULES = [
    ("MARKET", None, None, None),
    ("MARKET", L, None, "limit_price must be absent for order_type MARKET"),
    ("MARKET", None, S, "stop_price must be absent for order_type MARKET"),
    ("LIMIT", L, None, None),
    ("LIMIT", None, None, "limit_price is required for order_type LIMIT"),
    ("LIMIT", L, S, "stop_price must be absent for order_type LIMIT"),
    ("STOP", None, S, None),
    ("STOP", None, None, "stop_price is required for order_type STOP"),
    ("STOP", L, S, "limit_price must be absent for order_type STOP"),
    ("STOP_LIMIT", L, S, None),
    ("STOP_LIMIT", None, S, "limit_price is required for order_type STOP_LIMIT"),
    ("STOP_LIMIT", L, None, "stop_price is required for order_type STOP_LIMIT"),
]
PRICE_RULE_IDS = [f"{t}-limit={lp}-stop={sp}" for t, lp, sp, _ in PRICE_RULES]

ENTRY_AND_ORDER = [pytest.param(EntryPlan, entry_kwargs), pytest.param(Order, order_kwargs)]


@pytest.mark.parametrize(("model", "kwargs"), ENTRY_AND_ORDER)
@pytest.mark.parametrize(("order_type", "limit", "stop", "error"), PRICE_RULES, ids=PRICE_RULE_IDS)
def test_order_type_price_rule(
    model: type[EntryPlan | Order],
    kwargs: Callable[..., dict[str, Any]],
    order_type: str,
    limit: Decimal | None,
    stop: Decimal | None,
    error: str | None,
) -> None:
    fields = kwargs(order_type=order_type, limit_price=limit, stop_price=stop)
    if error is None:
        made = model(**fields)
        assert (made.limit_price, made.stop_price) == (limit, stop)
    else:
        with pytest.raises(ValidationError, match=re.escape(error)):
            model(**fields)


@pytest.mark.parametrize("field", ["limit_price", "stop_price"])
def test_entry_plan_rejects_non_positive_price(field: str) -> None:
    prices = {"limit_price": 1, "stop_price": 1, field: 0}
    with pytest.raises(ValidationError, match=field_error(field, "Input should be greater than 0")):
        EntryPlan(**entry_kwargs(order_type="STOP_LIMIT", **prices))


@pytest.mark.parametrize(
    "target", [{"target_size": Decimal(5)}, {"target_size": 0}, {"target_equity_fraction": 1}]
)
def test_size_plan_accepts_exactly_one_target(target: dict[str, object]) -> None:
    kwargs = size_kwargs(**target)
    if "target_equity_fraction" in target:
        del kwargs["target_size"]
    plan = SizePlan(**kwargs)
    assert (plan.target_size is None) != (plan.target_equity_fraction is None)


def test_size_plan_rejects_no_target() -> None:
    with pytest.raises(ValidationError, match="set exactly one of target_size and target_equity"):
        SizePlan(**size_kwargs(target_size=None))


def test_size_plan_rejects_both_targets() -> None:
    with pytest.raises(ValidationError, match="set exactly one of target_size and target_equity"):
        SizePlan(**size_kwargs(target_equity_fraction=0.5))


@pytest.mark.parametrize(
    ("fraction", "rule"),
    [
        (0, "Input should be greater than 0"),
        (-0.1, "Input should be greater than 0"),
        (1.0001, "Input should be less than or equal to 1"),
    ],
)
def test_size_plan_rejects_equity_fraction_outside_zero_one(fraction: float, rule: str) -> None:
    with pytest.raises(ValidationError, match=field_error("target_equity_fraction", rule)):
        SizePlan(**size_kwargs(target_size=None, target_equity_fraction=fraction))


def test_size_plan_rejects_leverage_below_one() -> None:
    with pytest.raises(ValidationError, match=field_error("leverage", "Input should be greater")):
        SizePlan(**size_kwargs(leverage=0.5))


def test_execution_plan_defaults_to_single_gtc() -> None:
    plan = ExecutionPlan(**execution_plan_kwargs())
    assert (plan.algorithm, plan.time_in_force, plan.min_fill_ratio) == ("SINGLE", "GTC", 1.0)


def test_execution_plan_gtd_requires_expire_at() -> None:
    with pytest.raises(ValidationError, match="expire_at is required with time_in_force GTD"):
        ExecutionPlan(**execution_plan_kwargs(time_in_force="GTD"))


@pytest.mark.parametrize("tif", ["GTC", "DAY", "IOC"])
def test_execution_plan_rejects_expire_at_without_gtd(tif: str) -> None:
    with pytest.raises(ValidationError, match=r"expire_at is required with .*GTD and only with it"):
        ExecutionPlan(**execution_plan_kwargs(time_in_force=tif, expire_at=T0))


def test_execution_plan_gtd_with_expire_at_is_valid() -> None:
    assert ExecutionPlan(**execution_plan_kwargs(time_in_force="GTD", expire_at=T0)).expire_at == T0


@pytest.mark.parametrize("slices", [None, 1])
def test_execution_plan_twap_needs_at_least_two_slices(slices: int | None) -> None:
    with pytest.raises(ValidationError, match="algorithm TWAP needs slice_count >= 2"):
        ExecutionPlan(
            **execution_plan_kwargs(algorithm="TWAP", slice_count=slices, window_seconds=60)
        )


def test_execution_plan_twap_needs_window_seconds() -> None:
    with pytest.raises(ValidationError, match="algorithm TWAP needs window_seconds"):
        ExecutionPlan(**execution_plan_kwargs(algorithm="TWAP", slice_count=4))


def test_execution_plan_twap_with_slices_and_window_is_valid() -> None:
    plan = ExecutionPlan(
        **execution_plan_kwargs(algorithm="TWAP", slice_count=2, window_seconds=60)
    )
    assert (plan.slice_count, plan.window_seconds) == (2, 60)


@pytest.mark.parametrize("slices", [None, 1])
def test_execution_plan_iceberg_needs_at_least_two_slices(slices: int | None) -> None:
    with pytest.raises(ValidationError, match="algorithm ICEBERG needs slice_count >= 2"):
        ExecutionPlan(**execution_plan_kwargs(algorithm="ICEBERG", slice_count=slices))


def test_execution_plan_iceberg_needs_no_window() -> None:
    assert (
        ExecutionPlan(**execution_plan_kwargs(algorithm="ICEBERG", slice_count=3)).slice_count == 3
    )


@pytest.mark.parametrize("slices", [None, 1])
def test_execution_plan_single_accepts_one_or_unset_slice_count(slices: int | None) -> None:
    assert ExecutionPlan(**execution_plan_kwargs(slice_count=slices)).slice_count == slices


@pytest.mark.parametrize("slices", [2, 10])
def test_execution_plan_single_rejects_several_slices(slices: int) -> None:
    with pytest.raises(ValidationError, match="SINGLE sends one order: slice_count must be 1"):
        ExecutionPlan(**execution_plan_kwargs(slice_count=slices))


def test_execution_plan_rejects_zero_slice_count() -> None:
    with pytest.raises(
        ValidationError, match=field_error("slice_count", "Input should be greater")
    ):
        ExecutionPlan(**execution_plan_kwargs(slice_count=0))


def test_execution_plan_rejects_non_positive_window() -> None:
    with pytest.raises(ValidationError, match=field_error("window_seconds", "Input should be")):
        ExecutionPlan(**execution_plan_kwargs(algorithm="TWAP", slice_count=2, window_seconds=0))


@pytest.mark.parametrize(
    ("ratio", "rule"),
    [(0, "Input should be greater than 0"), (1.5, "Input should be less than or equal to 1")],
)
def test_execution_plan_rejects_min_fill_ratio_outside_zero_one(ratio: float, rule: str) -> None:
    with pytest.raises(ValidationError, match=field_error("min_fill_ratio", rule)):
        ExecutionPlan(**execution_plan_kwargs(min_fill_ratio=ratio))


LONGS = [Side.BUY, TradeDirection.LONG]
SHORTS = [Side.SELL, TradeDirection.SHORT]
REF = Decimal(100)


def exit_plan(stop: object = None, target: object = None, offsets: bool = False) -> ExitPlan:
    return ExitPlan(**exit_kwargs(stop_loss=stop, take_profit=target, as_offsets=offsets))


@pytest.mark.parametrize("direction", LONGS)
@pytest.mark.parametrize(("stop", "target"), [(90, 120), (99.99, 100.01), (None, 110), (95, None)])
def test_long_exit_levels_accept_stop_below_and_target_above_reference(
    direction: Side | TradeDirection, stop: object, target: object
) -> None:
    check_exit_levels(exit_plan(stop, target), direction, REF)


@pytest.mark.parametrize("direction", SHORTS)
@pytest.mark.parametrize(("stop", "target"), [(110, 80), (100.01, 99.99), (None, 90), (105, None)])
def test_short_exit_levels_accept_stop_above_and_target_below_reference(
    direction: Side | TradeDirection, stop: object, target: object
) -> None:
    check_exit_levels(exit_plan(stop, target), direction, REF)


@pytest.mark.parametrize("direction", [*LONGS, *SHORTS])
def test_exit_plan_without_levels_is_always_valid(direction: Side | TradeDirection) -> None:
    check_exit_levels(exit_plan(), direction, REF)


@pytest.mark.parametrize("direction", LONGS)
@pytest.mark.parametrize("stop", [100, 105])
def test_long_exit_levels_reject_stop_at_or_above_reference(
    direction: Side | TradeDirection, stop: int
) -> None:
    plan = exit_plan(stop, 120)
    message = f"exit plan {plan.plan_id}: stop_loss {stop} must be below the reference price 100"
    with pytest.raises(PlanError, match=re.escape(message)):
        check_exit_levels(plan, direction, REF)


@pytest.mark.parametrize("direction", LONGS)
@pytest.mark.parametrize("target", [100, 95])
def test_long_exit_levels_reject_target_at_or_below_reference(
    direction: Side | TradeDirection, target: int
) -> None:
    plan = exit_plan(90, target)
    message = (
        f"exit plan {plan.plan_id}: take_profit {target} must be above the reference price 100"
    )
    with pytest.raises(PlanError, match=re.escape(message)):
        check_exit_levels(plan, direction, REF)


@pytest.mark.parametrize("direction", SHORTS)
@pytest.mark.parametrize("stop", [100, 95])
def test_short_exit_levels_reject_stop_at_or_below_reference(
    direction: Side | TradeDirection, stop: int
) -> None:
    plan = exit_plan(stop, 80)
    message = f"exit plan {plan.plan_id}: stop_loss {stop} must be above the reference price 100"
    with pytest.raises(PlanError, match=re.escape(message)):
        check_exit_levels(plan, direction, REF)


@pytest.mark.parametrize("direction", SHORTS)
@pytest.mark.parametrize("target", [100, 105])
def test_short_exit_levels_reject_target_at_or_above_reference(
    direction: Side | TradeDirection, target: int
) -> None:
    plan = exit_plan(110, target)
    message = (
        f"exit plan {plan.plan_id}: take_profit {target} must be below the reference price 100"
    )
    with pytest.raises(PlanError, match=re.escape(message)):
        check_exit_levels(plan, direction, REF)


def test_offset_levels_are_anchored_on_the_reference() -> None:
    plan = exit_plan(5, 10, offsets=True)
    assert plan.levels(Side.BUY, REF) == (Decimal(95), Decimal(110))
    assert plan.levels(TradeDirection.SHORT, REF) == (Decimal(105), Decimal(90))
    assert exit_plan(5, 10).levels(Side.BUY, REF) == (Decimal(5), Decimal(10))


@pytest.mark.parametrize("direction", [*LONGS, *SHORTS])
def test_offset_exit_levels_are_valid_either_way_round(direction: Side | TradeDirection) -> None:
    # The same numbers as absolute prices would be on the wrong side of 100 for both directions.
    plan = exit_plan(5, 10, offsets=True)
    check_exit_levels(plan, direction, REF)
    with pytest.raises(PlanError):
        check_exit_levels(exit_plan(5, 10), direction, REF)


@pytest.mark.parametrize("direction", LONGS)
@pytest.mark.parametrize("offset", [100, 150])
def test_long_offset_stop_at_or_below_zero_is_rejected(
    direction: Side | TradeDirection, offset: int
) -> None:
    plan = exit_plan(offset, 10, offsets=True)
    with pytest.raises(PlanError, match=rf"exit plan {plan.plan_id}: stop_loss .*{100 - offset}"):
        check_exit_levels(plan, direction, REF)


def test_offset_stop_at_or_below_zero_error_names_the_reference() -> None:
    plan = exit_plan(150, None, offsets=True)
    with pytest.raises(PlanError, match=r"stop_loss .*reference price 100"):
        check_exit_levels(plan, Side.BUY, REF)


@pytest.mark.parametrize("offset", [100, 150])
def test_short_offset_take_profit_at_or_below_zero_is_rejected(offset: int) -> None:
    plan = exit_plan(5, offset, offsets=True)
    with pytest.raises(PlanError, match=rf"exit plan {plan.plan_id}: take_profit"):
        check_exit_levels(plan, Side.SELL, REF)


@pytest.mark.parametrize("field", ["stop_loss", "take_profit"])
@pytest.mark.parametrize("offsets", [False, True])
def test_exit_plan_rejects_non_positive_level(field: str, offsets: bool) -> None:
    with pytest.raises(ValidationError, match=field_error(field, "Input should be greater than 0")):
        ExitPlan(**exit_kwargs(as_offsets=offsets, **{field: 0}))
