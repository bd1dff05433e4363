"""The simulated venue: deterministic fills on bars, with costs (DESIGN.md §5).

The engine drives it bar by bar: :meth:`SimulatedVenue.match_open` matches every eligible
working order at a bar's open and through its range, orders in submission order;
:meth:`SimulatedVenue.match_close` fills ``fill_on_close`` market orders at the close;
:meth:`SimulatedVenue.charge_carry` charges borrow on shorts once per UTC day. Each pass is
bracketed by ``MatchingStarted`` / ``MatchingFinished`` reports.

Fill rules (buy side; sell mirrored):

- MARKET fills at the open of the first bar whose open is at or after submission + latency,
  plus half the spread and the slippage, as taker (or at the close with ``fill_on_close``).
- LIMIT fills when low <= limit, at min(open, limit): taker at the open, maker otherwise.
- STOP triggers when high >= stop and fills at max(open, stop) plus half-spread and slippage.
- STOP_LIMIT triggers like a stop and rests as a limit from the next bar.
- An OCO pair with both levels inside one bar: a level the open already passed fills at the
  open; otherwise the adverse one (the stop) fills. A complete fill cancels the sibling.
- Orders submitted in reaction to a fill at a bar's open (the protective pair an entry arms)
  are matched against the rest of that bar; any other order submitted during a pass waits for
  the next bar.

Cash and margin are checked at fill, at the fill price; an equity-fraction order is first
re-sized from the fill price and clipped to what they allow. A reduce-only fill is clipped to
its plan's remaining |net|. Prices that costs move off the data's grid are rounded to the
tick; order prices are rounded to the tick and quantities floored to the lot at submission.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from random import Random
from typing import TYPE_CHECKING, Protocol

import numpy as np

from simpletrader.core.enums import Liquidity, OrderType, Side, TimeInForce
from simpletrader.core.errors import ConfigError
from simpletrader.execution.connectors.base import (
    CancelRefused,
    CostCharged,
    Listener,
    MatchingFinished,
    MatchingStarted,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFillReport,
    OrderRejected,
    OrderReplaced,
    OrderRequest,
    ReplaceRefused,
    VenueReport,
)
from simpletrader.execution.faults import FaultConfig, FaultInjector

if TYPE_CHECKING:
    from simpletrader.core.clock import Clock
    from simpletrader.data.bars import Bars
    from simpletrader.data.instruments import Instrument

ZERO = Decimal(0)
ONE = Decimal(1)
_BPS = Decimal("0.0001")
_FEE_QUANTUM = Decimal("0.00000001")
_NO_FEE = Decimal(0).quantize(_FEE_QUANTUM)
_NS_PER_DAY = 86_400 * 1_000_000_000
NEVER_NS = 2**62
"""``next_charge_ns`` when no borrow charge is due (beyond any real timestamp)."""
_DAYS_PER_YEAR = Decimal(365)
_EXPIRING = frozenset({TimeInForce.DAY, TimeInForce.GTD})
# Read for every order and fill: under Python 3.11 a member read from its enum class costs ~900
# instructions (EnumType.__getattr__'s slot hook), a module global ~20.
_MARKET = OrderType.MARKET
_LIMIT = OrderType.LIMIT
_STOP = OrderType.STOP
_STOP_LIMIT = OrderType.STOP_LIMIT
_BUY = Side.BUY
_SELL = Side.SELL
_IOC = TimeInForce.IOC
_GTD = TimeInForce.GTD
_DAY = TimeInForce.DAY
_TAKER = Liquidity.TAKER
_MAKER = Liquidity.MAKER


class PositionLike(Protocol):
    @property
    def net(self) -> Decimal: ...


class Account(Protocol):
    """What the venue reads of the account it trades for (the ledger in a backtest)."""

    @property
    def cash(self) -> Decimal: ...
    @property
    def positions(self) -> Mapping[str, Decimal]: ...
    @property
    def plans(self) -> Mapping[str, PositionLike]: ...


@dataclass(frozen=True, slots=True)
class CostModel:
    """Trading and carrying costs.

    Fees: ``fee_bps`` of notional plus ``fee_per_unit`` per unit, at least ``fee_minimum`` per
    fill, rounded half-up to 1e-8 of the account currency. Takers (market and
    triggered stop orders) pay half of ``spread_bps`` plus ``slippage_bps``, plus a uniform
    draw in ±``slippage_noise_bps`` from the slippage stream. Shorts pay
    ``borrow_bps_per_year`` of their value (at the last close) per calendar day, / 365.
    """

    fee_bps: Decimal = ZERO
    fee_per_unit: Decimal = ZERO
    fee_minimum: Decimal = ZERO
    spread_bps: Decimal = ZERO
    slippage_bps: Decimal = ZERO
    slippage_noise_bps: Decimal = ZERO
    borrow_bps_per_year: Decimal = ZERO
    fee_asset: str = "USD"

    def fee(self, quantity: Decimal, price: Decimal, multiplier: Decimal) -> Decimal:
        """The fee of one fill."""
        if not (self.fee_bps or self.fee_per_unit or self.fee_minimum):
            return _NO_FEE  # one shared zero, not a new Decimal kept by every fill record
        raw = quantity * price * multiplier * self.fee_bps * _BPS + quantity * self.fee_per_unit
        return max(raw, self.fee_minimum).quantize(_FEE_QUANTUM, rounding=ROUND_HALF_UP)

    @property
    def taker_markup(self) -> Decimal:
        """Fraction added to a taker's price: half the spread plus the fixed slippage."""
        return (self.spread_bps / 2 + self.slippage_bps) * _BPS


