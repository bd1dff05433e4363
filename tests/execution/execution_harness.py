"""A small market for execution tests: hand-made bars, a venue, a worker, and the engine's
per-bar order of events (DESIGN.md §4), plus builders for commands and batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from simpletrader.core.clock import SimulatedClock, ns_to_datetime
from simpletrader.core.enums import (
    BatchExecutionMode,
    ExecutionAlgorithm,
    LegScope,
    OrderType,
    Side,
    TimeInForce,
)
from simpletrader.core.event_bus import EventBus
from simpletrader.core.ids import IdGenerator
from simpletrader.data.bars import Bars
from simpletrader.data.instruments import Instrument
from simpletrader.dtos import (
    CausalityChain,
    EntryPlan,
    ExecutionCommand,
    ExecutionCommandBatch,
    ExecutionPlan,
    ExitPlan,
    SizePlan,
)
from simpletrader.execution.connectors.simulated import SimulatedVenue, VenueConfig
from simpletrader.execution.risk import RiskLimits
from simpletrader.execution.worker import ExecutionWorker
from simpletrader.journal.journal import Journal
from simpletrader.ledger.ledger import Ledger

DAY = 86_400
T0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())  # a Monday, 00:00 UTC
NS = 1_000_000_000

Row = tuple[float, float, float, float] | tuple[float, float, float, float, float]


def bars(symbol: str, rows: Sequence[Row], step: int = DAY, start: int = T0) -> Bars:
    """Bars from (open, high, low, close[, volume]) rows, one every ``step`` seconds."""
    n = len(rows)
    volume = [r[4] if len(r) > 4 else 1_000_000.0 for r in rows]  # type: ignore[misc]
    return Bars(
        symbol=symbol,
        timestamps=np.array([(start + k * step) * NS for k in range(n)], dtype=np.int64),
        open=np.array([r[0] for r in rows], dtype=np.float64),
        high=np.array([r[1] for r in rows], dtype=np.float64),
        low=np.array([r[2] for r in rows], dtype=np.float64),
        close=np.array([r[3] for r in rows], dtype=np.float64),
        volume=np.array(volume, dtype=np.float64),
        timeframe_seconds=step,
    )


def flat(price: float, n: int) -> list[Row]:
    return [(price, price, price, price)] * n


def instrument(symbol: str, tick: str = "0.01", lot: str = "1", **over: Any) -> Instrument:
    return Instrument(
        symbol=symbol,
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        min_notional=Decimal(over.pop("min_notional", "0")),
        **over,
    )


class Market:
    """A venue and a worker over hand-made bars, stepped like the backtest engine.

    ``step()`` runs one bar: clock at the open, ``on_bar_open`` while the coordinator is busy,
    borrow, matching at the open, clock at the close, the batches queued for this bar (the
    flow), ``fill_on_close`` matching, the mark.
    """

    def __init__(
        self,
        data: dict[str, Bars],
        *,
        cash: str | int = 100_000,
        config: VenueConfig | None = None,
        instruments: dict[str, Instrument] | None = None,
        risk: RiskLimits | None = None,
        fill_on_close: bool = False,
        seed: int = 1,
    ) -> None:
        self.bars = data
        self.instruments = instruments or {s: instrument(s) for s in data}
        n = len(next(iter(data.values())))
        self.n = n
        self.bar_ns = (next(iter(data.values())).timeframe_seconds or DAY) * NS
        self.ledger = Ledger(
            Decimal(cash), {s: i.multiplier for s, i in self.instruments.items()}, n_bars=n
        )
        self.ledger.attach_prices({s: b.close.data for s, b in data.items()})
        self.journal = Journal()
        self.clock = SimulatedClock(int(next(iter(data.values())).timestamps[0]))
        self.ids = IdGenerator(seed)
        self.bus = EventBus()
        self.config = config or VenueConfig()
        self.venue = SimulatedVenue(data, self.instruments, self.ledger, self.config, self.clock)
        self.index = -1  # the bar whose close was last reached
        self.worker = ExecutionWorker(
            self.ledger,
            self.journal,
            self.venue,
            self.ids,
            self.clock,
            self.instruments,
            self.price,
            bus=self.bus,
            fill_on_close=fill_on_close,
            risk_limits=risk,
            latency_ns=self.config.latency_ns,
        )
        self.pending: dict[int, list[ExecutionCommandBatch]] = {}
        self.on_close: dict[int, Callable[[Market], None]] = {}
        self.events: list[Any] = []

    def price(self, symbol: str) -> float:
        """The last known price: the current bar's close in a flow, the last close at an open."""
        k = max(self.index, 0)
        return (
            float(self.bars[symbol].close[k])
            if self.index >= 0
            else float(self.bars[symbol].open[0])
        )

    def open_ns(self, i: int) -> int:
        return int(next(iter(self.bars.values())).timestamps[i])

    def close_ns(self, i: int) -> int:
        return self.open_ns(i) + self.bar_ns

    def at(self, i: int, batch: ExecutionCommandBatch) -> ExecutionCommandBatch:
        """Queue ``batch`` for the close of bar ``i``."""
        assert i > self.index, f"bar {i} has passed; submit() at the current bar instead"
        self.pending.setdefault(i, []).append(batch)
        return batch

    def step(self) -> None:
        i = self.index + 1
        open_ns = self.open_ns(i)
        self.clock.set(open_ns)
        worker, venue = self.worker, self.venue
        if worker.coordinator.busy:
            worker.on_bar_open(open_ns)
        if open_ns >= venue.next_charge_ns:
            venue.charge_carry(i)
        if venue.has_working:
            venue.match_open(i)
        self.index = i
        close_ns = self.close_ns(i)
        self.clock.set(close_ns)
        for batch in self.pending.pop(i, []):
            worker.submit_batch(batch, "test")
        hook = self.on_close.pop(i, None)
        if hook is not None:
            hook(self)
        if worker.fill_on_close and venue.has_working:
            venue.match_close(i, close_ns)
        self.ledger.mark(i)

    def run(self, until: int | None = None) -> Market:
        """Step through bar ``until`` (the last bar by default)."""
        last = self.n - 1 if until is None else until
        while self.index < last:
            self.step()
        return self

    def submit(self, batch: ExecutionCommandBatch) -> ExecutionCommandBatch:
        """Submit now (at the current clock)."""
        self.worker.submit_batch(batch, "test")
        return batch

    def subscribe(self, *types: type) -> list[Any]:
        for t in types:
            self.bus.subscribe(t, self.events.append)
        return self.events

    def records(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.journal.records() if r["kind"] == kind]

    def plan(self, trade_plan_id: str | None = None) -> Any:
        plans = self.ledger.plans
        return plans[trade_plan_id] if trade_plan_id else next(iter(plans.values()))

    def orders(self, group_id: str) -> list[Any]:
        return [self.ledger.orders[o] for o in self.ledger.groups[group_id].order_ids]


