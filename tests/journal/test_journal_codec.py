"""Journal entries serialise deterministically and decode back to equal events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from journal_kit import DTO_STRATEGIES, FLOW_CLASSES, T

from simpletrader.core.enums import (
    BatchExecutionMode,
    ExecutionAlgorithm,
    GroupRole,
    GroupStatus,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradeDirection,
)
from simpletrader.dtos import Origin
from simpletrader.journal import codec
from simpletrader.journal.events import (
    EVENT_TYPES,
    BatchEnded,
    CommandEnded,
    DirectiveNotPlanned,
    FlowRecorded,
    GroupCreated,
    GroupStatusChanged,
    JournalEvent,
    OrderFilled,
    OrderStatusChanged,
    OrderSubmitted,
    TradePlanClosed,
    TradePlanOpened,
)

EXAMPLES: list[JournalEvent] = [
    DirectiveNotPlanned(T, "STR_20240102_030405_00000001", "confidence 0.3 falls in a gap"),
    TradePlanOpened(T, "TPL_20240102_030405_00000001", "s1", "GOOG", TradeDirection.SHORT),
    TradePlanClosed(T + 1, "TPL_20240102_030405_00000001"),
    GroupCreated(
        T,
        "EXG_20240102_030405_00000001",
        "TPL_20240102_030405_00000001",
        None,
        None,
        GroupRole.PROTECTIVE,
        ExecutionAlgorithm.SINGLE,
        Decimal("12.5"),
    ),
    GroupStatusChanged(T, "EXG_20240102_030405_00000001", GroupStatus.FAILED, "TIMEOUT"),
    OrderSubmitted(
        T,
        "ORD_20240102_030405_00000001",
        "EXG_20240102_030405_00000001-1",
        "EXG_20240102_030405_00000001",
        "GOOG",
        Side.SELL,
        OrderType.STOP_LIMIT,
        Decimal("0.10"),
        Decimal("99.95"),
        Decimal("100.05"),
        TimeInForce.GTD,
        T + 86_400_000_000_000,
        True,
    ),
    OrderStatusChanged(T, "ORD_20240102_030405_00000001", OrderStatus.CANCELLED, "PLAN_FLAT"),
    OrderFilled(
        T,
        "FIL_20240102_030405_00000001",
        "ORD_20240102_030405_00000001",
        Decimal("0.05"),
        Decimal("100.00"),
        Decimal("0.0125"),
        "USD",
        Liquidity.MAKER,
        Decimal("0.07"),
    ),
    CommandEnded(
        T, "EXC_20240102_030405_00000001", "BAT_20240102_030405_00000001", GroupStatus.SKIPPED
    ),
    BatchEnded(
        T,
        "BAT_20240102_030405_00000001",
        BatchExecutionMode.COORDINATED,
        GroupStatus.FAILED,
        "EXC_20240102_030405_00000001",
        "REJECTED INSUFFICIENT_FUNDS",
    ),
]


@pytest.mark.parametrize("event", EXAMPLES, ids=[type(e).__name__ for e in EXAMPLES])
def test_event_decodes_to_an_equal_event_with_exact_decimals(event: JournalEvent) -> None:
    payload = codec.encode(event)
    decoded = codec.decode(event.kind, payload)
    assert decoded == event
    assert type(decoded) is type(event)
    for name in type(event).__dataclass_fields__:  # type: ignore[attr-defined]
        value = getattr(event, name)
        if isinstance(value, Decimal):
            assert str(getattr(decoded, name)) == str(value)  # no rounding, trailing zeros kept


def test_every_registered_event_kind_has_an_example_or_its_own_tests() -> None:
    covered = {type(e).kind for e in EXAMPLES} | {FlowRecorded.kind}
    core = {
        "flow",
        "directive_not_planned",
        "trade_plan_opened",
        "trade_plan_closed",
        "group_created",
        "group_status_changed",
        "order_submitted",
        "order_status_changed",
        "order_filled",
        "command_ended",
        "batch_ended",
    }
    assert core <= covered
    assert core <= set(EVENT_TYPES)


@pytest.mark.parametrize("cls", FLOW_CLASSES, ids=[c.__name__ for c in FLOW_CLASSES])
@given(data=st.data())
def test_flow_dtos_survive_the_codec_with_defaults_left_out(cls: type, data: Any) -> None:
    dto = data.draw(DTO_STRATEGIES[cls])
    event = FlowRecorded(T, dto, getattr(dto, codec.FLOW_ID_FIELDS[cls.__name__]))
    payload = codec.encode(event)
    decoded = codec.decode("flow", payload)
    assert isinstance(decoded, FlowRecorded)
    assert decoded.dto == dto
    assert decoded.key == event.key
    assert decoded.at == T
    assert codec.encode(decoded) == payload


def test_payload_is_compact_json_in_field_order() -> None:
    event = GroupStatusChanged(T, "EXG_20240102_030405_00000001", GroupStatus.COMPLETED)
    assert codec.encode(event) == (
        b'{"at":1700000000000000000,"group_id":"EXG_20240102_030405_00000001",'
        b'"status":"COMPLETED","reason":null}'
    )
    assert codec.line(event.kind, codec.encode(event)).startswith(b"group_status_changed\t{")


def test_record_has_seq_kind_id_and_the_fields() -> None:
    event = EXAMPLES[7]
    record = codec.record(42, event.kind, codec.encode(event))
    assert record["seq"] == 42
    assert record["kind"] == "order_filled"
    assert record["id"] == "FIL_20240102_030405_00000001"
    assert record["fee"] == "0.0125"
    origin = Origin(id="TCK_20240102_030405_00000009", type="TICK")
    flow = codec.record(1, "flow", codec.encode(FlowRecorded(T, origin, origin.id)))
    assert flow["id"] == origin.id
    assert flow["type"] == "Origin"


def test_unknown_kind_is_a_clear_error() -> None:
    from simpletrader.core.errors import StoreError

    with pytest.raises(StoreError, match="unknown journal entry kind 'order_teleported'"):
        codec.decode("order_teleported", b"{}")
