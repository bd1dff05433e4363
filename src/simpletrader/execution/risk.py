"""Pre-trade risk checks (DESIGN.md §5), run by the execution worker before any connector.

Because they run in the worker and not in the venue, a live exchange connector keeps them.
Every rule is off unless its limit is set; a violation rejects the order with the rule's name
(``RISK_MAX_ORDER_NOTIONAL`` ...) and the values that broke it. Orders that only reduce a
position are never blocked: protective orders, closes and unwinds must always get out.

Prices are estimates at submission: the limit or stop price, or the last close for a market
order. Notionals are in the account currency (quantity x price x multiplier).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from simpletrader.core.enums import Side

if TYPE_CHECKING:
    from simpletrader.data.instruments import Instrument

ZERO = Decimal(0)

MAX_POSITION = "RISK_MAX_POSITION_PER_SYMBOL"
MAX_GROSS = "RISK_MAX_GROSS_EXPOSURE"
MAX_ORDER = "RISK_MAX_ORDER_NOTIONAL"
KILL_SWITCH = "RISK_KILL_SWITCH"


class RiskAccount(Protocol):
    """What the checks read of the account (the ledger in a backtest)."""

    @property
    def positions(self) -> Mapping[str, Decimal]: ...
    @property
    def equity_curve(self) -> npt.NDArray[np.float64]: ...
    def equity(self) -> float: ...


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """``max_position_per_symbol`` and ``max_order_notional`` are notionals;
    ``max_gross_exposure`` is a multiple of equity; ``kill_switch_drawdown`` a fraction of the
    peak equity. None turns a rule off."""

    max_position_per_symbol: Decimal | None = None
    max_gross_exposure: Decimal | None = None
    max_order_notional: Decimal | None = None
    kill_switch_drawdown: float | None = None

    @property
    def enabled(self) -> bool:
        return (
            self.max_position_per_symbol is not None
            or self.max_gross_exposure is not None
            or self.max_order_notional is not None
            or self.kill_switch_drawdown is not None
        )


class PreTradeRisk:
    """Checks one order against the limits. The kill switch, once tripped, stays tripped."""

    __slots__ = (
        "_account",
        "_instruments",
        "_max_drawdown",
        "_peak",
        "_price",
        "_scanned",
        "limits",
        "tripped",
    )

    def __init__(
        self,
        limits: RiskLimits,
        account: RiskAccount,
        instruments: Mapping[str, Instrument],
        price: Callable[[str], float],
    ) -> None:
        self.limits = limits
        self._account = account
        self._instruments = instruments
        self._price = price
        self.tripped = False
        self._scanned = 0
        self._peak = float("-inf")
        self._max_drawdown = 0.0

    def max_drawdown(self) -> float:
        """The deepest drawdown from a running peak over the bars marked so far (a fraction).

        The equity curve is scanned incrementally, only when an order is checked, so the
        switch sees a drawdown that recovered before the next entry and costs nothing per bar.
        """
        curve = self._account.equity_curve
        segment = curve[self._scanned :]
        if len(segment):
            unmarked = np.isnan(segment)
            if unmarked.any():
                segment = segment[: int(unmarked.argmax())]
        if len(segment):
            peaks = np.maximum.accumulate(np.maximum(segment, self._peak))
            with np.errstate(divide="ignore", invalid="ignore"):
                depth = np.where(peaks > 0, 1.0 - segment / peaks, 0.0)
            self._max_drawdown = max(self._max_drawdown, float(depth.max()))
            self._peak = float(peaks[-1])
            self._scanned += len(segment)
        return self._max_drawdown

    def check(self, symbol: str, side: Side, quantity: Decimal, price: Decimal) -> str | None:
        """The violated rule with its figures, or None when the order may go.

        ``price`` is the order's estimated price. An order that only reduces the symbol's
        position passes every rule.
        """
        limits = self.limits
        positions = self._account.positions
        net = positions.get(symbol, ZERO)
        signed = quantity if side is Side.BUY else -quantity
        after = net + signed
        if abs(after) <= abs(net) and after * net >= 0:
            return None
        if limits.kill_switch_drawdown is not None:
            drawdown = self.max_drawdown()
            if self.tripped or drawdown >= limits.kill_switch_drawdown:
                self.tripped = True
                return (
                    f"{KILL_SWITCH} drawdown {drawdown:.2%} reached the limit "
                    f"{limits.kill_switch_drawdown:.2%}: no new entries"
                )
        multiplier = self._instruments[symbol].multiplier
        if limits.max_order_notional is not None:
            notional = quantity * price * multiplier
            if notional > limits.max_order_notional:
                return f"{MAX_ORDER} notional {notional:.2f} > limit {limits.max_order_notional}"
        if limits.max_position_per_symbol is not None:
            position = abs(after) * price * multiplier
            if position > limits.max_position_per_symbol:
                return (
                    f"{MAX_POSITION} {symbol} position notional {position:.2f} > limit "
                    f"{limits.max_position_per_symbol}"
                )
        if limits.max_gross_exposure is not None:
            gross = abs(after) * price * multiplier
            for other, units in positions.items():
                if other != symbol and units:
                    mark = Decimal(repr(self._price(other)))
                    gross += abs(units) * mark * self._instruments[other].multiplier
            equity = Decimal(repr(self._account.equity()))
            allowed = limits.max_gross_exposure * equity
            if gross > allowed:
                return (
                    f"{MAX_GROSS} gross exposure {gross:.2f} > {limits.max_gross_exposure} x "
                    f"equity {equity:.2f}"
                )
        return None
