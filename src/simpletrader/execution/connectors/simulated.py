"""The simulated venue: deterministic fills on bars, with costs (DESIGN.md §5).

Matching happens at a bar's open and through its range, orders in submission order. Cash is
checked at fill at the fill price; equity-fraction orders are re-sized from the fill price and
clipped to what cash allows before that check. Random streams (slippage noise, faults) are
seeded and separate from the id stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from simpletrader.core.enums import Liquidity, OrderType, Side, TimeInForce
from simpletrader.execution.connectors.base import (
    Listener,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFillReport,
    OrderRejected,
    OrderRequest,
    VenueReport,
)

if TYPE_CHECKING:
    from simpletrader.data.bars import Bars
    from simpletrader.data.instruments import Instrument
    from simpletrader.ledger.ledger import Ledger

_BPS = Decimal("0.0001")
_NS_PER_DAY = 86_400 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class CostModel:
    """Fees (bps of notional + per unit, with a minimum), half-spread and slippage on takers."""

    fee_bps: Decimal = Decimal(0)
    fee_per_unit: Decimal = Decimal(0)
    fee_minimum: Decimal = Decimal(0)
    spread_bps: Decimal = Decimal(0)
    slippage_bps: Decimal = Decimal(0)
    fee_asset: str = "USD"

    def fee(self, quantity: Decimal, price: Decimal, multiplier: Decimal) -> Decimal:
        raw = quantity * price * multiplier * self.fee_bps * _BPS + quantity * self.fee_per_unit
        fee = max(raw, self.fee_minimum) if raw > 0 or self.fee_minimum > 0 else raw
        return fee.quantize(Decimal("0.00000001"), rounding=ROUND_HALF_UP)

    @property
    def taker_markup(self) -> Decimal:
        """Fraction added to a taker's price: half the spread plus slippage."""
        return (self.spread_bps / 2 + self.slippage_bps) * _BPS


@dataclass(frozen=True, slots=True)
class VenueConfig:
    latency_ns: int = 0
    costs: CostModel = CostModel()


class _Working:
    """A resting order inside the venue."""

    __slots__ = ("eligible_at", "filled", "passes", "request", "triggered")

    def __init__(self, request: OrderRequest, eligible_at: int) -> None:
        self.request = request
        self.eligible_at = eligible_at
        self.filled = Decimal(0)
        self.triggered = False
        self.passes = 0


