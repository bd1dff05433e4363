"""Tradable instruments: the tick, lot and notional grid that prices and quantities snap to.

The simulated venue rounds every price to the tick and floors every quantity to the lot
(DESIGN.md §5). ``Instrument`` is a boundary object (blueprints, reports), hence pydantic; the
``*_float`` methods are the hot-path variants used per fill.
"""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

# A float quantity this close below a whole number of lots counts as that number: 0.3 / 0.1 is
# 2.9999999999999996 in binary and must floor to 3 lots, not 2. The relative part covers large
# counts, where one binary rounding step exceeds the absolute part.
_LOT_EPSILON = 1e-9
_LOT_RELATIVE_EPSILON = 1e-12


class Instrument(BaseModel):
    """One instrument's trading grid.

    ``tick_size`` is the price increment, ``lot_size`` the quantity increment, ``min_notional``
    the smallest order value (price x quantity x multiplier) a venue accepts, ``multiplier`` the
    contract size (1 for spot and cash equities) and ``currency`` the quote currency.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    symbol: str = Field(min_length=1)
    tick_size: Decimal = Field(gt=0)
    lot_size: Decimal = Field(gt=0)
    min_notional: Decimal = Field(ge=0)
    multiplier: Decimal = Field(default=Decimal(1), gt=0)
    currency: str = Field(default="USD", min_length=1)

    # Float copies of the grid, computed once so the float methods cost a few float operations.
    _tick_float: float = PrivateAttr(default=0.0)
    _lot_float: float = PrivateAttr(default=0.0)
    _tick_digits: int = PrivateAttr(default=0)
    _lot_digits: int = PrivateAttr(default=0)

    def model_post_init(self, context: Any, /) -> None:
        self._tick_float = float(self.tick_size)
        self._lot_float = float(self.lot_size)
        self._tick_digits = _decimal_places(self.tick_size)
        self._lot_digits = _decimal_places(self.lot_size)

    def round_price(self, price: Decimal) -> Decimal:
        """``price`` rounded to the nearest tick (exact ties go to the even tick)."""
        ticks = (price / self.tick_size).to_integral_value(rounding=ROUND_HALF_EVEN)
        return ticks * self.tick_size

    def floor_quantity(self, quantity: Decimal) -> Decimal:
        """``quantity`` rounded down to a whole number of lots, towards zero.

        Towards zero, so a negative (sell) quantity never grows in size.
        """
        lots = (quantity / self.lot_size).to_integral_value(rounding=ROUND_DOWN)
        return lots * self.lot_size

    def round_price_float(self, price: float) -> float:
        """Float variant of :meth:`round_price` for the hot path.

        The result is the float nearest to the exact multiple of the tick.
        """
        ticks = round(price / self._tick_float)
        return round(ticks * self._tick_float, self._tick_digits)

    def floor_quantity_float(self, quantity: float) -> float:
        """Float variant of :meth:`floor_quantity` for the hot path (per fill).

        A quantity within 1e-9 lots (plus 1e-12 of itself) below a whole lot counts as that
        lot, so binary rounding noise (0.3 / 0.1 = 2.9999999999999996) does not lose a lot.
        The result is the float nearest to the exact multiple of the lot.
        """
        lots_exact = abs(quantity) / self._lot_float
        lots = math.floor(lots_exact + _LOT_EPSILON + lots_exact * _LOT_RELATIVE_EPSILON)
        floored = round(lots * self._lot_float, self._lot_digits)
        return -floored if quantity < 0 else floored


def _decimal_places(step: Decimal) -> int:
    """Digits after the point that ``step`` needs (0 for whole or larger steps)."""
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # a finite Decimal, guaranteed by the field validators
    return max(0, -exponent)


# Why these values: equities and the two indices trade in cents and whole units (an index is
# treated as one tradable unit, like a cash-settled index CFD); EUR/USD quotes to the pip
# fraction (0.00001) in whole units of EUR; BTC/USD trades in cents with 0.0001 BTC lots.
_DEFAULTS: dict[str, tuple[str, str]] = {
    "GOOG": ("0.01", "1"),
    "SPX": ("0.01", "1"),
    "NASDAQ": ("0.01", "1"),
    "EURUSD": ("0.00001", "1"),
    "BTCUSD": ("0.01", "0.0001"),
}
_FALLBACK = ("0.01", "1")


def default_instrument(symbol: str) -> Instrument:
    """The default instrument for ``symbol``.

    Known symbols (GOOG, SPX, NASDAQ, EURUSD, BTCUSD; matched case-insensitively) get their own
    grid; any other symbol gets tick 0.01, lot 1, min_notional 0, multiplier 1, currency USD.
    """
    tick, lot = _DEFAULTS.get(symbol.upper(), _FALLBACK)
    return Instrument(
        symbol=symbol,
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        min_notional=Decimal(0),
    )
