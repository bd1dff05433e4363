"""Enumerations: one execution-mode enum, no PARALLEL/ATOMIC twin anywhere, direction words."""

from __future__ import annotations

import enum
import inspect
import re
from pathlib import Path

import pytest

import simpletrader
from simpletrader.core import enums
from simpletrader.core.enums import BatchExecutionMode, Side, SignalDirection, TradeDirection

PACKAGE_ROOT = Path(simpletrader.__file__).parent
ENUM_CLASSES = [
    obj
    for _, obj in inspect.getmembers(enums, inspect.isclass)
    if issubclass(obj, enum.Enum) and obj.__module__ == enums.__name__
]


def test_batch_execution_mode_has_exactly_the_three_modes() -> None:
    assert [m.value for m in BatchExecutionMode] == ["INDEPENDENT", "COORDINATED", "SEQUENTIAL"]


def test_batch_execution_mode_is_the_only_mode_enum() -> None:
    assert [c.__name__ for c in ENUM_CLASSES if "mode" in c.__name__.lower()] == [
        "BatchExecutionMode"
    ]


def test_enums_are_str_enums() -> None:
    assert ENUM_CLASSES
    assert all(issubclass(c, enum.StrEnum) for c in ENUM_CLASSES)


@pytest.mark.parametrize("word", ["PARALLEL", "ATOMIC"])
def test_no_core_enum_has_a_parallel_or_atomic_member(word: str) -> None:
    offenders = [
        f"{c.__name__}.{m.name}"
        for c in ENUM_CLASSES
        for m in c
        if word in (m.name.upper(), str(m.value).upper())
    ]
    assert offenders == []


def test_no_enum_in_the_package_source_declares_parallel_or_atomic() -> None:
    # Grep-like: a member assignment (`PARALLEL = ...`) or a functional-API name anywhere in src.
    member = re.compile(r"^\s+(PARALLEL|ATOMIC)\s*(:[^=]*)?=", re.MULTILINE)
    functional = re.compile(r"Enum\([^)]*['\"](PARALLEL|ATOMIC)['\"]")
    offenders = [
        str(path.relative_to(PACKAGE_ROOT))
        for path in sorted(PACKAGE_ROOT.rglob("*.py"))
        if member.search(text := path.read_text(encoding="utf-8")) or functional.search(text)
    ]
    assert offenders == []


def test_no_other_mode_enum_is_declared_in_the_package_source() -> None:
    declaration = re.compile(r"^class\s+(\w*Mode\w*)\s*\(.*Enum.*\)\s*:", re.MULTILINE)
    found = [
        name
        for path in sorted(PACKAGE_ROOT.rglob("*.py"))
        for name in declaration.findall(path.read_text(encoding="utf-8"))
    ]
    assert found == ["BatchExecutionMode"]


def test_side_sign_and_opposite() -> None:
    assert (Side.BUY.sign, Side.SELL.sign) == (1, -1)
    assert (Side.BUY.opposite, Side.SELL.opposite) == (Side.SELL, Side.BUY)


def test_trade_direction_maps_to_and_from_sides() -> None:
    assert TradeDirection.LONG.entry_side is Side.BUY
    assert TradeDirection.SHORT.entry_side is Side.SELL
    for side in Side:
        assert TradeDirection.from_side(side).entry_side is side


def test_direction_words_per_layer() -> None:
    assert {d.value for d in SignalDirection} == {"long", "short"}
    assert {s.value for s in Side} == {"BUY", "SELL"}
    assert {d.value for d in TradeDirection} == {"LONG", "SHORT"}
