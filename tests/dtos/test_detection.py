"""Origin, Signal, Risk and CausalityChain rules (DESIGN.md §3.1)."""

from __future__ import annotations

import pytest
from dto_examples import causality_kwargs, field_error, make_id, risk_kwargs, signal_kwargs
from pydantic import ValidationError

from simpletrader.dtos import CausalityChain, Origin, Risk, Signal


@pytest.mark.parametrize(
    ("prefix", "kind"), [("TCK", "TICK"), ("SCH", "SCHEDULE"), ("NWS", "NEWS")]
)
def test_origin_accepts_the_prefix_of_its_type(prefix: str, kind: str) -> None:
    assert Origin(id=make_id(prefix), type=kind).type == kind


@pytest.mark.parametrize(
    ("prefix", "kind"), [("TCK", "NEWS"), ("NWS", "SCHEDULE"), ("SCH", "TICK")]
)
def test_origin_rejects_the_prefix_of_another_type(prefix: str, kind: str) -> None:
    with pytest.raises(ValidationError, match=rf"origin id .* of type {kind} must start"):
        Origin(id=make_id(prefix), type=kind)


def test_origin_rejects_a_non_origin_id() -> None:
    with pytest.raises(ValidationError, match=field_error("id", "String should match pattern")):
        Origin(id=make_id("SIG"), type="TICK")


def test_signal_rejects_an_order_id_as_signal_id() -> None:
    with pytest.raises(
        ValidationError, match=field_error("signal_id", "String should match pattern '\\^SIG_")
    ):
        Signal(**signal_kwargs(signal_id=make_id("ORD")))


@pytest.mark.parametrize("signal_type", ["breakout", "Breakout", "BREAKOUT__UP", "_UP", "UP_", ""])
def test_signal_type_must_be_upper_snake(signal_type: str) -> None:
    with pytest.raises(ValidationError, match=field_error("signal_type", "String should match")):
        Signal(**signal_kwargs(signal_type=signal_type))


def test_signal_confidence_may_be_none() -> None:
    assert Signal(**signal_kwargs(confidence=None)).confidence is None


@pytest.mark.parametrize("confidence", [-0.1, 1.1, float("nan")])
def test_signal_confidence_must_be_in_unit_interval(confidence: float) -> None:
    with pytest.raises(ValidationError, match=field_error("confidence", "Input should be")):
        Signal(**signal_kwargs(confidence=confidence))


def test_signal_rejects_unknown_direction_word() -> None:
    with pytest.raises(ValidationError, match=field_error("direction", "Input should be 'long'")):
        Signal(**signal_kwargs(direction="BUY"))


def test_risk_without_symbol_is_system_wide() -> None:
    assert Risk(**risk_kwargs()).affected_symbol is None


@pytest.mark.parametrize("severity", [-0.01, 1.01])
def test_risk_severity_must_be_in_unit_interval(severity: float) -> None:
    with pytest.raises(ValidationError, match=field_error("severity", "Input should be")):
        Risk(**risk_kwargs(severity=severity))


def test_causality_accepts_every_plan_prefix() -> None:
    plan_ids = tuple(make_id(p) for p in ("ENT", "SIZ", "EXT", "EXP"))
    assert CausalityChain(**causality_kwargs(plan_ids=plan_ids)).plan_ids == plan_ids


def test_causality_rejects_a_directive_id_among_plan_ids() -> None:
    with pytest.raises(ValidationError, match=field_error("plan_ids.0", "String should match")):
        CausalityChain(**causality_kwargs(plan_ids=(make_id("STR"),)))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("origin_id", make_id("ORD")),
        ("signal_ids", (make_id("RSK"),)),
        ("risk_ids", (make_id("SIG"),)),
        ("directive_id", make_id("EXC")),
        ("command_id", make_id("BAT")),
        ("batch_id", make_id("EXC")),
    ],
)
def test_causality_rejects_ids_of_the_wrong_prefix(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=rf"{field}(\.0)?\n\s+String should match pattern"):
        CausalityChain(**causality_kwargs(**{field: value}))
