"""Random but valid journal event sequences, and the tiny builders the ledger tests share.

A *program* is a list of bars, each a list of events that a real execution layer could have
produced: plans opened, groups created, orders submitted, accepted, partly and fully filled at
random prices and fees (sometimes re-sized at fill), cancelled, expired or rejected, groups
ended, costs accrued, exit levels set, flat plans closed.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import count
from typing import Any

import numpy as np
from hypothesis import strategies as st

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
)
from simpletrader.data.bars import Bars
from simpletrader.journal.events import (
    CostAccrued,
    ExitLevelsSet,
    GroupCreated,
    GroupStatusChanged,
    JournalEvent,
    OrderFilled,
    OrderStatusChanged,
    OrderSubmitted,
    TradePlanClosed,
    TradePlanOpened,
)

T0 = 1_704_164_645_000_000_000  # 2024-01-02 03:04:05 UTC
BAR_NS = 60_000_000_000
CASH = Decimal(100_000)
MULTIPLIERS = {"AAA": Decimal(1), "FUT": Decimal(50)}

_WORKING = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
_GROUP_ENDS = (
    GroupStatus.COMPLETED,
    GroupStatus.PARTIAL,
    GroupStatus.CANCELLED,
    GroupStatus.FAILED,
    GroupStatus.SUPERSEDED,
)


def make_id(prefix: str, n: int) -> str:
    return f"{prefix}_20240102_030405_{n:08x}"


def hundredths(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n) / 100)


@st.composite
def programs(draw: Any, max_bars: int = 40) -> list[list[JournalEvent]]:
    """A valid event sequence, split into bars."""
    serial = count(1)
    plans: dict[str, dict[str, Any]] = {}
    groups: dict[str, dict[str, Any]] = {}
    orders: dict[str, dict[str, Any]] = {}
    out: list[list[JournalEvent]] = []
    for bar in range(draw(st.integers(1, max_bars))):
        at = T0 + bar * BAR_NS
        events: list[JournalEvent] = []
        for _ in range(draw(st.integers(0, 5))):
            active = [p for p, v in plans.items() if v["active"]]
            live = [g for g, v in groups.items() if not v["ended"] and plans[v["plan"]]["active"]]
            pending = [o for o, v in orders.items() if v["status"] is OrderStatus.PENDING]
            working = [o for o, v in orders.items() if v["status"] in _WORKING]
            closable = [
                p
                for p in active
                if plans[p]["net"] == 0
                and not any(
                    orders[o]["status"] in (*_WORKING, OrderStatus.PENDING)
                    for g in plans[p]["groups"]
                    for o in groups[g]["orders"]
                )
            ]
            # Weighted so that orders get far enough to be filled, partly and fully.
            actions = ["open"] if len(active) < 3 else []
            actions += ["group", "group", "levels", "cost"] if active else []
            actions += ["order", "order", "order", "group_end"] if live else []
            actions += ["accept", "accept", "accept", "refuse"] if pending else []
            actions += ["fill"] * 5 + ["end_order"] if working else []
            actions += ["close", "close"] if closable else []
            action = draw(st.sampled_from(actions))
            if action == "open":
                plan_id = make_id("TPL", next(serial))
                symbol = draw(st.sampled_from(sorted(MULTIPLIERS)))
                direction = draw(st.sampled_from(list(TradeDirection)))
                plans[plan_id] = {"active": True, "net": Decimal(0), "groups": []}
                events.append(TradePlanOpened(at, plan_id, "strategy", symbol, direction))
                plans[plan_id]["symbol"] = symbol
            elif action == "group":
                plan_id = draw(st.sampled_from(active))
                group_id = make_id("EXG", next(serial))
                commanded = draw(st.booleans())
                groups[group_id] = {"plan": plan_id, "ended": False, "orders": []}
                plans[plan_id]["groups"].append(group_id)
                events.append(
                    GroupCreated(
                        at,
                        group_id,
                        plan_id,
                        make_id("EXC", next(serial)) if commanded else None,
                        make_id("BAT", next(serial)) if commanded else None,
                        GroupRole.ENTRY if commanded else GroupRole.PROTECTIVE,
                        draw(st.sampled_from(list(ExecutionAlgorithm))),
                        draw(hundredths(0, 100_000)),
                    )
                )
            elif action == "levels":
                plan_id = draw(st.sampled_from(active))
                stop = draw(st.none() | hundredths(1, 10_000))
                target = draw(st.none() | hundredths(1, 10_000))
                events.append(ExitLevelsSet(at, plan_id, stop, target))
            elif action == "cost":
                plan_id = draw(st.sampled_from(active))
                amount = draw(hundredths(0, 500))
                events.append(CostAccrued(at, plan_id, plans[plan_id]["symbol"], amount, "BORROW"))
            elif action == "order":
                group_id = draw(st.sampled_from(live))
                order_id = make_id("ORD", next(serial))
                k = len(groups[group_id]["orders"]) + 1
                quantity = draw(hundredths(1, 100_000))
                side = draw(st.sampled_from(list(Side)))
                groups[group_id]["orders"].append(order_id)
                plan_id = groups[group_id]["plan"]
                orders[order_id] = {
                    "status": OrderStatus.PENDING,
                    "quantity": quantity,
                    "filled": Decimal(0),
                    "side": side,
                    "plan": plan_id,
                }
                events.append(
                    OrderSubmitted(
                        at,
                        order_id,
                        f"{group_id}-{k}",
                        group_id,
                        plans[plan_id]["symbol"],
                        side,
                        OrderType.MARKET,
                        quantity,
                        None,
                        None,
                        TimeInForce.GTC,
                        None,
                        False,
                    )
                )
            elif action == "group_end":
                group_id = draw(st.sampled_from(live))
                status = draw(st.sampled_from(_GROUP_ENDS))
                groups[group_id]["ended"] = True
                reason = "TIMEOUT" if status is GroupStatus.FAILED else None
                events.append(GroupStatusChanged(at, group_id, status, reason))
            elif action == "accept":
                order_id = draw(st.sampled_from(pending))
                orders[order_id]["status"] = OrderStatus.OPEN
                events.append(OrderStatusChanged(at, order_id, OrderStatus.OPEN))
            elif action == "refuse":
                order_id = draw(st.sampled_from(pending))
                status = draw(st.sampled_from([OrderStatus.REJECTED, OrderStatus.CANCELLED]))
                orders[order_id]["status"] = status
                events.append(OrderStatusChanged(at, order_id, status, "INSUFFICIENT_FUNDS"))
            elif action == "end_order":
                order_id = draw(st.sampled_from(working))
                status = draw(
                    st.sampled_from(
                        [OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED]
                    )
                )
                orders[order_id]["status"] = status
                events.append(OrderStatusChanged(at, order_id, status, "VENUE"))
            elif action == "close":
                plan_id = draw(st.sampled_from(closable))
                plans[plan_id]["active"] = False
                events.append(TradePlanClosed(at, plan_id))
            else:
                order_id = draw(st.sampled_from(working))
                order = orders[order_id]
                resized = None
                if order["filled"] == 0 and draw(st.booleans()):
                    resized = draw(hundredths(1, 100_000))
                    order["quantity"] = resized
                remaining = order["quantity"] - order["filled"]
                quantity = draw(hundredths(1, int(remaining * 100)))
                order["filled"] += quantity
                order["status"] = (
                    OrderStatus.FILLED
                    if order["filled"] == order["quantity"]
                    else OrderStatus.PARTIALLY_FILLED
                )
                signed = quantity if order["side"] is Side.BUY else -quantity
                plans[order["plan"]]["net"] += signed
                events.append(
                    OrderFilled(
                        at,
                        make_id("FIL", next(serial)),
                        order_id,
                        quantity,
                        draw(hundredths(1, 1_000_000)),
                        draw(hundredths(0, 2_000)),
                        "USD",
                        draw(st.sampled_from(list(Liquidity))),
                        resized,
                    )
                )
        out.append(events)
    return out


def fake_bars(n: int) -> dict[str, Bars]:
    """``n`` one-minute bars for every symbol of :data:`MULTIPLIERS`, closes 100 + i / 7."""
    out = {}
    timestamps = T0 + BAR_NS * np.arange(n, dtype=np.int64)
    for k, symbol in enumerate(sorted(MULTIPLIERS)):
        close = 100.0 + k + np.arange(n, dtype=np.float64) / 7.0
        out[symbol] = Bars(
            symbol=symbol,
            timestamps=timestamps,
            open=close,
            high=close + 1.0,
            low=close - 1.0,
            close=close,
            volume=np.full(n, 1000.0),
            source="test",
            timeframe_seconds=60,
        )
    return out