class SimulatedVenue:
    """A connector that fills against bars. The engine drives it bar by bar."""

    def __init__(
        self,
        bars: Mapping[str, Bars],
        instruments: Mapping[str, Instrument],
        account: Ledger,
        config: VenueConfig | None = None,
    ) -> None:
        self._bars = dict(bars)
        self._instruments = dict(instruments)
        self._account = account
        self.config = config or VenueConfig()
        self._listener: Listener | None = None
        self._working: list[_Working] = []
        self._by_id: dict[str, _Working] = {}
        symbol0 = next(iter(bars))
        self._timestamps = bars[symbol0].timestamps
        self._o = {s: b.open.data for s, b in bars.items()}
        self._h = {s: b.high.data for s, b in bars.items()}
        self._l = {s: b.low.data for s, b in bars.items()}
        self._c = {s: b.close.data for s, b in bars.items()}

    # -- Connector ----------------------------------------------------------------------------
    def connect(self, listener: Listener) -> None:
        self._listener = listener

    def _emit(self, report: VenueReport) -> None:
        assert self._listener is not None, "connect() the venue before trading"
        self._listener(report)

    def submit(self, order: OrderRequest) -> None:
        at = order.submitted_at
        instrument = self._instruments.get(order.symbol)
        if instrument is None or order.symbol not in self._bars:
            self._emit(OrderRejected(order.order_id, f"UNKNOWN_SYMBOL {order.symbol}", at))
            return
        if order.quantity <= 0:
            self._emit(OrderRejected(order.order_id, "INVALID_QUANTITY", at))
            return
        if order.quantity < instrument.lot_size:
            self._emit(
                OrderRejected(
                    order.order_id,
                    f"BELOW_MIN_LOT {order.quantity} < lot {instrument.lot_size}",
                    at,
                )
            )
            return
        self._emit(OrderAccepted(order.order_id, at))
        working = _Working(order, at + self.config.latency_ns)
        self._working.append(working)
        self._by_id[order.order_id] = working

    def cancel(self, order_id: str, reason: str) -> None:
        working = self._by_id.pop(order_id, None)
        if working is None:
            return
        self._working.remove(working)
        self._emit(OrderCancelled(order_id, reason, working.request.submitted_at))

    def replace(
        self,
        order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        working = self._by_id[order_id]
        req = working.request
        if quantity is not None:
            req.quantity = quantity
        if limit_price is not None:
            req.limit_price = limit_price
        if stop_price is not None:
            req.stop_price = stop_price

    # -- matching -------------------------------------------------------------------------------
    @property
    def has_working(self) -> bool:
        return bool(self._working)

    def working_ids(self) -> list[str]:
        return [w.request.order_id for w in self._working]

    def match_open(self, index: int) -> None:
        """Match every eligible working order against bar ``index`` (open, then range)."""
        ts = int(self._timestamps[index])
        for working in list(self._working):
            if working.request.order_id not in self._by_id:
                continue  # cancelled by a reaction to an earlier fill on this bar
            req = working.request
            if working.eligible_at > ts or req.fill_on_close:
                continue
            if self._expired(req, ts):
                self._remove(working)
                self._emit(OrderExpired(req.order_id, ts))
                continue
            working.passes += 1
            self._match(working, index, ts)
            if (
                req.time_in_force is TimeInForce.IOC
                and req.order_id in self._by_id
                and working.passes >= 1
            ):
                self._remove(working)
                self._emit(OrderCancelled(req.order_id, "IOC_UNFILLED", ts))

    def match_close(self, index: int, close_ns: int) -> None:
        """Fill the ``fill_on_close`` market orders at bar ``index``'s close."""
        for working in list(self._working):
            req = working.request
            if req.fill_on_close and req.order_type is OrderType.MARKET:
                price = self._c[req.symbol][index]
                self._fill_market(working, index, price, close_ns)

    def _expired(self, req: OrderRequest, ts: int) -> bool:
        if req.time_in_force is TimeInForce.GTD and req.expire_at is not None:
            return ts >= req.expire_at
        if req.time_in_force is TimeInForce.DAY:
            return ts // _NS_PER_DAY > req.submitted_at // _NS_PER_DAY
        return False

    def _match(self, working: _Working, index: int, ts: int) -> None:
        req = working.request
        sym = req.symbol
        o = self._o[sym][index]
        kind = req.order_type
        if kind is OrderType.MARKET:
            self._fill_market(working, index, o, ts)
            return
        h = self._h[sym][index]
        lo = self._l[sym][index]
        buy = req.side is Side.BUY
        if kind is OrderType.STOP_LIMIT and not working.triggered:
            assert req.stop_price is not None
            stop = float(req.stop_price)
            if (h >= stop) if buy else (lo <= stop):
                working.triggered = True  # rests as a limit from the next bar
            return
        if kind is OrderType.STOP:
            assert req.stop_price is not None
            stop = float(req.stop_price)
            if buy and h >= stop:
                self._fill_taker(working, index, max(o, stop), ts)
            elif not buy and lo <= stop:
                self._fill_taker(working, index, min(o, stop), ts)
            return
        assert req.limit_price is not None
        limit = float(req.limit_price)
        if buy and lo <= limit:
            if o <= limit:
                self._fill(working, index, Decimal(repr(o)), Liquidity.TAKER, ts)
            else:
                self._fill(working, index, req.limit_price, Liquidity.MAKER, ts)
        elif not buy and h >= limit:
            if o >= limit:
                self._fill(working, index, Decimal(repr(o)), Liquidity.TAKER, ts)
            else:
                self._fill(working, index, req.limit_price, Liquidity.MAKER, ts)

    def _fill_market(self, working: _Working, index: int, price: float, ts: int) -> None:
        self._fill_taker(working, index, price, ts)

    def _fill_taker(self, working: _Working, index: int, price: float, ts: int) -> None:
        base = Decimal(repr(price))
        markup = self.config.costs.taker_markup
        if markup:
            # Spread and slippage move the price off the data's grid: round back to the tick.
            sign = 1 if working.request.side is Side.BUY else -1
            instrument = self._instruments[working.request.symbol]
            base = instrument.round_price(base * (1 + sign * markup))
        self._fill(working, index, base, Liquidity.TAKER, ts)

    def _fill(
        self, working: _Working, index: int, price: Decimal, liquidity: Liquidity, ts: int
    ) -> None:
        req = working.request
        instrument = self._instruments[req.symbol]
        multiplier = instrument.multiplier
        costs = self.config.costs
        quantity = req.quantity - working.filled
        resized: Decimal | None = None
        if req.equity_fraction is not None and working.filled == 0:
            equity = Decimal(repr(self._account.equity_at(self._marks(index))))
            quantity = instrument.floor_quantity(
                Decimal(repr(req.equity_fraction)) * equity / (price * multiplier)
            )
        if req.reduce_only:
            held = abs(self._account.net(req.symbol))
            quantity = min(quantity, instrument.floor_quantity(held))
            if quantity <= 0:
                self._remove(working)
                self._emit(OrderCancelled(req.order_id, "REDUCE_ONLY_NOTHING_TO_REDUCE", ts))
                return
        if req.side is Side.BUY and not req.reduce_only:
            cash = self._account.cash
            unit_cost = price * multiplier * (1 + costs.fee_bps * _BPS) + costs.fee_per_unit
            affordable = instrument.floor_quantity(
                max(cash - costs.fee_minimum, Decimal(0)) / unit_cost
            )
            if req.equity_fraction is not None:
                quantity = min(quantity, affordable)
            if quantity < instrument.lot_size or quantity > affordable:
                self._remove(working)
                self._emit(
                    OrderRejected(
                        req.order_id,
                        f"INSUFFICIENT_FUNDS need {quantity * price * multiplier:.2f}, "
                        f"cash {cash:.2f}",
                        ts,
                    )
                )
                return
        if req.equity_fraction is not None and working.filled == 0 and quantity != req.quantity:
            resized = quantity
            req.quantity = quantity
        fee = costs.fee(quantity, price, multiplier)
        working.filled += quantity
        if working.filled >= req.quantity:
            self._remove(working)
        self._emit(
            OrderFillReport(
                req.order_id, quantity, price, fee, costs.fee_asset, liquidity, ts, resized
            )
        )

    def _marks(self, index: int) -> dict[str, float]:
        return {s: self._o[s][index] for s in self._o}

    def _remove(self, working: _Working) -> None:
        self._by_id.pop(working.request.order_id, None)
        self._working.remove(working)
