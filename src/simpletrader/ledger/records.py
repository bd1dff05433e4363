"""The ledger's mutable records: slotted, cheap on the hot path, enforcing their state machines.

Their frozen DTO snapshots (``simpletrader.dtos.state``) are made by ``snapshot()`` when a store,
subscriber or the API reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from simpletrader.core.clock import ns_to_datetime
from simpletrader.core.enums import (
    ExecutionAlgorithm,
    GroupRole,
    GroupStatus,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradeDirection,
    TradePlanStatus,
)
from simpletrader.core.ids import pack_id, unpack_id
from simpletrader.core.order_states import (
    ORDER_TRANSITIONS,
    WORKING_ORDER_STATUSES,
    check_order_transition,
)
from simpletrader.dtos import ExecutionGroup, Fill, Order, TradePlan

ZERO = Decimal(0)
ONE = Decimal(1)
# Every record starts in one of these: under Python 3.11 a member read from its enum class costs
# ~900 instructions (EnumType.__getattr__'s slot hook), a module global ~20.
_ACTIVE_PLAN = TradePlanStatus.ACTIVE
_PENDING_GROUP = GroupStatus.PENDING
_PENDING_ORDER = OrderStatus.PENDING


class DecimalPool:
    """Hands out one shared Decimal per distinct amount.

    A long run's records hold the same few quantities, prices and fees over and over, at about
    100 bytes a Decimal: sharing them keeps memory flat-ish in the number of fills. A value
    keeps its exact form: an equal one written otherwise (``998.0`` for ``998``) is shared
    separately. ``share(str(value), value)`` is the same lookup as ``pool(value)`` for hot
    paths that cannot afford a Python call per amount.
    """

    __slots__ = ("_values", "share")

    def __init__(self) -> None:
        # Keyed by the text of a value: it is unique to its form, and making it costs a fifth
        # of a Decimal's hash (a distinct amount's key string is all the pool adds).
        self._values: dict[str, Decimal] = {}
        self.share: Callable[[str, Decimal], Decimal] = self._values.setdefault

    def __call__(self, value: Decimal) -> Decimal:
        return self._values.setdefault(str(value), value)

    def __len__(self) -> int:
        return len(self._values)


def _keep(_: str, value: Decimal) -> Decimal:
    return value


TERMINAL_GROUP_STATUSES = frozenset(
    {
        GroupStatus.COMPLETED,
        GroupStatus.PARTIAL,
        GroupStatus.CANCELLED,
        GroupStatus.FAILED,
        GroupStatus.SKIPPED,
        GroupStatus.SUPERSEDED,
    }
)


class TradePlanRecord:
    """One position's life. ``net`` is signed (long > 0); P&L and fees derive from fills."""

    __slots__ = (
        "average_price",
        "carry_costs",
        "closed_at",
        "created_at",
        "direction",
        "entry_at",
        "entry_price",
        "exit_at",
        "exit_price",
        "fees",
        "group_ids",
        "net",
        "realized_pnl",
        "status",
        "stop_loss",
        "strategy_id",
        "symbol",
        "take_profit",
        "trade_plan_id",
        "traded_in",
        "traded_out",
        "value_in",
        "value_out",
    )

    def __init__(
        self,
        trade_plan_id: str,
        strategy_id: str,
        symbol: str,
        direction: TradeDirection,
        created_at: int,
    ) -> None:
        self.trade_plan_id = trade_plan_id
        self.strategy_id = strategy_id
        self.symbol = symbol
        self.direction = direction
        self.status = _ACTIVE_PLAN
        self.created_at = created_at
        self.closed_at: int | None = None
        self.net = ZERO
        self.average_price = ZERO
        self.realized_pnl = ZERO
        self.fees = ZERO
        self.carry_costs = ZERO  # borrow on shorts: journaled CostAccrued entries
        self.stop_loss: Decimal | None = None
        self.take_profit: Decimal | None = None
        self.group_ids: tuple[str, ...] = ()  # a tuple is half a list's size; few groups
        # For trade statistics: first entry and last exit, and the traded volumes both ways.
        self.entry_at: int | None = None
        self.entry_price: Decimal | None = None
        self.exit_at: int | None = None
        self.exit_price: Decimal | None = None
        self.traded_in = ZERO
        self.traded_out = ZERO
        self.value_in = ZERO
        self.value_out = ZERO

    def apply_fill(
        self,
        signed_qty: Decimal,
        price: Decimal,
        fee: Decimal,
        multiplier: Decimal,
        at: int,
        pool: DecimalPool | None = None,
    ) -> Decimal:
        """Update net, average price and realized P&L; return the realized P&L of this fill.

        With a ``pool``, the amounts that repeat across plans (net, traded quantities, fees)
        are shared values from it."""
        share = pool.share if pool is not None else _keep
        net = self.net
        realized = ZERO
        qty = abs(signed_qty)
        if net == 0 or (net > 0) == (signed_qty > 0):
            total = abs(net) + qty
            self.average_price = (self.average_price * abs(net) + price * qty) / total
            after = net + signed_qty
            traded_in = self.traded_in + qty
            self.traded_in = share(str(traded_in), traded_in)
            self.value_in += qty * price
            if self.entry_at is None:
                self.entry_at, self.entry_price = at, price
        else:
            closed = min(qty, abs(net))
            realized = closed * (price - self.average_price) * (1 if net > 0 else -1) * multiplier
            after = net + signed_qty
            traded_out = self.traded_out + closed
            self.traded_out = share(str(traded_out), traded_out)
            self.value_out += closed * price
            self.exit_at, self.exit_price = at, price
            if qty > abs(net):  # flipped through zero: the rest opens at this price
                self.average_price = price
                traded_in = self.traded_in + (qty - closed)
                self.traded_in = share(str(traded_in), traded_in)
                self.value_in += (qty - closed) * price
            elif after == 0:
                self.average_price = ZERO
        self.net = share(str(after), after)
        self.realized_pnl += realized
        fees = self.fees + fee
        self.fees = share(str(fees), fees)
        return realized

    def unrealized_pnl(self, price: Decimal, multiplier: Decimal = Decimal(1)) -> Decimal:
        """P&L of the open net if it were closed at ``price`` (zero when flat)."""
        return self.net * (price - self.average_price) * multiplier

    def snapshot(self) -> TradePlan:
        return TradePlan(
            trade_plan_id=self.trade_plan_id,
            strategy_id=self.strategy_id,
            symbol=self.symbol,
            direction=self.direction,
            status=self.status,
            created_at=ns_to_datetime(self.created_at),
            closed_at=ns_to_datetime(self.closed_at) if self.closed_at is not None else None,
        )


