"""Properties of the venue and worker over random orders on random bars (hypothesis)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from execution_harness import Market, Row, bars, batch, close, d, exits, modify, new_trade
from hypothesis import given
from hypothesis import strategies as st

from simpletrader.core.enums import OrderType, Side, TradePlanStatus
from simpletrader.execution.connectors.simulated import CostModel, VenueConfig
from simpletrader.execution.faults import FaultConfig
from simpletrader.ledger.ledger import Ledger


@st.composite
def price_path(draw: st.DrawFn) -> list[Row]:
    n = draw(st.integers(6, 16))
    price = 100.0
    rows: list[Row] = []
    for _ in range(n):
        move = draw(st.floats(-0.06, 0.06))
        wick = draw(st.floats(0.0, 0.04))
        close_ = round(price * (1 + move), 2)
        high = round(max(price, close_) * (1 + wick), 2)
        low = round(min(price, close_) * (1 - wick), 2)
        rows.append((price, high, low, close_, draw(st.sampled_from([500.0, 5_000.0]))))
        price = close_
    return rows


action = st.tuples(
    st.sampled_from(["new", "new", "modify", "close"]),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 60),
    st.sampled_from([OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT]),
    st.floats(-0.05, 0.05),
    st.booleans(),
    st.integers(0, 7),
)

venue = st.builds(
    lambda fee, spread, noise, cap, partial, seed: VenueConfig(
        costs=CostModel(
            fee_bps=Decimal(fee),
            fee_minimum=Decimal("0.5") if fee else Decimal(0),
            spread_bps=Decimal(spread),
            slippage_noise_bps=Decimal(noise),
            borrow_bps_per_year=Decimal(200),
        ),
        participation_cap=cap,
        faults=FaultConfig(partial_fill_probability=partial),
        seed=seed,
    ),
    st.sampled_from([0, 5]),
    st.sampled_from([0, 20]),
    st.sampled_from([0, 10]),
    st.sampled_from([None, 0.02]),
    st.sampled_from([0.0, 0.5]),
    st.integers(0, 5),
)


def _leg(market: Market, act: tuple[Any, ...]) -> dict[str, Any] | None:
    kind, side, size, order_type, offset, protect, pick = act
    price = market.price("X")
    plans = market.ledger.open_plans("test")
    if kind == "new" or not plans:
        level = round(price * (1 + offset), 2)
        limit = level if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
        stop = level if order_type in (OrderType.STOP, OrderType.STOP_LIMIT) else None
        exit_plan = exits(stop=round(price * 0.05, 2), take=round(price * 0.08, 2), offsets=True)
        return new_trade(
            "X",
            side,
            size,
            order_type=order_type,
            limit=limit,
            stop=stop,
            exit_plan=exit_plan if protect else None,
        )
    plan = plans[pick % len(plans)]
    if kind == "close":
        return close(plan.trade_plan_id)
    return modify(plan.trade_plan_id, "X", plan.direction.entry_side, size)


def run_random(rows: list[Row], actions: list[tuple[Any, ...]], config: VenueConfig) -> Market:
    market = Market({"X": bars("X", rows)}, cash=20_000, config=config)
    for i, act in enumerate(actions):
        bar = i % (len(rows) - 1)

        def hook(m: Market, act: tuple[Any, ...] = act) -> None:
            leg = _leg(m, act)
            if leg is not None:
                m.submit(batch([leg], created_ns=m.close_ns(m.index)))

        if bar not in market.on_close:
            market.on_close[bar] = hook
    return market.run()


@given(price_path(), st.lists(action, min_size=1, max_size=10), venue)
def test_no_order_fills_more_than_its_quantity(
    rows: list[Row], actions: list[tuple[Any, ...]], config: VenueConfig
) -> None:
    market = run_random(rows, actions, config)
    ledger = market.ledger
    for order in ledger.orders.values():
        assert order.filled_quantity <= order.quantity
    for group in ledger.groups.values():
        filled = sum(ledger.orders[o].filled_quantity for o in group.order_ids)
        assert filled == group.filled_quantity
    for plan in ledger.plans.values():
        if plan.status is TradePlanStatus.CLOSED:
            assert plan.net == 0


@given(price_path(), st.lists(action, min_size=1, max_size=10), venue)
def test_cash_and_positions_are_conserved_net_of_costs(
    rows: list[Row], actions: list[tuple[Any, ...]], config: VenueConfig
) -> None:
    market = run_random(rows, actions, config)
    ledger = market.ledger
    last = d(repr(rows[-1][3]))
    # Every fill moves value between cash and the position at its price: marked at the last
    # close, the account's value changed by what the fills earned there, less every cost.
    earned = Decimal(0)
    for fill in ledger.fills:
        order = ledger.orders[fill.order_id]
        signed = fill.quantity if order.side is Side.BUY else -fill.quantity
        earned += signed * (last - fill.price)
    value = ledger.cash + ledger.net("X") * last
    expected = ledger.starting_cash + earned - ledger.fees - ledger.carry_costs
    assert value == expected
    assert sum(p.net for p in ledger.plans.values()) == ledger.net("X")
    replayed = Ledger(ledger.starting_cash, {"X": Decimal(1)})
    replayed.replay(market.journal.events())
    assert replayed.state_digest() == ledger.state_digest()
