"""The worker's and the venue's shortcuts give what the general paths give, and what can no
longer matter is forgotten.

Reports are dispatched on their exact type, with a fallback through the bases for a subclass;
the venue skips the margin check of an equity-fraction fill whose quantity re-sizing has just
found affordable, and checks any other quantity (a volume-capped part, say); a closed plan's
protection is dropped once its pair has ended. Only a sliced command measures its slippage
against the decision close; equity fractions are converted to Decimal once each, with a
bounded number kept.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from execution_harness import (
    Market,
    Row,
    bars,
    batch,
    close,
    d,
    execution,
    exits,
    flat,
    new_trade,
)

from simpletrader.core.enums import (
    ExecutionAlgorithm,
    GroupStatus,
    OrderStatus,
    Side,
    TradeDirection,
)
from simpletrader.core.errors import ExecutionError
from simpletrader.execution.algorithms import sliced
from simpletrader.execution.connectors.base import CancelRefused
from simpletrader.execution.connectors.simulated import SimulatedVenue, VenueConfig
from simpletrader.journal.events import CommandEnded, TradePlanOpened


class _VenueCancelRefused(CancelRefused):
    """A connector's own flavour of a report type."""


def test_a_report_of_a_subclass_is_recorded_like_its_base() -> None:
    market = Market({"X": bars("X", flat(100, 3))})
    market.at(0, batch([new_trade("X", Side.BUY, 5)], created_ns=market.close_ns(0)))
    market.run(0)
    (order,) = market.ledger.orders.values()
    market.worker.on_report(_VenueCancelRefused(order.order_id, "BUSY", market.close_ns(0)))
    market.worker.on_report(_VenueCancelRefused(order.order_id, "STILL_BUSY", market.close_ns(0)))
    refusals = market.records("order_cancel_refused")
    assert [r["reason"] for r in refusals] == ["BUSY", "STILL_BUSY"]
    market.run()
    assert market.ledger.orders[order.order_id].status is OrderStatus.FILLED


def _count_margin_checks(monkeypatch: pytest.MonkeyPatch) -> list[Decimal]:
    checked: list[Decimal] = []
    original = SimulatedVenue._margin_ok

    def spy(venue: SimulatedVenue, *args: Any) -> bool:
        checked.append(args[2])
        return original(venue, *args)

    monkeypatch.setattr(SimulatedVenue, "_margin_ok", spy)
    return checked


def test_an_equity_fraction_fill_of_the_afforded_quantity_is_checked_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked = _count_margin_checks(monkeypatch)
    rows: list[Row] = [(100, 100, 100, 100), (125, 125, 125, 125), (125, 125, 125, 125)]
    market = Market({"X": bars("X", rows)}, cash=10_000)
    market.at(0, batch([new_trade("X", size=None, fraction=1.0)], created_ns=market.close_ns(0)))
    market.run()
    (fill,) = market.ledger.fills
    assert fill.quantity == d(80)
    assert checked == [d(80)]  # re-sizing's check; the fill would only repeat it
    assert market.ledger.cash == d(0)


def test_a_capped_part_of_an_equity_fraction_order_is_checked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked = _count_margin_checks(monkeypatch)
    rows: list[Row] = [(100, 100, 100, 100, 500)] * 4
    config = VenueConfig(participation_cap=0.1)
    market = Market({"X": bars("X", rows)}, cash=10_000, config=config)
    market.at(0, batch([new_trade("X", size=None, fraction=1.0)], created_ns=market.close_ns(0)))
    market.run()
    assert [f.quantity for f in market.ledger.fills] == [d(50), d(50)]
    assert checked == [d(100), d(50), d(50)]


def test_a_closed_plans_protection_is_forgotten_once_its_pair_has_ended() -> None:
    rows: list[Row] = [(100, 100, 100, 100)] * 2 + [(95, 96, 85, 90), (90, 90, 90, 90)]
    market = Market({"X": bars("X", rows)})
    leg = new_trade("X", Side.BUY, 10, exit_plan=exits(stop=92, take=120))
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run(1)
    assert len(market.worker.protection) == 1
    market.run()
    assert market.plan().status == "CLOSED"
    assert len(market.worker.protection) == 0