class GroupRecord:
    """One execution group. Its command id is drawn in the second it is created, so it is kept
    as its random bits (:func:`~simpletrader.core.ids.pack_id`) and read back whole. The batch
    id is not: the engine keeps every ended batch's id string anyway."""

    __slots__ = (
        "_command",
        "_created",
        "algorithm",
        "batch_id",
        "failure_reason",
        "filled_quantity",
        "group_id",
        "order_ids",
        "role",
        "status",
        "target_quantity",
        "trade_plan_id",
        "updated_at",
    )

    def __init__(
        self,
        group_id: str,
        trade_plan_id: str,
        command_id: str | None,
        batch_id: str | None,
        role: GroupRole,
        algorithm: ExecutionAlgorithm,
        target_quantity: Decimal,
        at: int,
    ) -> None:
        self.group_id = group_id
        self.trade_plan_id = trade_plan_id
        self._created = at
        self._command = None if command_id is None else pack_id(command_id, "EXC", at)
        self.batch_id = batch_id
        self.role = role
        self.algorithm = algorithm
        self.target_quantity = target_quantity
        self.status = _PENDING_GROUP
        self.failure_reason: str | None = None
        self.filled_quantity = ZERO
        self.order_ids: tuple[str, ...] = ()
        self.updated_at = at

    @property
    def command_id(self) -> str | None:
        command = self._command
        return None if command is None else unpack_id(command, "EXC", self._created)

    @command_id.setter
    def command_id(self, command_id: str | None) -> None:
        self._command = command_id

    @property
    def created_at(self) -> int:
        return self._created

    @created_at.setter
    def created_at(self, at: int) -> None:
        # A packed id is read back against the creation time: unpack it before that moves.
        self._command = self.command_id
        self._created = at

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_GROUP_STATUSES

    def snapshot(self) -> ExecutionGroup:
        return ExecutionGroup(
            group_id=self.group_id,
            trade_plan_id=self.trade_plan_id,
            command_id=self.command_id,
            batch_id=self.batch_id,
            role=self.role,
            algorithm=self.algorithm,
            target_quantity=self.target_quantity,
            status=self.status,
            failure_reason=self.failure_reason,
            created_at=ns_to_datetime(self.created_at),
            updated_at=ns_to_datetime(self.updated_at),
        )


