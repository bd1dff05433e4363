"""The connector protocol: how the execution worker talks to a venue.

Commands go in (:meth:`Connector.submit`, :meth:`Connector.cancel`, :meth:`Connector.replace`);
every outcome comes back as a report through the listener given to :meth:`Connector.connect`.
A command never answers by return value or exception, so an asyncio exchange connector can
implement the same protocol by scheduling the request and calling the listener from its event
loop; the simulated venue calls the listener synchronously. The worker does not care which.

Reports are small slotted records, past-tense nouns. Two of them only exist for venues that
match in discrete passes (the simulated one): :class:`MatchingStarted` and
:class:`MatchingFinished` bracket one pass, so the worker can react to everything a pass
produced at once (DESIGN.md §4, step 4). A live connector never sends them and the worker then
reacts to each report as it arrives.

Times are integer nanoseconds since the epoch (UTC), read from the environment's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from simpletrader.core.enums import Liquidity, OrderType, Side, TimeInForce


@dataclass(slots=True)
class OrderRequest:
    """An order as the worker sends it.

    ``quantity`` is in units, already floored to the lot; prices are rounded to the tick.
    ``position_id`` names the trade plan the order belongs to: a ``reduce_only`` fill is clipped
    to that plan's remaining |net| (the symbol's when None). ``equity_fraction`` marks an order
    sized as a fraction of equity: the venue re-sizes it from the fill price at its first fill
    and clips it to what cash and margin allow. ``oco_id`` links orders that cancel each other
    (the protective stop-loss / take-profit pair): when one is filled completely the others are
    cancelled. ``fill_on_close`` market orders fill at the close of the bar they were sent on.
    """

    order_id: str
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_at: int | None = None
    reduce_only: bool = False
    equity_fraction: float | None = None
    fill_on_close: bool = False
    submitted_at: int = 0
    position_id: str | None = None
    oco_id: str | None = None


@dataclass(slots=True)
class OrderAccepted:
    """The venue took the order; it is working (OPEN)."""

    order_id: str
    at: int


@dataclass(slots=True)
class OrderRejected:
    """The venue refused the order, at submission or when it came to fill it (``reason``)."""

    order_id: str
    reason: str
    at: int


@dataclass(slots=True)
class OrderFillReport:
    """A (partial) fill. ``order_quantity`` is set when the venue re-sized the order at fill."""

    order_id: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    liquidity: Liquidity
    at: int
    order_quantity: Decimal | None = None


@dataclass(slots=True)
class OrderCancelled:
    """The order stopped working at a cancel request or by a venue rule (IOC rest, OCO)."""

    order_id: str
    reason: str
    at: int


@dataclass(slots=True)
class OrderExpired:
    """A DAY or GTD order reached its end of life."""

    order_id: str
    at: int


@dataclass(slots=True)
class CancelRefused:
    """The venue did not act on a cancel; the order is still working. Ask again later."""

    order_id: str
    reason: str
    at: int


@dataclass(slots=True)
class OrderReplaced:
    """A cancel-replace (amend) took effect: the order keeps its id with the new terms.

    ``quantity`` is the order's new total quantity (filled part included).
    """

    order_id: str
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    at: int


@dataclass(slots=True)
class ReplaceRefused:
    """The venue did not amend the order; it works on with its old terms."""

    order_id: str
    reason: str
    at: int


@dataclass(slots=True)
class CostCharged:
    """A carrying cost the venue charged on a position (``kind``: BORROW on shorts)."""

    position_id: str
    symbol: str
    amount: Decimal
    kind: str
    at: int


@dataclass(slots=True)
class MatchingStarted:
    """A simulated venue begins one matching pass (at a bar's open or close)."""

    at: int


@dataclass(slots=True)
class MatchingFinished:
    """The matching pass that :class:`MatchingStarted` opened is over."""

    at: int


VenueReport = (
    OrderAccepted
    | OrderRejected
    | OrderFillReport
    | OrderCancelled
    | OrderExpired
    | CancelRefused
    | OrderReplaced
    | ReplaceRefused
    | CostCharged
    | MatchingStarted
    | MatchingFinished
)
Listener = Callable[[VenueReport], None]


class Connector(Protocol):
    """What the execution worker needs of a venue. Every outcome arrives as a report."""

    def connect(self, listener: Listener) -> None:
        """Register the one listener that receives every report."""
        ...

    def submit(self, order: OrderRequest) -> None:
        """Send a new order; answered by OrderAccepted or OrderRejected, then fills."""
        ...

    def cancel(self, order_id: str, reason: str) -> None:
        """Ask to cancel; answered by OrderCancelled or CancelRefused (nothing if not working)."""
        ...

    def replace(
        self,
        order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        """Cancel-replace (amend) a working order; None keeps a term.

        Answered by OrderReplaced or ReplaceRefused. ``quantity`` is the new total.
        """
        ...
