"""The connector protocol: how the execution worker talks to a venue.

Commands go in (submit, cancel, cancel-replace); reports come back through the listener given
at connection. A simulated venue calls the listener synchronously; an asyncio exchange connector
calls it from its event loop. The worker does not care which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from simpletrader.core.enums import Liquidity, OrderType, Side, TimeInForce


@dataclass(slots=True)
class OrderRequest:
    """An order as the worker sends it. ``equity_fraction`` orders are re-sized at fill."""

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


@dataclass(slots=True)
class OrderAccepted:
    order_id: str
    at: int


@dataclass(slots=True)
class OrderRejected:
    order_id: str
    reason: str
    at: int


@dataclass(slots=True)
class OrderFillReport:
    """A (partial) fill; ``order_quantity`` is set when the venue re-sized the order at fill."""

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
    order_id: str
    reason: str
    at: int


@dataclass(slots=True)
class OrderExpired:
    order_id: str
    at: int


@dataclass(slots=True)
class CancelRefused:
    order_id: str
    reason: str
    at: int


VenueReport = (
    OrderAccepted | OrderRejected | OrderFillReport | OrderCancelled | OrderExpired | CancelRefused
)
Listener = Callable[[VenueReport], None]


class Connector(Protocol):
    def connect(self, listener: Listener) -> None: ...
    def submit(self, order: OrderRequest) -> None: ...
    def cancel(self, order_id: str, reason: str) -> None: ...
    def replace(
        self,
        order_id: str,
        *,
        quantity: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None: ...