class OrderRecord:
    __slots__ = (
        "_client",
        "created_at",
        "expire_at",
        "filled_quantity",
        "group_id",
        "limit_price",
        "order_id",
        "order_type",
        "quantity",
        "reduce_only",
        "side",
        "status",
        "status_reason",
        "stop_price",
        "symbol",
        "time_in_force",
        "updated_at",
    )

    def __init__(
        self,
        order_id: str,
        client_order_id: str,
        group_id: str,
        symbol: str,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        limit_price: Decimal | None,
        stop_price: Decimal | None,
        time_in_force: TimeInForce,
        expire_at: int | None,
        reduce_only: bool,
        at: int,
    ) -> None:
        self.order_id = order_id
        # ``<group id>-<n>``, as the worker makes them, is kept as n: one string fewer per order.
        head, _, n = client_order_id.rpartition("-")
        self._client: int | str = client_order_id
        if head == group_id and n.isascii() and n.isdigit():
            number = int(n)
            if str(number) == n:
                self._client = number
        self.group_id = group_id
        self.symbol = symbol
        self.side = side
        self.order_type = order_type
        self.quantity = quantity
        self.limit_price = limit_price
        self.stop_price = stop_price
        self.time_in_force = time_in_force
        self.expire_at = expire_at
        self.reduce_only = reduce_only
        self.status = _PENDING_ORDER
        self.status_reason: str | None = None
        self.filled_quantity = ZERO
        self.created_at = at
        self.updated_at = at

    @property
    def client_order_id(self) -> str:
        client = self._client
        return client if isinstance(client, str) else f"{self.group_id}-{client}"

    def move(self, status: OrderStatus, at: int, reason: str | None = None) -> None:
        if status not in ORDER_TRANSITIONS[self.status]:  # the check's own call only to raise
            check_order_transition(self.status, status, self.order_id)
        self.status = status
        self.status_reason = reason
        self.updated_at = at

    @property
    def is_working(self) -> bool:
        return self.status in WORKING_ORDER_STATUSES

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity

    def snapshot(self) -> Order:
        return Order(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            group_id=self.group_id,
            symbol=self.symbol,
            side=self.side,
            order_type=self.order_type,
            quantity=self.quantity,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            time_in_force=self.time_in_force,
            expire_at=ns_to_datetime(self.expire_at) if self.expire_at is not None else None,
            reduce_only=self.reduce_only,
            status=self.status,
            status_reason=self.status_reason,
            created_at=ns_to_datetime(self.created_at),
            updated_at=ns_to_datetime(self.updated_at),
        )


class FillRecord:
    """One fill. Its id is drawn when it is recorded, so it is kept as its random bits
    (:func:`~simpletrader.core.ids.pack_id`) and read back whole."""

    __slots__ = (
        "_executed",
        "_fill",
        "fee",
        "fee_asset",
        "liquidity",
        "order_id",
        "price",
        "quantity",
    )

    def __init__(
        self,
        fill_id: str,
        order_id: str,
        quantity: Decimal,
        price: Decimal,
        fee: Decimal,
        fee_asset: str,
        liquidity: str,
        executed_at: int,
    ) -> None:
        self._executed = executed_at
        self._fill = pack_id(fill_id, "FIL", executed_at)
        self.order_id = order_id
        self.quantity = quantity
        self.price = price
        self.fee = fee
        self.fee_asset = fee_asset
        self.liquidity = liquidity

    @property
    def fill_id(self) -> str:
        return unpack_id(self._fill, "FIL", self._executed)

    @fill_id.setter
    def fill_id(self, fill_id: str) -> None:
        self._fill = fill_id

    @property
    def executed_at(self) -> int:
        return self._executed

    @executed_at.setter
    def executed_at(self, at: int) -> None:
        # A packed id is read back against the fill's time: unpack it before that moves.
        self._fill = self.fill_id
        self._executed = at

    def snapshot(self) -> Fill:
        return Fill(
            fill_id=self.fill_id,
            order_id=self.order_id,
            quantity=self.quantity,
            price=self.price,
            fee=self.fee,
            fee_asset=self.fee_asset,
            liquidity=Liquidity(self.liquidity),
            executed_at=ns_to_datetime(self.executed_at),
        )