@dataclass(frozen=True, slots=True)
class MarginModel:
    """Equity must cover ``long`` x long notional + ``short`` x short notional after a fill.

    1 and 1 (the default) is a cash account that may short up to its equity; 0.5 on longs
    allows 2x leverage. Checked only on fills that increase a position.
    """

    long: Decimal = ONE
    short: Decimal = ONE

    def __post_init__(self) -> None:
        if self.long <= 0 or self.short <= 0:
            raise ConfigError(
                f"execution.margin: requirements must be > 0 (long {self.long}, short {self.short})"
            )


@dataclass(frozen=True, slots=True)
class VenueConfig:
    """``participation_cap``: at most this fraction of a bar's volume fills per order and bar
    (None: no cap; a bar with zero volume has no volume data and is not capped)."""

    latency_ns: int = 0
    costs: CostModel = field(default_factory=CostModel)
    margin: MarginModel = field(default_factory=MarginModel)
    participation_cap: float | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.latency_ns < 0:
            raise ConfigError(f"execution.venue.latency: {self.latency_ns} ns must be >= 0")
        cap = self.participation_cap
        if cap is not None and not 0.0 < cap <= 1.0:
            raise ConfigError(f"execution.venue.participation_cap: {cap} is not in (0, 1]")


class _Working:
    """A resting order inside the venue.

    ``level`` / ``up`` cache the price test that can make the order act on a bar (a limit or
    stop reached when ``high >= level`` if ``up``, else ``low <= level``; None for market
    orders), so a resting order far from the market costs a comparison per bar.
    """

    __slots__ = (
        "active",
        "afforded",
        "close_index",
        "eligible_at",
        "filled",
        "level",
        "request",
        "resized",
        "seen",
        "triggered",
        "unreported",
        "up",
    )

    def __init__(self, request: OrderRequest, eligible_at: int) -> None:
        self.request = request
        self.eligible_at = eligible_at
        self.filled = ZERO
        self.triggered = False
        self.resized = False
        self.unreported = False
        self.active = True
        self.seen = -1
        self.close_index = -1
        self.level: float | None = None
        self.up = False
        self.afforded: Decimal | None = None
        """The quantity re-sizing found affordable on this very fill (its margin is checked)."""
        if request.order_type is not _MARKET:
            self.cache_level()

    def cache_level(self) -> None:
        req = self.request
        buy = req.side is _BUY
        kind = req.order_type
        if kind is _LIMIT or (kind is _STOP_LIMIT and self.triggered):
            assert req.limit_price is not None
            self.level, self.up = float(req.limit_price), not buy
        elif kind is _STOP or kind is _STOP_LIMIT:
            assert req.stop_price is not None
            self.level, self.up = float(req.stop_price), buy
        else:
            self.level = None


class _Spec:
    """The numbers of an instrument the venue reads on every order and fill, copied once: a
    field of a pydantic model costs about five times a slot to read (instruments are frozen)."""

    __slots__ = ("floor", "lot", "min_notional", "multiplier")

    def __init__(self, instrument: Instrument) -> None:
        self.lot = instrument.lot_size
        self.multiplier = instrument.multiplier
        self.min_notional = instrument.min_notional
        self.floor = instrument.floor_quantity


