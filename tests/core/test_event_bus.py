"""The event bus: delivery by type, nothing done without subscribers, failures contained."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from simpletrader.core.errors import SimpleTraderError, SubscriberError
from simpletrader.core.event_bus import MAX_LOGGED_FAILURES, EventBus


@dataclass(frozen=True)
class OrderFilled:
    order_id: str


@dataclass(frozen=True)
class StopFilled(OrderFilled):
    stop: float


@dataclass(frozen=True)
class OrderRejected:
    order_id: str


def test_subscriber_receives_only_its_event_type() -> None:
    bus = EventBus()
    filled: list[object] = []
    rejected: list[object] = []
    bus.subscribe(OrderFilled, filled.append)
    bus.subscribe(OrderRejected, rejected.append)
    bus.publish(OrderFilled("a"))
    bus.publish(OrderRejected("b"))
    assert filled == [OrderFilled("a")]
    assert rejected == [OrderRejected("b")]


def test_subscriber_of_a_base_class_receives_subclass_events() -> None:
    bus = EventBus()
    seen: list[object] = []
    everything: list[object] = []
    bus.subscribe(OrderFilled, seen.append)
    bus.subscribe(object, everything.append)
    bus.publish(StopFilled("a", 99.0))
    bus.publish(OrderRejected("b"))
    assert seen == [StopFilled("a", 99.0)]
    assert everything == [StopFilled("a", 99.0), OrderRejected("b")]


def test_handlers_run_in_subscription_order() -> None:
    bus = EventBus()
    calls: list[str] = []
    bus.subscribe(OrderFilled, lambda e: calls.append("first"))
    bus.subscribe(OrderFilled, lambda e: calls.append("second"))
    bus.publish(OrderFilled("a"))
    assert calls == ["first", "second"]


def test_wants_is_false_for_a_type_nobody_subscribed_to() -> None:
    bus = EventBus()
    assert not bus.wants(OrderFilled)
    bus.subscribe(OrderRejected, lambda e: None)
    assert not bus.wants(OrderFilled)
    assert bus.wants(OrderRejected)


def test_wants_sees_a_subscription_to_a_base_class() -> None:
    bus = EventBus()
    assert not bus.wants(StopFilled)
    bus.subscribe(OrderFilled, lambda e: None)
    assert bus.wants(StopFilled)


def test_publish_without_subscribers_does_no_work() -> None:
    class Exploding:
        @property
        def __class__(self) -> type:  # type: ignore[override]
            raise AssertionError("the bus inspected an event nobody wants")

    bus = EventBus()
    bus.subscribe(OrderFilled, lambda e: None)
    # Only type(event) is read: no attribute access, no handler call.
    bus.publish(Exploding())


def test_unsubscribed_handler_is_not_called_and_wants_turns_false() -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(OrderFilled, seen.append)
    bus.unsubscribe(OrderFilled, seen.append)
    bus.publish(OrderFilled("a"))
    assert seen == []
    assert not bus.wants(OrderFilled)


def test_unsubscribing_an_unknown_handler_names_it() -> None:
    with pytest.raises(ValueError, match="is not subscribed to OrderFilled"):
        EventBus().unsubscribe(OrderFilled, print)


def test_subscribing_to_a_non_class_is_refused() -> None:
    with pytest.raises(TypeError, match="needs an event class"):
        EventBus().subscribe("OrderFilled", print)  # type: ignore[arg-type]


def test_failing_non_critical_subscriber_is_logged_and_isolated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    after: list[object] = []

    def broken_observer(event: OrderFilled) -> None:
        raise RuntimeError("observer bug")

    bus.subscribe(OrderFilled, broken_observer)
    bus.subscribe(OrderFilled, after.append)
    with caplog.at_level(logging.ERROR, logger="simpletrader.core.event_bus"):
        bus.publish(OrderFilled("a"))
        bus.publish(OrderFilled("b"))
    assert after == [OrderFilled("a"), OrderFilled("b")]
    assert bus.failures(broken_observer) == 2
    messages = [r.getMessage() for r in caplog.records]
    assert any("broken_observer failed on OrderFilled; isolated" in m for m in messages)
    assert all(r.exc_info is not None for r in caplog.records)


def test_a_subscriber_failing_on_every_event_is_logged_a_bounded_number_of_times(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()

    def noisy(event: OrderFilled) -> None:
        raise RuntimeError("always")

    bus.subscribe(OrderFilled, noisy)
    with caplog.at_level(logging.ERROR, logger="simpletrader.core.event_bus"):
        for i in range(5 * MAX_LOGGED_FAILURES):
            bus.publish(OrderFilled(str(i)))
    assert bus.failures(noisy) == 5 * MAX_LOGGED_FAILURES
    assert len(caplog.records) == MAX_LOGGED_FAILURES + 1
    assert "further failures are counted, not logged" in caplog.records[-1].getMessage()


def test_failing_critical_subscriber_stops_the_run_with_subscriber_error() -> None:
    bus = EventBus()
    later: list[object] = []

    def ledger_writer(event: OrderFilled) -> None:
        raise OSError("disk full")

    bus.subscribe(OrderFilled, ledger_writer, critical=True)
    bus.subscribe(OrderFilled, later.append)
    with pytest.raises(SubscriberError) as info:
        bus.publish(OrderFilled("a"))
    message = str(info.value)
    assert "critical subscriber" in message
    assert "ledger_writer" in message
    assert "OrderFilled" in message
    assert "OSError: disk full" in message
    assert isinstance(info.value.__cause__, OSError)
    assert isinstance(info.value, SimpleTraderError)
    assert later == []


def test_a_handler_subscribing_during_publish_takes_effect_from_the_next_event() -> None:
    bus = EventBus()
    late: list[object] = []

    def subscribe_more(event: OrderFilled) -> None:
        if not late:
            bus.subscribe(OrderFilled, late.append)

    bus.subscribe(OrderFilled, subscribe_more)
    bus.publish(OrderFilled("a"))
    assert late == []
    bus.publish(OrderFilled("b"))
    assert late == [OrderFilled("b")]


def test_unhashable_callable_objects_can_subscribe_and_fail() -> None:
    @dataclass
    class Collector:
        seen: list[object]

        def __call__(self, event: object) -> None:
            raise RuntimeError("bad")

    collector = Collector([])
    bus = EventBus()
    bus.subscribe(OrderFilled, collector)
    bus.publish(OrderFilled("a"))
    assert bus.failures(collector) == 1