@dataclass
class Ids:
    """Deterministic DTO ids for tests."""

    gen: IdGenerator = field(default_factory=lambda: IdGenerator(99))
    at: int = T0 * NS

    def __call__(self, prefix: str) -> str:
        return self.gen.new(prefix, self.at)


IDS = Ids()


def causality(command_id: str, batch_id: str) -> CausalityChain:
    return CausalityChain(origin_id=IDS("TCK"), command_id=command_id, batch_id=batch_id)


def execution(
    algorithm: ExecutionAlgorithm = ExecutionAlgorithm.SINGLE,
    *,
    tif: TimeInForce = TimeInForce.GTC,
    expire_at: datetime | None = None,
    window: int | None = None,
    slices: int | None = None,
    min_fill_ratio: float = 1.0,
    max_slippage: float = 0.01,
) -> ExecutionPlan:
    return ExecutionPlan(
        plan_id=IDS("EXP"),
        algorithm=algorithm,
        time_in_force=tif,
        expire_at=expire_at,
        window_seconds=window,
        slice_count=slices,
        min_fill_ratio=min_fill_ratio,
        max_slippage_pct=max_slippage,
    )


def exits(
    stop: str | float | None = None, take: str | float | None = None, *, offsets: bool = False
) -> ExitPlan:
    return ExitPlan(
        plan_id=IDS("EXT"),
        stop_loss=Decimal(str(stop)) if stop is not None else None,
        take_profit=Decimal(str(take)) if take is not None else None,
        as_offsets=offsets,
    )


