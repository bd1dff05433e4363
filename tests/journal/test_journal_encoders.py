"""Generated encoders: every event and flow DTO reads back equal, as valid, deterministic JSON."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from journal_kit import DTO_STRATEGIES, FLOW_CLASSES, T
from pydantic import BaseModel, field_serializer

from simpletrader.core.enums import LegScope, Side
from simpletrader.core.ids import ID_FORMATS
from simpletrader.dtos import (
    CausalityChain,
    LegDirective,
    SizeDirective,
    StrategyDirective,
)
from simpletrader.journal import codec, encoders
from simpletrader.journal.events import (
    EVENT_TYPES,
    FlowRecorded,
    JournalEvent,
    KillSwitchTripped,
    journal_event,
)


@st.composite
def flows(draw: st.DrawFn) -> FlowRecorded:
    cls = draw(st.sampled_from(FLOW_CLASSES))
    dto = draw(DTO_STRATEGIES[cls])
    return FlowRecorded(draw(st.integers()), dto, getattr(dto, codec.FLOW_ID_FIELDS[cls.__name__]))


def _values(tp: Any) -> st.SearchStrategy[Any]:
    """Any value of a journal event field type (text with quotes, controls and non-ASCII)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return st.one_of([_values(a) for a in typing.get_args(tp)])
    if tp is type(None):
        return st.none()
    if isinstance(tp, type) and issubclass(tp, StrEnum):
        return st.sampled_from(list(tp))
    simple: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: st.integers(),
        float: st.floats(allow_nan=False),  # NaN is never equal to itself
        Decimal: st.decimals(allow_nan=False, allow_infinity=False),
        str: st.text(),
    }
    return simple[tp]


def _events(cls: type[JournalEvent]) -> st.SearchStrategy[JournalEvent]:
    if cls is FlowRecorded:
        return flows()
    hints = typing.get_type_hints(cls)
    fields = {f.name: _values(hints[f.name]) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return st.builds(cls, **fields)


EVENT_CLASSES = sorted(EVENT_TYPES.values(), key=lambda c: c.kind)


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=[c.kind for c in EVENT_CLASSES])
@given(data=st.data())
def test_every_event_reads_back_equal_from_valid_json(cls: type[JournalEvent], data: Any) -> None:
    event = data.draw(_events(cls))
    payload = codec.encode(event)
    assert codec.decode(cls.kind, payload) == event
    assert isinstance(json.loads(payload, parse_constant=_refuse), dict)
    assert codec.lines([event]) == codec.line(cls.kind, payload)
    payloads, blob = codec.payloads_and_lines([event, event])
    assert payloads == [payload, payload]
    assert blob == codec.lines([event, event])


def _refuse(name: str) -> None:
    raise AssertionError(f"not JSON: {name}")


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=[c.kind for c in EVENT_CLASSES])
def test_every_event_class_gets_a_generated_encoder(cls: type[JournalEvent]) -> None:
    assert encoders.event_encoder(cls) is not None


@pytest.mark.parametrize("cls", FLOW_CLASSES, ids=[c.__name__ for c in FLOW_CLASSES])
def test_every_flow_dto_gets_a_generated_encoder(cls: type) -> None:
    assert encoders.model_encoder(cls) is not None


@pytest.mark.parametrize("cls", FLOW_CLASSES, ids=[c.__name__ for c in FLOW_CLASSES])
@given(data=st.data())
def test_flow_dtos_leave_out_what_pydantic_leaves_out(cls: type, data: Any) -> None:
    dto = data.draw(DTO_STRATEGIES[cls])
    generated = json.loads(encoders.model_encoder(cls)(dto), parse_constant=_refuse)  # type: ignore[misc]
    by_pydantic = json.loads(dto.model_dump_json(exclude_defaults=True))
    assert _shape(generated) == _shape(by_pydantic)
    assert cls.model_validate(generated) == dto


