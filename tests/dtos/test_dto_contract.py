"""What every DTO promises (DESIGN.md §3): frozen, strict-shaped, tuples, Decimal money, UTC."""

from __future__ import annotations

import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from dto_examples import EXAMPLE_KWARGS, T0, causality_kwargs, example, field_error, make_id
from pydantic import AwareDatetime, BaseModel, ValidationError

import simpletrader.dtos as dtos
from simpletrader.core.ids import ID_FORMATS, prefix_of
from simpletrader.dtos import (
    CausalityChain,
    ExecutionCommand,
    ExecutionCommandBatch,
    Fill,
    LegDirective,
    StrategyDirective,
)
from simpletrader.dtos._base import FrozenModel

DTO_CLASSES = list(EXAMPLE_KWARGS)
DTO_IDS = [cls.__name__ for cls in DTO_CLASSES]


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def _base_type(annotation: Any) -> Any:
    """``float`` for ``Annotated[float, ...] | None`` and the like."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _base_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else annotation
    return annotation


def _fields_of(base: tuple[type, ...]) -> list[tuple[type[FrozenModel], str]]:
    return [
        (cls, name)
        for cls in DTO_CLASSES
        for name, info in cls.model_fields.items()
        if _base_type(info.annotation) in base
    ]


FLOAT_FIELDS = _fields_of((float,))
DECIMAL_FIELDS = _fields_of((Decimal,))
DATETIME_FIELDS = _fields_of((AwareDatetime, datetime))


def field_id(case: object) -> str:
    return case.__name__ if isinstance(case, type) else str(case)


def _id_fields() -> list[tuple[type[FrozenModel], str, str]]:
    """(class, field, id) for every id-valued field of the example instances."""
    found = []
    for cls in DTO_CLASSES:
        for name, value in example(cls):
            fmt = ID_FORMATS.get(value[:3]) if isinstance(value, str) else None
            if fmt is not None and fmt.is_valid(value):
                found.append((cls, name, value))
    return found


def test_examples_cover_every_dto_class() -> None:
    in_package = {c for c in _subclasses(FrozenModel) if c.__module__.startswith(dtos.__name__)}
    assert in_package == set(DTO_CLASSES)


@pytest.mark.parametrize("cls", DTO_CLASSES, ids=DTO_IDS)
def test_dto_is_frozen_and_forbids_extra_fields_by_config(cls: type[FrozenModel]) -> None:
    assert cls.model_config.get("frozen") is True
    assert cls.model_config.get("extra") == "forbid"


@pytest.mark.parametrize("cls", DTO_CLASSES, ids=DTO_IDS)
def test_assigning_a_field_raises(cls: type[FrozenModel]) -> None:
    instance = example(cls)
    name = next(iter(cls.model_fields))
    with pytest.raises(ValidationError, match=field_error(name, "Instance is frozen")):
        setattr(instance, name, getattr(instance, name))


@pytest.mark.parametrize("cls", DTO_CLASSES, ids=DTO_IDS)
def test_unknown_field_is_rejected(cls: type[FrozenModel]) -> None:
    data = example(cls).model_dump() | {"notes": "x"}
    with pytest.raises(
        ValidationError, match=field_error("notes", "Extra inputs are not permitted")
    ):
        cls.model_validate(data)


@pytest.mark.parametrize("forbidden", ["metadata", "rollback_on_failure"])
def test_no_dto_has_a_metadata_or_rollback_field(forbidden: str) -> None:
    models = [c for c in _subclasses(BaseModel) if c.__module__.startswith(dtos.__name__)]
    assert models
    assert [m.__name__ for m in models if forbidden in m.model_fields] == []


def test_lists_become_tuples() -> None:
    sig = [make_id("SIG", 1), make_id("SIG", 2)]
    chain = CausalityChain(**causality_kwargs(signal_ids=sig, plan_ids=[make_id("ENT")]))
    assert chain.signal_ids == tuple(sig)
    assert isinstance(chain.plan_ids, tuple)
    leg = LegDirective(scope="NEW_TRADE", symbol="X", direction="BUY", preferred_price_zone=[1, 2])
    assert leg.preferred_price_zone == (Decimal(1), Decimal(2))
    directive = example(StrategyDirective, legs=[leg, leg])
    assert isinstance(directive.legs, tuple)
    batch = example(ExecutionCommandBatch, commands=[example(ExecutionCommand)])
    assert isinstance(batch.commands, tuple)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("100.25", Decimal("100.25")),
        (7, Decimal(7)),
        (Decimal("0.00000001"), Decimal("0.00000001")),
        (0.1, Decimal("0.1")),
        (2.675, Decimal("2.675")),
        (1e-7, Decimal("1e-7")),
        (123456.789, Decimal("123456.789")),
    ],
    ids=repr,
)
def test_decimal_field_accepts_str_int_decimal_and_float_by_shortest_repr(
    given: object, expected: Decimal
) -> None:
    price = Fill(**EXAMPLE_KWARGS[Fill](price=given)).price
    assert isinstance(price, Decimal)
    assert price == expected
    assert str(price) == str(expected)


NON_FINITE = ["NaN", "Infinity", "-Infinity", "inf", float("nan"), float("inf"), Decimal("NaN")]


@pytest.mark.parametrize(("cls", "field"), DECIMAL_FIELDS, ids=field_id)
@pytest.mark.parametrize("value", NON_FINITE, ids=repr)
def test_decimal_fields_reject_nan_and_infinity(
    cls: type[FrozenModel], field: str, value: object
) -> None:
    with pytest.raises(
        ValidationError, match=field_error(field, "Input should be a finite number")
    ):
        example(cls, **{field: value})


@pytest.mark.parametrize(("cls", "field"), FLOAT_FIELDS, ids=field_id)
def test_float_fields_reject_nan(cls: type[FrozenModel], field: str) -> None:
    with pytest.raises(ValidationError, match=field_error(field, "Input should be")):
        example(cls, **{field: float("nan")})


@pytest.mark.parametrize(
    ("cls", "field"),
    [pytest.param(cls, f, id=f"{cls.__name__}.{f}") for cls, f in FLOAT_FIELDS],
)
def test_float_fields_reject_infinity(cls: type[FrozenModel], field: str) -> None:
    with pytest.raises(ValidationError, match=field_error(field, "Input should be")):
        example(cls, **{field: float("inf")})


@pytest.mark.parametrize(("cls", "field"), DATETIME_FIELDS, ids=field_id)
def test_naive_datetimes_are_rejected(cls: type[FrozenModel], field: str) -> None:
    kwargs = EXAMPLE_KWARGS[cls]()
    kwargs[field] = T0.replace(tzinfo=None)
    if field == "expire_at":
        kwargs["time_in_force"] = "GTD"
    with pytest.raises(
        ValidationError, match=field_error(field, "Input should have timezone info")
    ):
        cls(**kwargs)


@pytest.mark.parametrize(("cls", "field"), DATETIME_FIELDS, ids=field_id)
@pytest.mark.parametrize(
    "given",
    [
        T0.astimezone(timezone(timedelta(hours=5, minutes=30))),
        T0.astimezone(timezone(timedelta(hours=-11))),
        "2024-01-02T05:04:05+02:00",
        "2024-01-02T03:04:05Z",
    ],
    ids=str,
)
def test_offset_datetimes_are_converted_to_utc(
    cls: type[FrozenModel], field: str, given: object
) -> None:
    kwargs = EXAMPLE_KWARGS[cls]()
    kwargs[field] = given
    if field == "expire_at":
        kwargs["time_in_force"] = "GTD"
    if field == "closed_at":
        kwargs["status"] = "CLOSED"
    stored = getattr(cls(**kwargs), field)
    assert stored == T0
    assert stored.utcoffset() == timedelta(0)
    assert stored.tzinfo is UTC


@pytest.mark.parametrize(
    ("cls", "field", "good"),
    [pytest.param(*case, id=f"{case[0].__name__}.{case[1]}") for case in _id_fields()],
)
def test_id_of_the_wrong_prefix_is_rejected(cls: type[FrozenModel], field: str, good: str) -> None:
    wrong_prefix = "SIG" if prefix_of(good) == "ORD" else "ORD"
    with pytest.raises(ValidationError, match=field_error(field, "String should match pattern")):
        example(cls, **{field: make_id(wrong_prefix)})


def test_signal_id_field_rejects_an_order_id() -> None:
    with pytest.raises(ValidationError, match=r"signal_ids\.0\n\s+String should match pattern"):
        CausalityChain(**causality_kwargs(signal_ids=(make_id("ORD"),)))
