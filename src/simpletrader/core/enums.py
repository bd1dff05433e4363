"""Every enumeration the contracts use.

``BatchExecutionMode`` is the one and only execution-mode enum: there is no technical
SEQUENTIAL/PARALLEL/ATOMIC twin and no rollback flag; the mode says it all.
"""

from __future__ import annotations

from enum import StrEnum


class BatchExecutionMode(StrEnum):
    """How the commands of one batch are carried out together (DESIGN.md §4)."""

    INDEPENDENT = "INDEPENDENT"
    COORDINATED = "COORDINATED"
    SEQUENTIAL = "SEQUENTIAL"


class OriginType(StrEnum):
    TICK = "TICK"
    SCHEDULE = "SCHEDULE"
    NEWS = "NEWS"


class SignalDirection(StrEnum):
    """Analysis speaks of long and short."""

    LONG = "long"
    SHORT = "short"


class Side(StrEnum):
    """Orders speak of buying and selling."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is _BUY else -1

    @property
    def opposite(self) -> Side:
        return _SELL if self is _BUY else _BUY


class TradeDirection(StrEnum):
    """A trade plan is long or short."""

    LONG = "LONG"
    SHORT = "SHORT"

    @property
    def entry_side(self) -> Side:
        return _BUY if self is _LONG else _SELL

    @classmethod
    def from_side(cls, side: Side) -> TradeDirection:
        return _LONG if side is _BUY else _SHORT


# Python 3.11's EnumType has a __getattr__, so `Side.BUY` costs a slow metaclass lookup; the
# per-order helpers above read these module globals instead.
_BUY, _SELL = Side.BUY, Side.SELL
_LONG, _SHORT = TradeDirection.LONG, TradeDirection.SHORT


class LegScope(StrEnum):
    NEW_TRADE = "NEW_TRADE"
    MODIFY_EXISTING = "MODIFY_EXISTING"
    CLOSE_EXISTING = "CLOSE_EXISTING"


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"


class ExecutionAlgorithm(StrEnum):
    SINGLE = "SINGLE"
    TWAP = "TWAP"
    ICEBERG = "ICEBERG"


class TimeInForce(StrEnum):
    GTC = "GTC"
    DAY = "DAY"
    IOC = "IOC"
    GTD = "GTD"


class TradePlanStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"


class GroupRole(StrEnum):
    ENTRY = "ENTRY"
    PROTECTIVE = "PROTECTIVE"
    UNWIND = "UNWIND"


class GroupStatus(StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    PARTIAL = "PARTIAL"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    SUPERSEDED = "SUPERSEDED"


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"


class Liquidity(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"