def _shape(value: Any) -> Any:
    """The keys at every level (values differ in form: ``...Z`` vs ``+00:00``, float text)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return None


def test_free_text_is_escaped_and_ids_are_written_as_they_are() -> None:
    directive = StrategyDirective.model_validate(
        {
            "directive_id": "STR_20240102_030405_00000001",
            "strategy_id": 'mean "reversion" \\ v2\n\t\x00 — ünïcode',
            "decision_timestamp": datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
            "causality": {"origin_id": "TCK_20240102_030405_00000002"},
            "confidence": 0.1,
            "legs": [{"scope": "NEW_TRADE", "symbol": "BRK/B", "direction": "BUY"}],
        }
    )
    event = FlowRecorded(T, directive, directive.directive_id)
    payload = codec.encode(event)
    assert json.loads(payload)["dto"]["strategy_id"] == directive.strategy_id
    assert b'"directive_id":"STR_20240102_030405_00000001"' in payload
    assert b'"decision_timestamp":"2024-01-02T03:04:05.000600Z"' in payload
    assert codec.decode("flow", payload) == event


@pytest.mark.parametrize("value", [0.0, -0.0, 1e-7, 1e16, 5e-324, 0.1 + 0.2, float("inf")])
def test_floats_read_back_exactly(value: float) -> None:
    event = KillSwitchTripped(T, "max_drawdown", value, -value)
    decoded = codec.decode(event.kind, codec.encode(event))
    assert isinstance(decoded, KillSwitchTripped)
    assert (decoded.drawdown, decoded.limit) == (value, -value)
    assert str(decoded.drawdown) == str(value)  # -0.0 keeps its sign


def test_cached_texts_do_not_depend_on_which_equal_value_came_first() -> None:
    assert encoders.encode_float(2.0) == "2.0"
    assert encoders.encode_float(2) == "2.0"
    assert encoders.encode_float(np.float64(2.5)) == "2.5"
    assert encoders.encode_float(0.0) == "0.0"
    assert encoders.encode_float(-0.0) == "-0.0"
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    elsewhere = moment.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert encoders.encode_datetime(elsewhere) == "2024-01-02T03:04:05Z"
    assert encoders.encode_datetime(moment) == "2024-01-02T03:04:05Z"


class _Loud(str):
    """A str that says it equals every str: its text must not be taken for another's."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return hash(str(self))


def test_cached_ids_and_numbers_are_written_as_their_own_value() -> None:
    for value, text in [
        (2, "2"),
        (True, "1"),
        (2.9, "2"),
        (Decimal("-2.5"), "-2"),
        (np.int64(3), "3"),
    ]:
        assert encoders.digits[value] == text
    assert encoders.escaped["a\n"] == '"a\\n"'
    assert encoders.escaped[_Loud("b")] == '"b"'
    assert encoders.escaped["b"] == '"b"'
    assert encoders.escaped[_Loud('"c"')] == '"\\"c\\""'
    assert {type(k) for k in encoders.escaped} <= {str}
    assert {type(k) for k in encoders.digits} <= {int}


def test_cached_texts_stay_bounded() -> None:
    for k in range(2 * encoders._CACHE_SIZE + 3):
        assert encoders.digits[k] == str(k)
        assert encoders.escaped[f"id{k}"] == f'"id{k}"'
    assert len(encoders.digits) <= encoders._CACHE_SIZE
    assert len(encoders.escaped) <= encoders._CACHE_SIZE


def test_a_repeated_datetime_object_and_the_next_one_each_get_their_own_text() -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    later = moment + timedelta(minutes=1)
    naive = datetime(2024, 1, 2, 3, 4, 5)
    texts = [encoders.encode_datetime(m) for m in (moment, moment, later, later, naive, moment)]
    assert texts == [
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:05:05Z",
        "2024-01-02T03:05:05Z",
        "2024-01-02T03:04:05",
        "2024-01-02T03:04:05Z",
    ]


@pytest.mark.parametrize("fmt", sorted(ID_FORMATS), ids=sorted(ID_FORMATS))
def test_id_patterns_are_safe_to_write_unescaped(fmt: str) -> None:
    assert encoders.safe_pattern(ID_FORMATS[fmt].pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[A-Za-z0-9._:/-]+$",
        r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$",
        r"^(?:TCK_[0-9]{8}|SCH_[0-9]{8})$",
    ],
)
def test_symbol_like_patterns_are_safe(pattern: str) -> None:
    assert encoders.safe_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"[A-Z]+",  # unanchored: anything may surround the match
        r"^[A-Z]+",
        r"^A|B$",  # the alternation escapes the anchors
        r"^.+$",
        r"^[^a]+$",
        r"^[ -~]+$",  # the range holds the quote and the backslash
        r"^\w+$",
        r'^[a"]+$',
        "^[\x00-a]+$",
    ],
)
def test_patterns_that_admit_escapes_are_not_safe(pattern: str) -> None:
    assert not encoders.safe_pattern(pattern)


