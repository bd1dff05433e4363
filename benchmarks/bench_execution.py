"""Execution-layer benchmark: the worker and the simulated venue without the strategy pipeline.

Two figures, each timed around the execution calls only (DTOs are built outside the timers):

- ``orders``: random single-command batches (NEW_TRADE market/limit/stop orders on four
  symbols, and CLOSEs of random open plans, at most 20 open) over 1-minute random-walk bars,
  a few per bar.
  Reports orders submitted per second (``submit_batch`` through the risk checks, journal,
  ledger and venue) and fills processed per second (bar opens and matching passes).
- ``batches``: COORDINATED batches of 1, 2 and 6 market legs, one per bar, each followed by a
  CLOSE batch of its plans. Reports microseconds per batch from submission to settlement
  (everything the worker and venue do for it until its orders are filled and it has ended).

    python benchmarks/bench_execution.py               # 100,000 orders, 5,000 batches per size
    python benchmarks/bench_execution.py --orders 20000 --batches 1000 --json
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from simpletrader.core.clock import SimulatedClock, ns_to_datetime
from simpletrader.core.enums import BatchExecutionMode, LegScope, OrderType, Side
from simpletrader.core.ids import IdGenerator
from simpletrader.data.bars import Bars
from simpletrader.data.instruments import Instrument
from simpletrader.dtos import (
    CausalityChain,
    EntryPlan,
    ExecutionCommand,
    ExecutionCommandBatch,
    ExecutionPlan,
    SizePlan,
)
from simpletrader.execution.connectors.simulated import CostModel, SimulatedVenue, VenueConfig
from simpletrader.execution.worker import ExecutionWorker
from simpletrader.journal.journal import Journal
from simpletrader.ledger.ledger import Ledger

NS = 1_000_000_000
START = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp()) * NS
SYMBOLS = ("A", "B", "C", "D", "E", "F")
MAX_OPEN = 20  # open plans at most, like a strategy holding a book, not an ever-growing pile


def random_walk(symbol: str, n: int, rng: np.random.Generator) -> Bars:
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 5e-4, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    wick = np.abs(rng.normal(0.0, 4e-4, n))
    return Bars(
        symbol=symbol,
        timestamps=START + np.arange(n, dtype=np.int64) * 60 * NS,
        open=np.round(open_, 2),
        high=np.round(np.maximum(open_, close) * (1 + wick), 2),
        low=np.round(np.minimum(open_, close) * (1 - wick), 2),
        close=np.round(close, 2),
        volume=np.full(n, 1e6),
        timeframe_seconds=60,
    )


class Desk:
    """A worker and a venue over random-walk bars, stepped like the backtest engine."""

    def __init__(self, n_bars: int, symbols: tuple[str, ...], seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.bars = {s: random_walk(s, n_bars, rng) for s in symbols}
        self.instruments = {
            s: Instrument(
                symbol=s, tick_size=Decimal("0.01"), lot_size=Decimal(1), min_notional=Decimal(0)
            )
            for s in symbols
        }
        self.ledger = Ledger(Decimal(10**12), {s: Decimal(1) for s in symbols}, n_bars=n_bars)
        self.ledger.attach_prices({s: b.close.data for s, b in self.bars.items()})
        self.clock = SimulatedClock(START)
        self.ids = IdGenerator(seed)
        self.dto_ids = IdGenerator(seed + 1)
        config = VenueConfig(costs=CostModel(fee_bps=Decimal(1), spread_bps=Decimal(2)))
        self.venue = SimulatedVenue(self.bars, self.instruments, self.ledger, config, self.clock)
        self.closes = {s: b.close.data for s, b in self.bars.items()}
        self.index = -1
        self.worker = ExecutionWorker(
            self.ledger,
            Journal(),
            self.venue,
            self.ids,
            self.clock,
            self.instruments,
            self.price,
        )

    def price(self, symbol: str) -> float:
        return float(self.closes[symbol][max(self.index, 0)])

    def open_bar(self) -> None:
        """Steps 1-4 of the next bar: its open, matching, reactions."""
        self.index += 1
        i = self.index
        open_ns = START + i * 60 * NS
        self.clock.set(open_ns)
        if self.worker.coordinator.busy:
            self.worker.on_bar_open(open_ns)
        if self.venue.has_working:
            self.venue.match_open(i)
        self.clock.set(open_ns + 60 * NS)

    def close_bar(self) -> None:
        self.ledger.mark(self.index)

    def new_id(self, prefix: str) -> str:
        return self.dto_ids.new(prefix, self.clock.now_ns())

    def batch(self, legs: list[dict[str, Any]], mode: BatchExecutionMode) -> ExecutionCommandBatch:
        batch_id = self.new_id("BAT")
        commands = []
        for k, leg in enumerate(legs):
            command_id = self.new_id("EXC")
            causality = CausalityChain(
                origin_id=self.new_id("TCK"), command_id=command_id, batch_id=batch_id
            )
            commands.append(
                ExecutionCommand(command_id=command_id, causality=causality, leg_index=k, **leg)
            )
        return ExecutionCommandBatch(
            batch_id=batch_id,
            directive_id=self.new_id("STR"),
            commands=tuple(commands),
            mode=mode,
            created_at=ns_to_datetime(self.clock.now_ns()),
        )

    def new_leg(
        self,
        symbol: str,
        side: Side,
        size: int,
        order_type: OrderType = OrderType.MARKET,
        level: float | None = None,
    ) -> dict[str, Any]:
        price = Decimal(repr(round(level, 2))) if level is not None else None
        return {
            "scope": LegScope.NEW_TRADE,
            "entry_plan": EntryPlan(
                plan_id=self.new_id("ENT"),
                symbol=symbol,
                direction=side,
                order_type=order_type,
                limit_price=price if order_type is OrderType.LIMIT else None,
                stop_price=price if order_type is OrderType.STOP else None,
            ),
            "size_plan": SizePlan(plan_id=self.new_id("SIZ"), target_size=Decimal(size)),
            "execution_plan": ExecutionPlan(plan_id=self.new_id("EXP")),
        }

    def close_leg(self, trade_plan_id: str) -> dict[str, Any]:
        return {
            "scope": LegScope.CLOSE_EXISTING,
            "trade_plan_id": trade_plan_id,
            "execution_plan": ExecutionPlan(plan_id=self.new_id("EXP")),
        }


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_orders(n_orders: int, per_bar: int, seed: int) -> dict[str, Any]:
    """Orders submitted per second and fills processed per second."""
    rng = random.Random(seed)
    symbols = SYMBOLS[:4]
    n_bars = 2 * n_orders // per_bar + 10  # a CLOSE of an unfilled plan sends no order
    desk = Desk(n_bars, symbols, seed)
    worker = desk.worker
    submit_s = match_s = 0.0
    book = worker.ledger.orders
    while len(book) < n_orders:
        match_s += timed(desk.open_bar)
        batches = []
        open_plans = worker.ledger.open_plans("bench")
        for _ in range(min(per_bar, n_orders - len(book))):
            if open_plans and (len(open_plans) >= MAX_OPEN or rng.random() < 0.3):
                plan = open_plans[rng.randrange(len(open_plans))]
                batches.append(
                    desk.batch([desk.close_leg(plan.trade_plan_id)], BatchExecutionMode.INDEPENDENT)
                )
            else:
                symbol = rng.choice(symbols)
                side = rng.choice((Side.BUY, Side.SELL))
                price = desk.price(symbol)
                kind = rng.random()
                if kind < 0.7:
                    leg = desk.new_leg(symbol, side, rng.randint(1, 10))
                elif kind < 0.9:
                    off = rng.uniform(0.0, 0.002) * (-1 if side is Side.BUY else 1)
                    leg = desk.new_leg(
                        symbol, side, rng.randint(1, 10), OrderType.LIMIT, price * (1 + off)
                    )
                else:
                    off = rng.uniform(0.0, 0.002) * (1 if side is Side.BUY else -1)
                    leg = desk.new_leg(
                        symbol, side, rng.randint(1, 10), OrderType.STOP, price * (1 + off)
                    )
                batches.append(desk.batch([leg], BatchExecutionMode.INDEPENDENT))

        def submit(batches: list[ExecutionCommandBatch] = batches) -> None:
            for batch in batches:
                worker.submit_batch(batch, "bench")

        submit_s += timed(submit)
        desk.close_bar()
    for _ in range(5):  # let the last orders fill
        match_s += timed(desk.open_bar)
        desk.close_bar()
    orders = len(worker.ledger.orders)
    fills = len(worker.ledger.fills)
    return {
        "orders": orders,
        "fills": fills,
        "bars": desk.index + 1,
        "submit_seconds": round(submit_s, 3),
        "match_seconds": round(match_s, 3),
        "orders_per_second": round(orders / submit_s),
        "fills_per_second": round(fills / match_s) if match_s else None,
    }


def bench_batches(legs: int, n_batches: int, seed: int) -> dict[str, Any]:
    """Microseconds per COORDINATED batch of ``legs`` market legs, submission to settlement."""
    desk = Desk(2 * n_batches + 10, SYMBOLS[:legs], seed)
    worker = desk.worker
    coordinator = worker.coordinator
    spent = 0.0
    settled = 0
    desk.open_bar()
    for _ in range(n_batches):
        legs_ = [desk.new_leg(s, Side.BUY, 5) for s in SYMBOLS[:legs]]
        batch = desk.batch(legs_, BatchExecutionMode.COORDINATED)
        spent += timed(lambda batch=batch: worker.submit_batch(batch, "bench"))  # type: ignore[misc]
        desk.close_bar()
        spent += timed(desk.open_bar)  # the legs fill at the next open and the batch settles
        if not coordinator.active and not coordinator.unsettled:
            settled += 1
        plans = worker.ledger.open_plans("bench")
        closing = desk.batch(
            [desk.close_leg(p.trade_plan_id) for p in plans], BatchExecutionMode.INDEPENDENT
        )
        spent += timed(lambda closing=closing: worker.submit_batch(closing, "bench"))  # type: ignore[misc]
        desk.close_bar()
        spent += timed(desk.open_bar)
    return {
        "legs": legs,
        "batches": n_batches,
        "settled_next_bar": settled,
        "microseconds_per_batch": round(spent / (2 * n_batches) * 1e6, 1),
        "note": "each round is one COORDINATED entry batch and one CLOSE batch; the figure is "
        "their mean",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--per-bar", type=int, default=10)
    parser.add_argument("--batches", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "orders": bench_orders(args.orders, args.per_bar, args.seed),
        "batches": [bench_batches(k, args.batches, args.seed) for k in (1, 2, 6)],
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    o = result["orders"]
    print(f"orders: {o['orders']:,} submitted, {o['fills']:,} fills over {o['bars']:,} bars")
    print(f"  submit: {o['orders_per_second']:,} orders/s ({o['submit_seconds']} s)")
    print(f"  match:  {o['fills_per_second']:,} fills/s ({o['match_seconds']} s)")
    for b in result["batches"]:
        print(
            f"batches of {b['legs']} leg(s): {b['microseconds_per_batch']} µs per batch, "
            f"submission to settlement ({b['batches']:,} rounds)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
