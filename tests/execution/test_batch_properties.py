"""Batch invariants over random batches (hypothesis): 1-6 commands of mixed scopes, random
modes, timeouts and seeded faults, checked once the batch has settled (every cancel
acknowledged, every unwind done)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from execution_harness import Market, Row, bars, batch, close, modify, new_trade
from hypothesis import given
from hypothesis import strategies as st

from simpletrader.core.enums import BatchExecutionMode, GroupRole, OrderType, Side
from simpletrader.dtos import ExecutionCommandBatch
from simpletrader.execution.connectors.simulated import VenueConfig
from simpletrader.execution.faults import FaultConfig, OutageWindow
from simpletrader.ledger.ledger import Ledger

SYMBOLS = ("X", "Y", "Z")
N_BARS = 40
MODES = list(BatchExecutionMode)


@st.composite
def market_rows(draw: st.DrawFn) -> list[Row]:
    price = 100.0
    rows: list[Row] = []
    for _ in range(N_BARS):
        move = draw(st.sampled_from([-0.02, -0.005, 0.0, 0.005, 0.02]))
        close_ = round(price * (1 + move), 2)
        rows.append(
            (
                price,
                round(max(price, close_) * 1.01, 2),
                round(min(price, close_) * 0.99, 2),
                close_,
            )
        )
        price = close_
    return rows


leg_spec = st.tuples(
    st.sampled_from(["new", "new", "modify", "close"]),
    st.integers(0, 2),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(0, 30),
    st.sampled_from([OrderType.MARKET, OrderType.MARKET, OrderType.LIMIT, OrderType.STOP]),
    st.sampled_from([-0.015, -0.005, 0.005, 0.015]),
)

faults = st.builds(
    lambda reject, partial, cancel, outage, seed: (
        FaultConfig(
            reject_probability=reject,
            partial_fill_probability=partial,
            cancel_failure_probability=cancel,
            outages=outage,
        ),
        seed,
    ),
    st.sampled_from([0.0, 0.2, 0.4]),
    st.sampled_from([0.0, 0.5]),
    st.sampled_from([0.0, 0.5]),
    st.sampled_from([(), ((2, 4),), ((3, 4),)]),
    st.integers(0, 1000),
)


def _legs(market: Market, specs: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    plans = {p.symbol: p for p in market.ledger.open_plans("test")}
    legs = []
    for kind, k, side, size, order_type, offset in specs:
        symbol = SYMBOLS[k]
        plan = plans.get(symbol)
        if kind == "close" and plan is not None:
            legs.append(close(plan.trade_plan_id))
        elif kind == "modify" and plan is not None:
            legs.append(modify(plan.trade_plan_id, symbol, plan.direction.entry_side, size))
        else:
            level = round(market.price(symbol) * (1 + offset), 2)
            legs.append(
                new_trade(
                    symbol,
                    side,
                    size,
                    order_type=order_type,
                    limit=level if order_type is OrderType.LIMIT else None,
                    stop=level if order_type is OrderType.STOP else None,
                )
            )
    return legs


def settle(
    rows: list[Row],
    specs: list[tuple[Any, ...]],
    mode: BatchExecutionMode,
    timeout: int,
    unwind: bool,
    fault: tuple[FaultConfig, int],
) -> tuple[Market, ExecutionCommandBatch]:
    data = {s: bars(s, rows) for s in SYMBOLS}
    market = Market(data, cash=10_000_000, config=VenueConfig(seed=fault[1]))
    # Open one plan per symbol first, without faults, so MODIFY and CLOSE have something to do.
    setup = batch([new_trade(s, Side.BUY, 10) for s in SYMBOLS], created_ns=market.close_ns(0))
    market.at(0, setup)
    market.run(1)
    config, seed = fault
    outages = tuple(
        OutageWindow(market.open_ns(a), market.open_ns(b))
        for a, b in config.outages  # type: ignore[misc]
    )
    market.venue.set_faults(
        FaultConfig(
            reject_probability=config.reject_probability,
            partial_fill_probability=config.partial_fill_probability,
            cancel_failure_probability=config.cancel_failure_probability,
            outages=outages,
        ),
        seed,
    )
    the_batch = batch(
        _legs(market, specs),
        mode=mode,
        timeout=timeout,
        unwind=unwind,
        created_ns=market.close_ns(1),
    )
    market.submit(the_batch)
    coordinator = market.worker.coordinator
    while the_batch.batch_id in coordinator.active or the_batch.batch_id in coordinator.unsettled:
        assert market.index < N_BARS - 1, "the batch did not settle"
        market.step()
    return market, the_batch


def outcomes(market: Market, the_batch: ExecutionCommandBatch) -> dict[str, tuple[str, int]]:
    """command id -> (status, journal seq of its end)."""
    wanted = {c.command_id for c in the_batch.commands}
    return {
        r["command_id"]: (r["status"], r["seq"])
        for r in market.journal.records()
        if r["kind"] == "command_ended" and r["command_id"] in wanted
    }


def contribution(market: Market, command_id: str) -> Decimal:
    ledger = market.ledger
    total = Decimal(0)
    for group in ledger.groups.values():
        if group.command_id == command_id:
            for order_id in group.order_ids:
                order = ledger.orders[order_id]
                total += order.filled_quantity if order.side is Side.BUY else -order.filled_quantity
    return total


def entry_orders(market: Market, the_batch: ExecutionCommandBatch) -> list[Any]:
    ledger = market.ledger
    return [
        ledger.orders[o]
        for g in ledger.groups.values()
        if g.batch_id == the_batch.batch_id and g.role is GroupRole.ENTRY
        for o in g.order_ids
    ]


@given(
    market_rows(),
    st.lists(leg_spec, min_size=1, max_size=6),
    st.sampled_from(MODES),
    st.sampled_from([30, 86_400, 3 * 86_400]),
    st.booleans(),
    faults,
)
def test_batch_invariants_hold_once_settled(
    rows: list[Row],
    specs: list[tuple[Any, ...]],
    mode: BatchExecutionMode,
    timeout: int,
    unwind: bool,
    fault: tuple[FaultConfig, int],
) -> None:
    unwind = unwind and mode is BatchExecutionMode.COORDINATED
    market, the_batch = settle(rows, specs, mode, timeout, unwind, fault)
    ended = outcomes(market, the_batch)
    ids = [c.command_id for c in the_batch.commands]
    assert set(ended) == set(ids)  # every command has an outcome
    statuses = [ended[i][0] for i in ids]
    records = list(market.journal.records())
    (batch_end,) = [
        r for r in records if r["kind"] == "batch_ended" and r["batch_id"] == the_batch.batch_id
    ]

    if mode is BatchExecutionMode.INDEPENDENT:
        assert "SKIPPED" not in statuses
        assert "CANCELLED" not in statuses

    if mode is BatchExecutionMode.SEQUENTIAL:
        failed = [k for k, s in enumerate(statuses) if s == "FAILED"]
        if failed:
            assert all(s == "SKIPPED" for s in statuses[failed[0] + 1 :])
            for skipped in ids[failed[0] + 1 :]:
                assert not [g for g in market.ledger.groups.values() if g.command_id == skipped]
        group_of = {g.command_id: g.group_id for g in market.ledger.groups.values()}
        for k in range(len(ids) - 1):
            later = group_of.get(ids[k + 1])
            first_order = [
                r["seq"]
                for r in records
                if r["kind"] == "order_submitted" and later is not None and r["group_id"] == later
            ]
            if first_order:
                assert min(first_order) > ended[ids[k]][1]

    if mode is BatchExecutionMode.COORDINATED and batch_end["status"] == "FAILED" and unwind:
        for command_id in ids:
            if ended[command_id][0] != "SUPERSEDED":
                assert contribution(market, command_id) == 0

    # Settled: every command ended, every cancel acknowledged, so nothing of the batch works.
    assert not any(o.is_working for o in entry_orders(market, the_batch))
    replayed = Ledger(market.ledger.starting_cash, {s: Decimal(1) for s in SYMBOLS})
    replayed.replay(market.journal.events())
    assert replayed.state_digest() == market.ledger.state_digest()