def test_an_unsupported_field_type_falls_back_to_pydantic() -> None:
    @dataclasses.dataclass(slots=True)
    class WidgetsCounted(JournalEvent):
        kind: ClassVar[str] = "widgets_counted"
        id_field: ClassVar[str] = "name"
        at: int
        name: str
        counts: list[int]

    assert encoders.event_encoder(WidgetsCounted) is None
    registered = journal_event(WidgetsCounted)
    try:
        event = WidgetsCounted(T, 'a "b"', [1, 2])
        assert codec.decode(event.kind, codec.encode(event)) == event
        assert codec.lines([event]) == codec.line(event.kind, codec.encode(event))
    finally:
        del EVENT_TYPES[registered.kind]


class Tagged(BaseModel):
    name: str

    @field_serializer("name")
    def _upper(self, name: str) -> str:
        return name.upper()


def test_a_model_with_its_own_serializer_keeps_pydantic() -> None:
    assert encoders.model_encoder(Tagged) is None


class _AllOptional(BaseModel):
    note: str | None = None
    size: int = 0


class _NoFields(BaseModel):
    pass


@pytest.mark.parametrize(
    "model",
    [_AllOptional(), _AllOptional(note='a "b"'), _AllOptional(size=2), _NoFields()],
    ids=["defaults", "first set", "second set", "no fields"],
)
def test_a_held_model_is_its_own_text_between_the_holders_head_and_tail(model: BaseModel) -> None:
    holder = types.SimpleNamespace(at=T, dto=model)
    held = encoders.held_model_encoder(type(model), "dto", "x%%{%d:", ["at"], "}%\n")
    alone = encoders.model_encoder(type(model))
    assert held is not None
    assert alone is not None
    assert held(holder) == f"x%{{{T}:" + alone(model) + "}%\n"


def test_a_held_model_with_its_own_serializer_is_left_to_pydantic() -> None:
    assert encoders.held_model_encoder(Tagged, "dto", "", [], "") is None
    event = FlowRecorded(T, Tagged(name="x"), "x")
    line = f'flow\t{{"at":{T},"type":"Tagged","dto":{{"name":"X"}}}}\n'
    assert codec.lines([event]) == line.encode()
    assert codec.encode(event) == line[5:-1].encode()


@pytest.mark.parametrize("legs", [1, 2, 3])
def test_a_directive_reads_back_with_any_number_of_legs(legs: int) -> None:
    directive = StrategyDirective.model_validate(
        {
            "directive_id": "STR_20240102_030405_00000001",
            "strategy_id": "s",
            "decision_timestamp": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "causality": {"origin_id": "TCK_20240102_030405_00000002"},
            "confidence": 1.0,
            "legs": [
                {"scope": "NEW_TRADE", "symbol": f"S{k}", "direction": "BUY"} for k in range(legs)
            ],
        }
    )
    event = FlowRecorded(T, directive, directive.directive_id)
    payload = codec.encode(event)
    assert [leg["symbol"] for leg in json.loads(payload)["dto"]["legs"]] == [
        f"S{k}" for k in range(legs)
    ]
    assert codec.decode("flow", payload) == event


class _OwnSizeDirective(SizeDirective):
    """Equal in its fields to the default, but another class: not the default."""


@pytest.mark.parametrize(
    ("size_directive", "written"),
    [
        (StrategyDirective.model_fields["size_directive"].default, False),  # the very default
        (SizeDirective(), False),  # an equal copy
        (SizeDirective(aggressiveness=0.7), True),
        (_OwnSizeDirective(), True),
    ],
    ids=["identical", "equal", "other values", "other class"],
)
def test_a_sub_directive_is_left_out_exactly_when_it_equals_its_default(
    size_directive: SizeDirective, written: bool
) -> None:
    directive = StrategyDirective(
        directive_id="STR_20240102_030405_00000001",
        strategy_id="s",
        decision_timestamp=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        causality=CausalityChain(origin_id="TCK_20240102_030405_00000002"),
        confidence=0.5,
        legs=(LegDirective(scope=LegScope.NEW_TRADE, symbol="GOOG", direction=Side.BUY),),
        size_directive=size_directive,
    )
    encode = encoders.model_encoder(StrategyDirective)
    assert encode is not None
    assert ("size_directive" in json.loads(encode(directive))) is written
    default = StrategyDirective.model_fields["size_directive"].default
    assert (directive.size_directive != default) is written  # what pydantic's equality says
