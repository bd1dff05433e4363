"""Seeded fault injection in the simulated venue: rejects, partial fills, refused cancels and
outage windows, deterministic for a seed with one stream per kind of fault."""

from __future__ import annotations

from decimal import Decimal

import pytest
from execution_harness import Market, Row, bars, batch, d, flat, new_trade

from simpletrader.core.enums import OrderStatus, OrderType, Side
from simpletrader.core.errors import ConfigError
from simpletrader.execution.connectors.simulated import VenueConfig
from simpletrader.execution.faults import FaultConfig, FaultInjector, OutageWindow


def faulty(rows: list[Row], seed: int = 1, **kw: object) -> Market:
    config = VenueConfig(faults=FaultConfig(**kw), seed=seed)  # type: ignore[arg-type]
    return Market({"X": bars("X", rows)}, config=config)


def test_reject_probability_one_rejects_every_submission() -> None:
    market = faulty(flat(100, 4), reject_probability=1.0)
    market.at(0, batch([new_trade("X"), new_trade("X")], created_ns=market.close_ns(0)))
    market.run()
    reasons = {o.status_reason for o in market.ledger.orders.values()}
    assert reasons == {"FAULT_INJECTED_REJECT"}
    assert market.ledger.fills == []


def test_partial_fills_leave_the_rest_working_until_filled() -> None:
    market = faulty(flat(100, 12), partial_fill_probability=1.0)
    market.at(0, batch([new_trade("X", Side.BUY, 50)], created_ns=market.close_ns(0)))
    market.run()
    quantities = [f.quantity for f in market.ledger.fills]
    assert len(quantities) > 1
    assert sum(quantities) == d(50)
    (order,) = market.ledger.orders.values()
    assert order.status is OrderStatus.FILLED


def test_refused_cancels_are_retried_until_the_venue_honours_one() -> None:
    market = faulty(flat(100, 12), seed=3, cancel_failure_probability=0.6)
    leg = new_trade("X", Side.BUY, 5, order_type=OrderType.LIMIT, limit=50)
    market.at(0, batch([leg], timeout=30, created_ns=market.close_ns(0)))
    market.run()
    refused = market.records("order_cancel_refused")
    (order,) = market.ledger.orders.values()
    assert order.status is OrderStatus.CANCELLED
    assert len(refused) >= 1  # seed 3 refuses at least once
    assert not market.worker.coordinator.busy


def test_an_outage_rejects_submissions_and_refuses_cancels_but_resting_orders_still_fill() -> None:
    rows: list[Row] = [*flat(100, 3), (100, 100, 95, 100), *flat(100, 2)]
    probe = Market({"X": bars("X", rows)})
    outage = OutageWindow(probe.close_ns(1), probe.open_ns(5))
    market = faulty(rows, outages=(outage,))
    resting = new_trade("X", Side.BUY, 5, order_type=OrderType.LIMIT, limit=96)
    market.at(0, batch([resting], created_ns=market.close_ns(0)))
    market.at(2, batch([new_trade("X")], created_ns=market.close_ns(2)))
    market.run()
    first, second = market.ledger.orders.values()
    assert first.status is OrderStatus.FILLED  # matched during the outage
    assert (second.status, second.status_reason) == (
        OrderStatus.REJECTED,
        "VENUE_UNAVAILABLE (outage)",
    )


def test_faults_can_be_limited_to_some_symbols() -> None:
    config = VenueConfig(faults=FaultConfig(reject_probability=1.0, symbols=frozenset({"Y"})))
    market = Market({"X": bars("X", flat(100, 3)), "Y": bars("Y", flat(100, 3))}, config=config)
    market.at(0, batch([new_trade("X"), new_trade("Y")], created_ns=market.close_ns(0)))
    market.run()
    by_symbol = {o.symbol: o.status for o in market.ledger.orders.values()}
    assert by_symbol == {"X": OrderStatus.FILLED, "Y": OrderStatus.REJECTED}


def test_faults_are_deterministic_for_a_seed_and_their_streams_independent() -> None:
    def partials(config: FaultConfig, seed: int) -> list[Decimal]:
        injector = FaultInjector(config, seed)
        out = []
        for _ in range(40):
            injector.rejection("X", 0)
            out.append(injector.partial("X", d(10), d(1)))
        return out

    base = partials(FaultConfig(partial_fill_probability=0.5), 7)
    assert base == partials(FaultConfig(partial_fill_probability=0.5), 7)
    assert base != partials(FaultConfig(partial_fill_probability=0.5), 8)
    # Turning rejects on draws from the reject stream only: the partial fills do not move.
    with_rejects = FaultConfig(partial_fill_probability=0.5, reject_probability=0.3)
    assert partials(with_rejects, 7) == base


@pytest.mark.parametrize("field", ["reject_probability", "partial_fill_probability"])
def test_a_probability_outside_zero_one_is_a_config_error(field: str) -> None:
    with pytest.raises(ConfigError, match=f"execution.faults.{field}: 1.5 is not in"):
        FaultConfig(**{field: 1.5})  # type: ignore[arg-type]
