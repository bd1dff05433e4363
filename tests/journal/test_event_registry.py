"""New journal events register themselves; the ledger refuses one it cannot project."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import pytest

from simpletrader.journal import codec
from simpletrader.journal.events import EVENT_TYPES, JournalEvent, journal_event
from simpletrader.ledger.ledger import Ledger


@pytest.fixture
def registry() -> Iterator[dict[str, type[JournalEvent]]]:
    """The registry, restored after the test so other tests never see the test events."""
    saved = dict(EVENT_TYPES)
    yield EVENT_TYPES
    EVENT_TYPES.clear()
    EVENT_TYPES.update(saved)


def test_a_decorated_event_is_registered_and_round_trips(
    registry: dict[str, type[JournalEvent]],
) -> None:
    @journal_event
    @dataclass(slots=True)
    class WidgetPolished(JournalEvent):
        kind: ClassVar[str] = "widget_polished"
        id_field: ClassVar[str] = "widget_id"
        projected: ClassVar[bool] = False
        at: int
        widget_id: str
        shine: Decimal

    assert registry["widget_polished"] is WidgetPolished
    event = WidgetPolished(1, "W1", Decimal("0.50"))
    assert codec.decode("widget_polished", codec.encode(event)) == event
    assert event.primary_id() == "W1"
    Ledger(Decimal(100))  # ignored by the ledger: not projected


def test_a_projected_event_without_a_ledger_handler_is_refused(
    registry: dict[str, type[JournalEvent]],
) -> None:
    @journal_event
    @dataclass(slots=True)
    class WidgetSold(JournalEvent):
        kind: ClassVar[str] = "widget_sold"
        id_field: ClassVar[str] = "widget_id"
        at: int
        widget_id: str

    with pytest.raises(TypeError, match="has no _on_widget_sold handler"):
        Ledger(Decimal(100))


def test_a_taken_kind_is_refused(registry: dict[str, type[JournalEvent]]) -> None:
    with pytest.raises(TypeError, match=r"'order_filled' .* already taken"):

        @journal_event
        @dataclass(slots=True)
        class OrderFilledAgain(JournalEvent):
            kind: ClassVar[str] = "order_filled"
            id_field: ClassVar[str] = "fill_id"
            at: int
            fill_id: str


@pytest.mark.parametrize(
    ("kind", "id_field", "slots", "message"),
    [
        ("Bad Kind", "x", True, "lower_snake_case"),
        ("ok_kind", "missing", True, "id_field = 'missing' is not one of its fields"),
        ("ok_kind", "x", False, "must be a @dataclass"),
    ],
)
def test_malformed_event_classes_are_refused(
    registry: dict[str, type[JournalEvent]], kind: str, id_field: str, slots: bool, message: str
) -> None:
    namespace = {
        "__annotations__": {"at": int, "x": str},
        "kind": kind,
        "id_field": id_field,
    }
    cls = dataclass(slots=slots)(type("Odd", (JournalEvent,), namespace))
    with pytest.raises(TypeError, match=message):
        journal_event(cls)
    assert kind not in registry or (kind == "ok_kind" and registry.get(kind) is not cls)
