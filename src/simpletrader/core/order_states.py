"""The order state machine: the one transition table, used by DTO snapshots and ledger records."""

from __future__ import annotations

from simpletrader.core.enums import OrderStatus
from simpletrader.core.errors import IllegalTransitionError

_S = OrderStatus

ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    _S.PENDING: frozenset({_S.OPEN, _S.REJECTED, _S.CANCELLED}),
    _S.OPEN: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.EXPIRED, _S.REJECTED}),
    _S.PARTIALLY_FILLED: frozenset(
        {_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.EXPIRED, _S.REJECTED}
    ),
    _S.FILLED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.EXPIRED: frozenset(),
    _S.REJECTED: frozenset(),
}

TERMINAL_ORDER_STATUSES: frozenset[OrderStatus] = frozenset(
    status for status, moves in ORDER_TRANSITIONS.items() if not moves
)
WORKING_ORDER_STATUSES: frozenset[OrderStatus] = frozenset(
    {_S.PENDING, _S.OPEN, _S.PARTIALLY_FILLED}
)


def check_order_transition(current: OrderStatus, new: OrderStatus, order_id: str = "") -> None:
    """Raise ``IllegalTransitionError`` unless ``current -> new`` is in the table."""
    if new not in ORDER_TRANSITIONS[current]:
        allowed = ", ".join(sorted(ORDER_TRANSITIONS[current])) or "none (terminal)"
        who = f"order {order_id}: " if order_id else ""
        raise IllegalTransitionError(
            f"{who}illegal status move {current} -> {new}; allowed from {current}: {allowed}"
        )
