"""Instrument: the tick and lot grid, its defaults and its float fast paths (DESIGN.md §5)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from simpletrader.data import Instrument, default_instrument


@pytest.mark.parametrize(
    ("symbol", "tick", "lot"),
    [
        ("GOOG", "0.01", "1"),
        ("SPX", "0.01", "1"),
        ("NASDAQ", "0.01", "1"),
        ("EURUSD", "0.00001", "1"),
        ("BTCUSD", "0.01", "0.0001"),
        ("UNKNOWN", "0.01", "1"),
    ],
)
def test_default_instruments(symbol: str, tick: str, lot: str) -> None:
    instrument = default_instrument(symbol)
    assert instrument == Instrument(
        symbol=symbol,
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        min_notional=Decimal(0),
        multiplier=Decimal(1),
        currency="USD",
    )


def test_default_lookup_ignores_case_but_keeps_the_symbol() -> None:
    instrument = default_instrument("btcusd")
    assert (instrument.symbol, instrument.lot_size) == ("btcusd", Decimal("0.0001"))


def test_instrument_is_frozen_and_strict() -> None:
    instrument = default_instrument("GOOG")
    with pytest.raises(ValidationError):
        instrument.tick_size = Decimal("0.1")  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        Instrument(symbol="X", tick_size=1, lot_size=1, min_notional=0, venue="nyse")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("field", "value"),
    [("tick_size", 0), ("lot_size", -1), ("min_notional", -1), ("multiplier", 0)],
)
def test_grid_values_must_be_positive(field: str, value: int) -> None:
    fields: dict[str, object] = {"symbol": "X", "tick_size": 1, "lot_size": 1, "min_notional": 0}
    fields[field] = value
    with pytest.raises(ValidationError, match=field):
        Instrument(**fields)


def test_float_input_goes_through_its_shortest_repr() -> None:
    instrument = Instrument(symbol="X", tick_size=0.1, lot_size=0.001, min_notional=5.5)
    assert (instrument.tick_size, instrument.lot_size) == (Decimal("0.1"), Decimal("0.001"))


def test_round_price_goes_to_the_nearest_tick() -> None:
    eurusd = default_instrument("EURUSD")
    assert eurusd.round_price(Decimal("1.123456")) == Decimal("1.12346")
    assert eurusd.round_price(Decimal("1.123454")) == Decimal("1.12345")
    quarter = Instrument(symbol="ES", tick_size=Decimal("0.25"), lot_size=1, min_notional=0)
    assert quarter.round_price(Decimal("100.13")) == Decimal("100.25")
    assert quarter.round_price(Decimal("100.12")) == Decimal("100.00")


def test_floor_quantity_rounds_towards_zero_to_the_lot() -> None:
    btc = default_instrument("BTCUSD")
    assert btc.floor_quantity(Decimal("0.12349")) == Decimal("0.1234")
    assert btc.floor_quantity(Decimal("-0.12349")) == Decimal("-0.1234")
    assert default_instrument("GOOG").floor_quantity(Decimal("9.99")) == Decimal(9)


def test_float_variants_absorb_binary_noise() -> None:
    lot_tenth = Instrument(
        symbol="X", tick_size=Decimal("0.1"), lot_size=Decimal("0.1"), min_notional=0
    )
    assert lot_tenth.floor_quantity_float(0.1 + 0.2) == 0.3
    assert lot_tenth.floor_quantity_float(-0.35) == -0.3
    assert lot_tenth.round_price_float(0.1 + 0.2) == 0.3
    assert default_instrument("EURUSD").round_price_float(1.123456) == 1.12346


LOTS = [Decimal("1"), Decimal("0.1"), Decimal("0.0001"), Decimal("0.25"), Decimal("100")]


@given(
    lot=st.sampled_from(LOTS),
    quantity=st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False),
)
def test_float_variants_match_the_decimal_ones(lot: Decimal, quantity: Decimal) -> None:
    instrument = Instrument(symbol="X", tick_size=lot, lot_size=lot, min_notional=Decimal(0))
    assert instrument.floor_quantity_float(float(quantity)) == float(
        instrument.floor_quantity(quantity)
    )
    # An exact tie in decimal is rarely one in binary, so ties may go either way.
    if abs(quantity / lot) % 1 != Decimal("0.5"):
        assert instrument.round_price_float(float(quantity)) == float(
            instrument.round_price(quantity)
        )