def test_a_closed_plans_protection_is_forgotten_after_a_close_cancels_its_pair() -> None:
    market = Market({"X": bars("X", flat(100, 5))})
    leg = new_trade("X", Side.BUY, 10, exit_plan=exits(stop=90, take=120))
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run(1)
    market.submit(batch([close(market.plan().trade_plan_id)], created_ns=market.close_ns(1)))
    market.run()
    assert market.plan().status == "CLOSED"
    assert len(market.worker.protection) == 0


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        (None, False),
        (ExecutionAlgorithm.SINGLE, False),
        (ExecutionAlgorithm.TWAP, True),
        (ExecutionAlgorithm.ICEBERG, True),
    ],
)
def test_only_twap_and_iceberg_plans_are_sliced(
    algorithm: ExecutionAlgorithm | None, expected: bool
) -> None:
    plan = None
    if algorithm is ExecutionAlgorithm.SINGLE:
        plan = execution(algorithm)
    elif algorithm is not None:
        window = 3_600 if algorithm is ExecutionAlgorithm.TWAP else None
        plan = execution(algorithm, window=window, slices=2)
    assert sliced(plan) is expected


def test_a_single_order_is_not_held_to_a_slippage_limit() -> None:
    rows: list[Row] = [(100, 100, 100, 100), (125, 125, 125, 125), (125, 125, 125, 125)]
    market = Market({"X": bars("X", rows)})
    leg = new_trade("X", plan=execution(max_slippage=0.001))
    market.at(0, batch([leg], created_ns=market.close_ns(0)))
    market.run()
    (fill,) = market.ledger.fills
    assert fill.price == d(125)  # 25% above the decision close
    (ended,) = market.records("command_ended")
    assert ended["status"] == "COMPLETED"


def test_equity_fraction_sizes_stay_exact_past_the_decimals_remembered() -> None:
    market = Market({"X": bars("X", flat(100, 2))}, cash=10_000)
    market.run(0)
    worker = market.worker
    fractions = [i / 997 for i in range(1, 600)]  # more than decimal_of remembers
    for fraction in fractions + fractions:
        # 10,000 of equity at 100 a unit, floored to the lot of 1.
        expected = int(Decimal(repr(fraction)) * 100)
        assert worker._estimate_units("X", None, fraction) == expected


def test_an_event_the_ledger_ignores_is_journaled_and_published_but_changes_no_state() -> None:
    market = Market({"X": bars("X", flat(100, 3))})
    market.at(0, batch([new_trade("X", Side.BUY, 5)], created_ns=market.close_ns(0)))
    market.run()
    seen: list[object] = []
    market.bus.subscribe(CommandEnded, seen.append)
    before = market.ledger.state_digest()
    entries = len(market.records("command_ended"))
    event = CommandEnded(
        market.close_ns(1), "EXC_20240101_000000_00000000", "B", GroupStatus.FAILED
    )
    market.worker.record(event)
    assert market.ledger.state_digest() == before
    assert len(market.records("command_ended")) == entries + 1
    assert seen == [event]


def test_an_event_the_ledger_projects_changes_it_through_the_worker_as_through_apply() -> None:
    market = Market({"X": bars("X", flat(100, 3))})
    opened = TradePlanOpened(
        market.close_ns(0), "TPL_20240101_000000_0000abcd", "s", "X", TradeDirection.LONG
    )
    market.worker.record(opened)
    assert market.ledger.plans["TPL_20240101_000000_0000abcd"].symbol == "X"


class _NotAJournalEvent(TradePlanOpened):
    """A subclass is not a registered journal event of its own."""


def test_an_unregistered_event_is_refused_by_the_worker_and_the_ledger() -> None:
    market = Market({"X": bars("X", flat(100, 3))})
    event = _NotAJournalEvent(
        market.close_ns(0), "TPL_20240101_000000_0000abcd", "s", "X", TradeDirection.LONG
    )
    with pytest.raises(ExecutionError, match="_NotAJournalEvent is not a registered"):
        market.worker.record(event)
    with pytest.raises(ExecutionError, match="_NotAJournalEvent is not a registered"):
        market.ledger.apply(event)
    assert not market.ledger.plans


def test_a_venue_whose_orders_all_ended_keeps_none_of_them_and_still_fills_new_ones() -> None:
    market = Market({"X": bars("X", flat(100, 5))})
    market.at(0, batch([new_trade("X", Side.BUY, 5)], created_ns=market.close_ns(0)))
    market.run(1)
    assert market.venue._working == []  # nothing for the next pass to step over
    market.at(2, batch([close(market.plan().trade_plan_id)], created_ns=market.close_ns(2)))
    market.run()
    assert [o.status for o in market.ledger.orders.values()] == [OrderStatus.FILLED] * 2
    assert market.venue._working == []