class SimulatedVenue:
    """A connector that fills against bars, deterministic for ``config.seed``."""

    def __init__(
        self,
        bars: Mapping[str, Bars],
        instruments: Mapping[str, Instrument],
        account: Account,
        config: VenueConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._instruments = dict(instruments)
        self._specs = {symbol: _Spec(i) for symbol, i in self._instruments.items()}
        self._account = account
        self.config = config or VenueConfig()
        self._clock = clock
        self._listener: Listener = _unconnected
        self._working: list[_Working] = []
        self._by_id: dict[str, _Working] = {}
        self._oco: dict[str, list[_Working]] = {}
        self.has_working = False
        self._count = 0
        self._symbols = frozenset(bars)
        symbol0 = next(iter(bars))
        # A memoryview hands out plain ints: an array's element would be a NumPy scalar.
        self._timestamps = np.ascontiguousarray(bars[symbol0].timestamps, dtype=np.int64).data
        self._o = {s: b.open.data for s, b in bars.items()}
        self._h = {s: b.high.data for s, b in bars.items()}
        self._l = {s: b.low.data for s, b in bars.items()}
        self._c = {s: b.close.data for s, b in bars.items()}
        self._v = {s: b.volume.data for s, b in bars.items()}
        self.faults = FaultInjector(self.config.faults, self.config.seed)
        self._faulty = self.config.faults.enabled
        costs = self.config.costs
        self._fees = bool(costs.fee_bps or costs.fee_per_unit or costs.fee_minimum)
        self._markup = costs.taker_markup
        self._noise = costs.slippage_noise_bps * _BPS
        # Without spread and slippage a taker fills at the data's price itself.
        self._taker_at_data = not (self._markup or self._noise)
        self._fee_asset = costs.fee_asset
        self._cap = self.config.participation_cap
        self._latency = self.config.latency_ns
        self._slippage_rng = Random(f"{self.config.seed}:venue:slippage")
        self._borrow = costs.borrow_bps_per_year * _BPS / _DAYS_PER_YEAR
        self._shorts: dict[str, tuple[str, int]] = {}
        self.next_charge_ns = NEVER_NS
        self._passes = 0
        self._in_pass = False
        self._pass_ts = 0
        self._pass_index = 0
        self._pass_marks: dict[str, memoryview] = self._o
        self._open_fill = False

    def connect(self, listener: Listener) -> None:
        self._listener = listener

    def _now(self) -> int:
        if self._in_pass:
            return self._pass_ts
        return self._clock.now_ns() if self._clock is not None else 0

    def submit(self, order: OrderRequest) -> None:
        at = order.submitted_at
        spec = self._specs.get(order.symbol)
        if spec is None or order.symbol not in self._symbols:
            self._listener(OrderRejected(order.order_id, f"UNKNOWN_SYMBOL {order.symbol}", at))
            return
        order.quantity = spec.floor(order.quantity)
        if order.quantity < spec.lot:
            self._listener(
                OrderRejected(
                    order.order_id,
                    f"BELOW_MIN_LOT quantity {order.quantity} < lot {spec.lot}",
                    at,
                )
            )
            return
        if order.limit_price is not None:
            order.limit_price = self._instruments[order.symbol].round_price(order.limit_price)
        if order.stop_price is not None:
            order.stop_price = self._instruments[order.symbol].round_price(order.stop_price)
        if self._faulty:
            reason = self.faults.rejection(order.symbol, at)
            if reason is not None:
                self._listener(OrderRejected(order.order_id, reason, at))
                return
        eligible = at + self._latency
        if self._in_pass and not self._open_fill:
            # Sent during a pass but not in reaction to a fill at the open: next bar.
            eligible = max(eligible, self._pass_ts + 1)
        working = _Working(order, eligible)
        self._working.append(working)
        self._by_id[order.order_id] = working
        if order.oco_id is not None:
            self._oco.setdefault(order.oco_id, []).append(working)
        self._count += 1
        self.has_working = True
        self._listener(OrderAccepted(order.order_id, at))

    def cancel(self, order_id: str, reason: str) -> None:
        working = self._by_id.get(order_id)
        if working is None:
            return
        at = self._now()
        if self._faulty:
            refusal = self.faults.cancel_refusal(working.request.symbol, at)
            if refusal is not None:
                self._listener(CancelRefused(order_id, refusal, at))
                return
        self._remove(working)
        self._listener(OrderCancelled(order_id, reason, at))

    def replace(
        self,
        order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        at = self._now()
        working = self._by_id.get(order_id)
        if working is None:
            self._listener(ReplaceRefused(order_id, "UNKNOWN_ORDER not working", at))
            return
        req = working.request
        instrument = self._instruments[req.symbol]
        if self._faulty:
            refusal = self.faults.replace_refusal(req.symbol, at)
            if refusal is not None:
                self._listener(ReplaceRefused(order_id, refusal, at))
                return
        if quantity is not None:
            quantity = instrument.floor_quantity(quantity)
            if quantity <= working.filled:
                self._listener(
                    ReplaceRefused(
                        order_id,
                        f"INVALID_QUANTITY {quantity} <= filled {working.filled}",
                        at,
                    )
                )
                return
            req.quantity = quantity
        if limit_price is not None:
            req.limit_price = instrument.round_price(limit_price)
        if stop_price is not None:
            req.stop_price = instrument.round_price(stop_price)
        working.cache_level()
        self._listener(OrderReplaced(order_id, req.quantity, req.limit_price, req.stop_price, at))

    def set_faults(self, faults: FaultConfig, seed: int | None = None) -> None:
        """Replace the fault injection from now on (fresh streams for ``seed``, by default
        the venue's), e.g. to let a scenario open its positions before the faults begin."""
        self.faults = FaultInjector(faults, self.config.seed if seed is None else seed)
        self._faulty = faults.enabled

    def match_open(self, index: int) -> None:
        """Match every eligible working order against bar ``index`` (open, then range)."""
        ts: int = self._timestamps[index]
        self._begin(index, ts, self._o)
        working_list = self._working
        k = 0
        while k < len(working_list):
            working = working_list[k]
            k += 1
            if not working.active or working.seen == self._passes:
                continue
            req = working.request
            if working.eligible_at > ts or req.fill_on_close:
                continue
            if req.time_in_force in _EXPIRING and self._expired(req, ts):
                self._remove(working)
                self._listener(OrderExpired(req.order_id, ts))
                continue
            working.seen = self._passes
            level = working.level
            if req.oco_id is not None and len(self._oco.get(req.oco_id, ())) > 1:
                self._match_oco(working, index, ts)
            elif level is None or (
                self._h[req.symbol][index] >= level
                if working.up
                else self._l[req.symbol][index] <= level
            ):
                self._match(working, index, ts)
            if req.time_in_force is _IOC and working.active:
                self._remove(working)
                self._listener(OrderCancelled(req.order_id, "IOC_UNFILLED", ts))
        self._end(ts)

    def match_close(self, index: int, close_ns: int) -> None:
        """Fill the ``fill_on_close`` market orders at bar ``index``'s close.

        Orders the reactions to one pass send with ``fill_on_close`` (the next command of a
        sequential batch, say) get another pass at the same close.
        """
        while True:
            due = [
                w
                for w in self._working
                if w.active
                and w.request.fill_on_close
                and w.request.order_type is _MARKET
                and w.request.submitted_at <= close_ns
                and w.close_index != index
            ]
            if not due:
                return
            self._begin(index, close_ns, self._c)
            for working in due:
                if not working.active:
                    continue
                working.close_index = index  # one close pass per bar and order
                req = working.request
                self._fill_taker(working, index, self._c[req.symbol][index], close_ns, False)
                if req.time_in_force is _IOC and working.active:
                    self._remove(working)
                    self._listener(OrderCancelled(req.order_id, "IOC_UNFILLED", close_ns))
            self._end(close_ns)

    def _begin(self, index: int, ts: int, marks: dict[str, memoryview]) -> None:
        self._passes += 1
        self._in_pass = True
        self._pass_ts = ts
        self._pass_index = index
        self._pass_marks = marks
        if len(self._working) > 2 * self._count + 8:
            self._working = [w for w in self._working if w.active]
        self._listener(MatchingStarted(ts))

    def _end(self, ts: int) -> None:
        self._in_pass = False
        if not self._count and self._working:
            # Every order left is inactive: the next pass need not step over them.
            self._working = []
        self._listener(MatchingFinished(ts))

    @staticmethod
    def _expired(req: OrderRequest, ts: int) -> bool:
        tif = req.time_in_force
        if tif is _GTD and req.expire_at is not None:
            return ts >= req.expire_at
        if tif is _DAY:
            return ts // _NS_PER_DAY > req.submitted_at // _NS_PER_DAY
        return False

    def _match_oco(self, working: _Working, index: int, ts: int) -> None:
        """Both-levels rule for a one-cancels-other group met in one bar."""
        req = working.request
        group = [
            w
            for w in self._oco[req.oco_id or ""]
            if w.active
            and w.eligible_at <= ts
            and not w.request.fill_on_close
            and not self._expired(w.request, ts)
        ]
        for w in group:
            w.seen = self._passes
        sym = req.symbol
        o, h, lo = self._o[sym][index], self._h[sym][index], self._l[sym][index]
        at_open = [w for w in group if _reaches(w.request, o, o)]
        if at_open:
            stops = [w for w in at_open if w.request.order_type is not _LIMIT]
            self._match((stops or at_open)[0], index, ts)
            return
        in_range = [w for w in group if _reaches(w.request, h, lo)]
        if len(in_range) > 1:
            stops = [w for w in in_range if w.request.order_type is not _LIMIT]
            self._match((stops or in_range)[0], index, ts)
            return
        for w in group:
            if w.active:
                self._match(w, index, ts)

    def _match(self, working: _Working, index: int, ts: int) -> None:
        req = working.request
        sym = req.symbol
        o = self._o[sym][index]
        kind = req.order_type
        if kind is _MARKET:
            if self._taker_at_data:
                self._fill(working, index, Decimal(repr(o)), _TAKER, ts, True)
            else:
                self._fill_taker(working, index, o, ts, True)
            return
        h = self._h[sym][index]
        lo = self._l[sym][index]
        buy = req.side is _BUY
        if kind is _STOP_LIMIT and not working.triggered:
            assert req.stop_price is not None
            stop = float(req.stop_price)
            if (h >= stop) if buy else (lo <= stop):
                working.triggered = True
                working.cache_level()
                working.eligible_at = ts + 1  # rests as a limit from the next bar
            return
        if kind is _STOP:
            assert req.stop_price is not None
            stop = float(req.stop_price)
            if buy and h >= stop:
                self._fill_taker(working, index, max(o, stop), ts, o >= stop)
            elif not buy and lo <= stop:
                self._fill_taker(working, index, min(o, stop), ts, o <= stop)
            return
        assert req.limit_price is not None
        limit = float(req.limit_price)
        if buy and lo <= limit:
            if o <= limit:
                self._fill(working, index, Decimal(repr(o)), _TAKER, ts, True)
            else:
                self._fill(working, index, req.limit_price, _MAKER, ts, False)
        elif not buy and h >= limit:
            if o >= limit:
                self._fill(working, index, Decimal(repr(o)), _TAKER, ts, True)
            else:
                self._fill(working, index, req.limit_price, _MAKER, ts, False)

    def _fill_taker(
        self, working: _Working, index: int, price: float, ts: int, at_open: bool
    ) -> None:
        base = Decimal(repr(price))
        markup = self._markup
        if self._noise:
            draw = Decimal(repr(round(self._slippage_rng.uniform(-1.0, 1.0), 6)))
            markup += draw * self._noise
        if markup:
            # Spread and slippage move the price off the data's grid: round back to the tick.
            sign = 1 if working.request.side is _BUY else -1
            instrument = self._instruments[working.request.symbol]
            base = instrument.round_price(base * (1 + sign * markup))
            if base <= 0:
                base = instrument.tick_size
        self._fill(working, index, base, _TAKER, ts, at_open)

    def _fill(
        self,
        working: _Working,
        index: int,
        price: Decimal,
        liquidity: Liquidity,
        ts: int,
        at_open: bool,
    ) -> None:
        req = working.request
        sym = req.symbol
        spec = self._specs[sym]
        lot = spec.lot
        multiplier = spec.multiplier
        room: Decimal | None = None
        cap = self._cap
        if cap is not None:
            volume = self._v[sym][index]
            if volume > 0:
                room = spec.floor(Decimal(repr(cap * volume)))
                if room < lot:
                    return  # the bar's volume is used up: the order works on
        if (
            req.equity_fraction is not None
            and not working.resized
            and not self._resize(working, index, price)
        ):
            return
        quantity = req.quantity - working.filled
        if req.reduce_only:
            plan = None if req.position_id is None else self._account.plans.get(req.position_id)
            held = plan.net if plan is not None else self._account.positions.get(sym, ZERO)
            reducing = held > 0 if req.side is _SELL else held < 0
            available = spec.floor(abs(held)) if reducing else ZERO
            if available <= 0:
                self._remove(working)
                self._listener(OrderCancelled(req.order_id, "REDUCE_ONLY_NOTHING_TO_REDUCE", ts))
                return
            quantity = min(quantity, available)
        if room is not None:
            quantity = min(quantity, room)
        if self._faulty:
            quantity = self.faults.partial(sym, quantity, lot)
        if not req.reduce_only:
            if not working.filled and spec.min_notional > 0:
                notional = req.quantity * price * multiplier
                if notional < spec.min_notional:
                    self._reject(
                        working,
                        f"BELOW_MIN_NOTIONAL {notional:.2f} < {spec.min_notional}",
                        ts,
                    )
                    return
            signed = quantity if req.side is _BUY else -quantity
            afforded = working.afforded
            working.afforded = None
            if quantity != afforded and not self._margin_ok(index, sym, signed, price):
                self._reject(working, self._funds_reason(quantity, price, multiplier), ts)
                return
        resized: Decimal | None = None
        if working.unreported:
            working.unreported = False
            resized = req.quantity
        fee = self.config.costs.fee(quantity, price, multiplier) if self._fees else _NO_FEE
        working.filled += quantity
        complete = working.filled >= req.quantity
        if complete:
            self._remove(working)
        self._open_fill = at_open
        try:
            self._listener(
                OrderFillReport(
                    req.order_id,
                    quantity,
                    price,
                    fee,
                    self._fee_asset,
                    liquidity,
                    ts,
                    resized,
                )
            )
        finally:
            self._open_fill = False
        if self._borrow:
            self._track_short(req, sym, ts)
        if complete and req.oco_id is not None:
            for sibling in list(self._oco.get(req.oco_id, ())):
                if sibling.active:
                    self._remove(sibling)
                    self._listener(OrderCancelled(sibling.request.order_id, "OCO", ts))

    def _resize(self, working: _Working, index: int, price: Decimal) -> bool:
        """Re-size an equity-fraction order from the fill price, clipped to what cash and
        margin allow; False (and the order rejected) when not one lot is affordable."""
        req = working.request
        spec = self._specs[req.symbol]
        multiplier = spec.multiplier
        assert req.equity_fraction is not None
        equity = self._equity(index, req.symbol, price)
        target = spec.floor(Decimal(repr(req.equity_fraction)) * equity / (price * multiplier))
        if not req.reduce_only and target > 0:
            target = self._affordable(index, req.symbol, req.side, price, target)
            # Nothing moves the account before this fill: its margin check would repeat this.
            working.afforded = target
        if target < spec.lot:
            self._reject(working, self._funds_reason(spec.lot, price, multiplier), self._pass_ts)
            return False
        working.resized = True
        if target != req.quantity:
            req.quantity = target
            working.unreported = True
        return True

    def _funds_reason(self, quantity: Decimal, price: Decimal, multiplier: Decimal) -> str:
        need = quantity * price * multiplier
        return f"INSUFFICIENT_FUNDS need {need:.2f}, cash {self._account.cash:.2f}"

    def _reject(self, working: _Working, reason: str, ts: int) -> None:
        self._remove(working)
        self._listener(OrderRejected(working.request.order_id, reason, ts))

    def _mark(self, index: int, symbol: str) -> Decimal:
        return Decimal(repr(self._pass_marks[symbol][index]))

    def _equity(self, index: int, symbol: str, price: Decimal) -> Decimal:
        """Cash plus positions, ``symbol`` marked at ``price`` and the others at the pass's
        prices (the bar's open, or its close in a close pass)."""
        equity = self._account.cash
        for sym, net in self._account.positions.items():
            if net:
                mark = price if sym == symbol else self._mark(index, sym)
                equity += net * mark * self._specs[sym].multiplier
        return equity

    def _margin_ok(self, index: int, symbol: str, signed: Decimal, price: Decimal) -> bool:
        """Whether equity (before fees) less the fee covers the margin required after a fill
        of ``signed`` units; a pure reduction always passes."""
        positions = self._account.positions
        net = positions.get(symbol, ZERO)
        if abs(net + signed) <= abs(net) and (net + signed) * net >= 0:
            return True  # a pure reduction never needs margin
        fee = (
            self.config.costs.fee(abs(signed), price, self._specs[symbol].multiplier)
            if self._fees
            else _NO_FEE
        )
        margin = self.config.margin
        required = ZERO
        equity = self._account.cash
        seen_symbol = False
        for sym, net in positions.items():
            mult = self._specs[sym].multiplier
            if sym == symbol:
                seen_symbol = True
                mark = price
                equity += net * mark * mult
                net = net + signed
            else:
                mark = self._mark(index, sym)
                equity += net * mark * mult
            if net:
                rate = margin.long if net > 0 else margin.short
                required += abs(net) * mark * mult * rate
        if not seen_symbol and signed:
            rate = margin.long if signed > 0 else margin.short
            required += abs(signed) * price * self._specs[symbol].multiplier * rate
        return equity - fee >= required

    def _affordable(
        self,
        index: int,
        symbol: str,
        side: Side,
        price: Decimal,
        wanted: Decimal,
    ) -> Decimal:
        """The largest whole number of lots up to ``wanted`` that cash and margin allow."""
        lot = self._specs[symbol].lot
        sign = 1 if side is _BUY else -1
        if self._margin_ok(index, symbol, wanted if sign > 0 else -wanted, price):
            return wanted
        lo, hi = 0, int(wanted / lot)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._margin_ok(index, symbol, sign * mid * lot, price):
                lo = mid
            else:
                hi = mid - 1
        return lo * lot

    def _track_short(self, req: OrderRequest, symbol: str, ts: int) -> None:
        key = req.position_id or symbol
        plans = self._account.plans
        net = (
            plans[key].net
            if req.position_id is not None and key in plans
            else self._account.positions.get(symbol, ZERO)
        )
        if net < 0:
            if key not in self._shorts:
                self._shorts[key] = (symbol, ts // _NS_PER_DAY)
                self.next_charge_ns = min(
                    self.next_charge_ns, (ts // _NS_PER_DAY + 1) * _NS_PER_DAY
                )
        else:
            self._shorts.pop(key, None)

    def charge_carry(self, index: int) -> None:
        """Charge borrow on shorts held across the day boundaries up to bar ``index``'s open.

        Called by the engine when a bar opens at or after ``next_charge_ns``. The short is
        valued at the last close before the bar (its open for the first bar).
        """
        ts: int = self._timestamps[index]
        today = ts // _NS_PER_DAY
        plans = self._account.plans
        for key, (symbol, since) in list(self._shorts.items()):
            net = plans[key].net if key in plans else self._account.positions.get(symbol, ZERO)
            if net >= 0:
                del self._shorts[key]
                continue
            days = today - since
            if days <= 0:
                continue
            self._shorts[key] = (symbol, today)
            mark = self._c[symbol][index - 1] if index > 0 else self._o[symbol][index]
            value = -net * Decimal(repr(mark)) * self._instruments[symbol].multiplier
            amount = (value * self._borrow * days).quantize(_FEE_QUANTUM, rounding=ROUND_HALF_UP)
            if amount > 0:
                self._listener(CostCharged(key, symbol, amount, "BORROW", ts))
        self.next_charge_ns = (today + 1) * _NS_PER_DAY if self._shorts else NEVER_NS

    def _remove(self, working: _Working) -> None:
        if not working.active:
            return
        working.active = False
        req = working.request
        self._by_id.pop(req.order_id, None)
        if req.oco_id is not None:
            group = self._oco.get(req.oco_id)
            if group is not None:
                group.remove(working)
                if not group:
                    del self._oco[req.oco_id]
        self._count -= 1
        self.has_working = self._count > 0
        if not self._in_pass and len(self._working) > 2 * self._count + 8:
            self._working = [w for w in self._working if w.active]


def _unconnected(report: VenueReport) -> None:
    raise ConfigError("connect() the venue to a listener before trading")


def _reaches(req: OrderRequest, high: float, low: float) -> bool:
    """True when prices spanning [low, high] reach the order's stop or limit level.

    ``_reaches(req, open, open)`` asks whether the open alone already passed the level.
    """
    buy = req.side is _BUY
    if req.order_type is _LIMIT:
        assert req.limit_price is not None
        limit = float(req.limit_price)
        return low <= limit if buy else high >= limit
    if req.stop_price is None:
        return False
    stop = float(req.stop_price)
    return high >= stop if buy else low <= stop