def _size(size: str | float | None, fraction: float | None) -> SizePlan:
    if fraction is not None:
        return SizePlan(plan_id=IDS("SIZ"), target_equity_fraction=fraction)
    return SizePlan(plan_id=IDS("SIZ"), target_size=Decimal(str(size)))


def new_trade(
    symbol: str,
    side: Side = Side.BUY,
    size: str | float | None = 10,
    *,
    fraction: float | None = None,
    order_type: OrderType = OrderType.MARKET,
    limit: str | float | None = None,
    stop: str | float | None = None,
    exit_plan: ExitPlan | None = None,
    plan: ExecutionPlan | None = None,
) -> dict[str, Any]:
    return {
        "scope": LegScope.NEW_TRADE,
        "entry_plan": EntryPlan(
            plan_id=IDS("ENT"),
            symbol=symbol,
            direction=side,
            order_type=order_type,
            limit_price=Decimal(str(limit)) if limit is not None else None,
            stop_price=Decimal(str(stop)) if stop is not None else None,
        ),
        "size_plan": _size(size, fraction),
        "exit_plan": exit_plan,
        "execution_plan": plan or execution(),
    }


def modify(
    trade_plan_id: str,
    symbol: str,
    side: Side,
    size: str | float | None = None,
    *,
    fraction: float | None = None,
    exit_plan: ExitPlan | None = None,
    order_type: OrderType = OrderType.MARKET,
    limit: str | float | None = None,
    plan: ExecutionPlan | None = None,
) -> dict[str, Any]:
    """A MODIFY: with ``size``/``fraction`` a size target (``side`` is the plan's entry side),
    else exit-only."""
    sized = size is not None or fraction is not None
    return {
        "scope": LegScope.MODIFY_EXISTING,
        "trade_plan_id": trade_plan_id,
        "entry_plan": EntryPlan(
            plan_id=IDS("ENT"),
            symbol=symbol,
            direction=side,
            order_type=order_type,
            limit_price=Decimal(str(limit)) if limit is not None else None,
        )
        if sized
        else None,
        "size_plan": _size(size, fraction) if sized else None,
        "exit_plan": exit_plan,
        "execution_plan": (plan or execution()) if sized else None,
    }


def close(trade_plan_id: str, plan: ExecutionPlan | None = None) -> dict[str, Any]:
    return {
        "scope": LegScope.CLOSE_EXISTING,
        "trade_plan_id": trade_plan_id,
        "execution_plan": plan or execution(),
    }


def batch(
    legs: Iterable[dict[str, Any]],
    *,
    mode: BatchExecutionMode = BatchExecutionMode.INDEPENDENT,
    timeout: int | None = None,
    unwind: bool = False,
    created_ns: int,
) -> ExecutionCommandBatch:
    """A batch of ``legs`` created at ``created_ns`` (the decision bar's close)."""
    batch_id = IDS("BAT")
    commands = []
    for i, leg in enumerate(legs):
        command_id = IDS("EXC")
        commands.append(
            ExecutionCommand(
                command_id=command_id,
                causality=causality(command_id, batch_id),
                leg_index=i,
                **leg,
            )
        )
    return ExecutionCommandBatch(
        batch_id=batch_id,
        directive_id=IDS("STR"),
        commands=tuple(commands),
        mode=mode,
        timeout_seconds=timeout,
        unwind_filled_legs=unwind,
        created_at=ns_to_datetime(created_ns),
    )


def d(value: str | int | float) -> Decimal:
    return Decimal(str(value))
